package org.ttrec.spark.preprocess;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ttrec.dlrm.data.Dictionaries;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.SoftReference;

/**
 * The finished dictionaries as the second pass's tasks use them, read once per executor JVM from
 * the dictionaries file the driver wrote (not once per task: a Terabyte dictionary takes seconds
 * to load). Softly held, so that a finished run's dictionaries do not pin executor memory.
 */
final class DictionaryCache {
    private record Loaded(String path, Dictionaries dictionaries) {}

    private static SoftReference<Loaded> last = new SoftReference<>(null);

    private DictionaryCache() {}

    /**
     * @param path the dictionaries file (unique per run)
     * @param conf Hadoop settings to reach it
     * @return the dictionaries
     * @throws IOException if it cannot be read
     */
    static synchronized Dictionaries get(String path, HadoopConf conf) throws IOException {
        Loaded l = last.get();
        if (l != null && l.path().equals(path)) {
            return l.dictionaries();
        }
        Path p = new Path(path);
        FileSystem fs = FileSystems.of(p, conf.get());
        long size = fs.getFileStatus(p).getLen();
        Dictionaries d;
        try (InputStream in = new BufferedInputStream(fs.open(p), 1 << 16)) {
            d = Dictionaries.read(in, path, size);
        }
        last = new SoftReference<>(new Loaded(path, d));
        return d;
    }
}
