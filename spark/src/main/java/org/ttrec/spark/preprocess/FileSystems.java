package org.ttrec.spark.preprocess;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.util.ReflectionUtils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Hadoop file system of a path, as the distributed preprocessor reads and writes through it.
 *
 * <p>Two departures from {@code Path.getFileSystem}. The client-side checksum layer is left out:
 * on local paths it writes a {@code .NAME.crc} file next to every file, and an output folder must
 * hold exactly what {@code ttrec preprocess} writes (the shard, dictionary and metadata formats
 * carry their own CRC32C). And where Hadoop's cache of file systems cannot be used, file systems
 * are made directly: the cache is keyed by the current Hadoop user, which Hadoop 3.4 looks up with
 * {@code Subject.getSubject}, and Java 23 and later throw UnsupportedOperationException there, so
 * on those versions {@code FileSystem.get} fails for every path (Hadoop 3.5, which this module
 * brings, no longer asks that way; a cluster whose Spark still ships 3.4 does). File systems that
 * need no user (the local one) work when made directly; they are kept per scheme and authority
 * for the life of the JVM, as Hadoop's cache would keep them.
 */
final class FileSystems {
    private static final ConcurrentHashMap<String, FileSystem> DIRECT = new ConcurrentHashMap<>();
    /** Set once the cache failed: every later lookup would fail the same way. */
    private static volatile boolean cacheUnusable;

    private FileSystems() {}

    /**
     * @param p    a path
     * @param conf Hadoop settings
     * @return its file system, without a checksum layer
     * @throws IOException if the file system cannot be reached
     */
    static FileSystem of(Path p, Configuration conf) throws IOException {
        FileSystem fs = null;
        if (!cacheUnusable) {
            try {
                fs = p.getFileSystem(conf);
            } catch (UnsupportedOperationException e) {
                cacheUnusable = true;
            }
        }
        if (fs == null) {
            fs = direct(p, conf);
        }
        return fs instanceof ChecksumFileSystem c ? c.getRawFileSystem() : fs;
    }

    private static FileSystem direct(Path p, Configuration conf) throws IOException {
        URI uri = p.toUri();
        if (uri.getScheme() == null) {
            uri = FileSystem.getDefaultUri(conf);
        }
        String scheme = uri.getScheme();
        URI root = URI.create(scheme + "://" + (uri.getAuthority() == null ? "" : uri.getAuthority()) + "/");
        try {
            return DIRECT.computeIfAbsent(root.toString(), k -> {
                try {
                    Class<? extends FileSystem> c = conf.getClass("fs." + scheme + ".impl", null, FileSystem.class);
                    if (c == null && "file".equals(scheme)) {
                        // not through Hadoop's service loader, which logs a stack trace for each
                        // file system it cannot make without a user (most of them, here)
                        c = RawLocalFileSystem.class;
                    }
                    if (c == null) {
                        c = FileSystem.getFileSystemClass(scheme, conf);
                    }
                    FileSystem fs = ReflectionUtils.newInstance(c, conf);
                    fs.initialize(root, conf);
                    return fs;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
