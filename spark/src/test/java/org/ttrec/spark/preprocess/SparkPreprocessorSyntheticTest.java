package org.ttrec.spark.preprocess;

import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.data.DatasetMetadata;
import org.ttrec.dlrm.data.PreprocessOptions;
import org.ttrec.dlrm.data.Progress;
import org.ttrec.dlrm.data.SyntheticConfig;
import org.ttrec.dlrm.data.SyntheticCriteo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ttrec.spark.preprocess.Folders.bothAndCompare;

/**
 * Criteo-shaped synthetic text of a few hundred thousand rows, in several partitions per file and
 * shards of 50,000 rows, so that partition, shard and file boundaries all fall in different places.
 */
class SparkPreprocessorSyntheticTest {
    private static final PreprocessOptions OPT = PreprocessOptions.defaults().withRowsPerShard(50_000);
    private static JavaSparkContext sc;

    @TempDir
    static Path data;
    @TempDir
    Path tmp;

    private static Path day0;
    private static Path day1;

    @BeforeAll
    static void start() throws IOException {
        sc = Folders.localSpark("SparkPreprocessorSyntheticTest");
        // Kaggle's table sizes / 200 with Kaggle's skew: many values seen once (min-count matters),
        // and tables of up to 50,000 values (max-ind-range folds them)
        day0 = data.resolve("day_0");
        new SyntheticCriteo(SyntheticConfig.kaggleScaled(180_000, 200, 1)).writeTsv(day0, Progress.Factory.NONE);
        day1 = data.resolve("day_1");
        new SyntheticCriteo(SyntheticConfig.kaggleScaled(120_000, 200, 2)).writeTsv(day1, Progress.Factory.NONE);
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    @Test
    void oneFileInSixPartitions() throws IOException {
        DatasetMetadata m = bothAndCompare(sc, List.of(day0), tmp, OPT, 6);
        assertEquals(180_000, m.rows());
        assertEquals(4, m.shards().size());
    }

    @Test
    void twoFilesWithMinCountAndMaxIndRange() throws IOException {
        DatasetMetadata m = bothAndCompare(sc, List.of(day0, day1), tmp, OPT.withMapping(2, 7919), 4);
        assertEquals(300_000, m.rows());
        assertEquals(6, m.shards().size());
        assertEquals("terabyte", m.splitRule());
        assertTrue(m.cardinalities()[2] < 7919 && m.cardinalities()[2] > 1000, "C3 is folded, with rare values");
    }

    @Test
    void twoFilesTheOtherWayWithMinCount() throws IOException {
        bothAndCompare(sc, List.of(day1, day0), tmp, OPT.withRowsPerShard(70_001).withMapping(3, 0), 3);
    }
}
