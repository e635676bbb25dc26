package org.ttrec.spark.preprocess;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.ttrec.dlrm.data.DatasetMetadata;
import org.ttrec.dlrm.data.PreprocessOptions;
import org.ttrec.dlrm.data.Preprocessor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Test helpers: a local Spark context, the real samples, and byte-for-byte folder comparison. */
final class Folders {
    private Folders() {}

    /** The real Kaggle CSV sample (header, CRLF, 1,999 rows). */
    static final String CSV = "criteo_kaggle_train_tiny_2k.csv";
    /** The real raw TSV sample (100 rows, no final newline). */
    static final String TSV = "criteo_kaggle_raw_sample_100.tsv";

    /** @return a local[2] context without UI, as the tests share one per class */
    static JavaSparkContext localSpark(String app, String... settings) {
        SparkConf c = new SparkConf().setMaster("local[2]").setAppName(app).set("spark.ui.enabled", "false");
        for (int i = 0; i < settings.length; i += 2) {
            c.set(settings[i], settings[i + 1]);
        }
        return new JavaSparkContext(c);
    }

    /** @return the bytes of a sample in the test resources */
    static byte[] sampleBytes(String name) throws IOException {
        try (InputStream in = Folders.class.getResourceAsStream("/criteo/" + name)) {
            if (in == null) {
                throw new IOException("test resource /criteo/" + name + " missing");
            }
            return in.readAllBytes();
        }
    }

    /** Copies a sample from the test resources into {@code dir} (once). */
    static Path sample(String name, Path dir) throws IOException {
        Path p = dir.resolve(name);
        if (!Files.exists(p)) {
            Files.write(p, sampleBytes(name));
        }
        return p;
    }

    /**
     * Runs both preprocessors on the same inputs and options, into {@code work/single} and
     * {@code work/spark}, and checks that the folders are byte-identical.
     *
     * @return the distributed run's metadata
     */
    static DatasetMetadata bothAndCompare(JavaSparkContext sc, List<Path> inputs, Path work, PreprocessOptions o,
                                          int minPartitionsPerFile) throws IOException {
        Path single = work.resolve("single");
        Path spark = work.resolve("spark");
        DatasetMetadata expected = Preprocessor.run(inputs, single, o);
        DatasetMetadata got = SparkPreprocessor.run(sc, strings(inputs), spark.toString(), o, minPartitionsPerFile);
        assertSameFolder(single, spark);
        assertEquals(expected.shards(), got.shards());
        return got;
    }

    static List<String> strings(List<Path> ps) {
        return ps.stream().map(Path::toString).toList();
    }

    /** Asserts that two folders hold the same file names with the same bytes. */
    static void assertSameFolder(Path expected, Path actual) throws IOException {
        List<String> a = names(expected);
        List<String> b = names(actual);
        assertEquals(a, b, "files of " + actual + " vs " + expected);
        assertTrue(a.contains("metadata.json") && a.contains("dictionaries.ttrd") && a.contains("shard-00000.ttrs"), a.toString());
        for (String n : a) {
            long at = Files.mismatch(expected.resolve(n), actual.resolve(n));
            if (at != -1) {
                fail(n + " differs at byte " + at + " (" + Files.size(expected.resolve(n)) + " vs "
                        + Files.size(actual.resolve(n)) + " bytes)");
            }
        }
    }

    /** @return the names of all entries of a folder (hidden ones included), sorted */
    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> out = new ArrayList<>(s.map(p -> p.getFileName().toString()).sorted().toList());
            assertFalse(out.isEmpty(), dir + " is empty");
            return out;
        }
    }
}
