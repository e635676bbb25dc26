package org.ttrec.spark.preprocess;

import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.data.BadRowPolicy;
import org.ttrec.dlrm.data.CriteoFormatException;
import org.ttrec.dlrm.data.PreprocessOptions;
import org.ttrec.dlrm.data.Preprocessor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.ttrec.spark.preprocess.Folders.CSV;
import static org.ttrec.spark.preprocess.Folders.bothAndCompare;
import static org.ttrec.spark.preprocess.Folders.sample;

/**
 * With Spark's Kryo serializer, which clusters often configure: everything the jobs shuffle,
 * cache and collect (summaries, failures, first appearances, runs of rows) must survive it.
 */
class SparkPreprocessorKryoTest {
    private static JavaSparkContext sc;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        sc = Folders.localSpark("SparkPreprocessorKryoTest", "spark.serializer", "org.apache.spark.serializer.KryoSerializer");
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    @Test
    void sameOutputAndSameFailure() throws IOException {
        Path csv = sample(CSV, tmp);
        bothAndCompare(sc, List.of(csv), tmp.resolve("a"), PreprocessOptions.defaults().withRowsPerShard(400).withMapping(2, 0), 4);
        Path bad = tmp.resolve("bad.csv");
        String text = Files.readString(csv, StandardCharsets.ISO_8859_1);
        int cut = text.indexOf('\n', text.length() / 2) + 1;
        Files.writeString(bad, text.substring(0, cut) + "1,0,x\r\n" + text.substring(cut), StandardCharsets.ISO_8859_1);
        CriteoFormatException single = assertThrows(CriteoFormatException.class,
                () -> Preprocessor.run(List.of(bad), tmp.resolve("s"), PreprocessOptions.defaults()));
        CriteoFormatException spark = assertThrows(CriteoFormatException.class,
                () -> SparkPreprocessor.run(sc, List.of(bad.toString()), tmp.resolve("p").toString(), PreprocessOptions.defaults(), 4));
        assertEquals(single.getMessage(), spark.getMessage());
        bothAndCompare(sc, List.of(bad), tmp.resolve("b"), PreprocessOptions.defaults().withBadRows(BadRowPolicy.SKIP), 3);
    }
}
