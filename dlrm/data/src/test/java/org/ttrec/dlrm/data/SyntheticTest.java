package org.ttrec.dlrm.data;

import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticTest {
    @TempDir
    Path tmp;

    private static SyntheticConfig small(long seed) {
        return SyntheticConfig.kaggleScaled(14_000, 2000, seed);
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
        Path a = tmp.resolve("a.tsv");
        Path b = tmp.resolve("b.tsv");
        Path c = tmp.resolve("c.tsv");
        new SyntheticCriteo(small(11)).writeTsv(a, Progress.Factory.NONE);
        new SyntheticCriteo(small(11)).writeTsv(b, Progress.Factory.NONE);
        new SyntheticCriteo(small(12)).writeTsv(c, Progress.Factory.NONE);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
        // The TSV is valid raw Criteo: every row parses strictly.
        try (CriteoTextReader r = new CriteoTextReader(a, 2, BadRowPolicy.FAIL, null)) {
            assertEquals(14_000, TestData.readAll(r).size());
        }
    }

    @Test
    void teacherAucAndCtrAreInTheIntendedRange() {
        SyntheticCriteo g = new SyntheticCriteo(SyntheticConfig.kaggleScaled(140_000, 1000, 5));
        double auc = g.teacherAuc(Split.VALIDATION, 10_000);
        double ctr = g.ctr(Split.TRAIN, 20_000);
        System.out.printf("synthetic teacher AUC %.4f, CTR %.4f%n", auc, ctr);
        assertTrue(auc > 0.75 && auc < 0.85, "teacher AUC " + auc);
        assertTrue(Math.abs(ctr - 0.25) < 0.02, "CTR " + ctr);
        SyntheticCriteo sharp = new SyntheticCriteo(SyntheticConfig.kaggleScaled(140_000, 1000, 5).withTeacher(0.9, 0.25));
        assertTrue(sharp.teacherAuc(Split.VALIDATION, 10_000) > auc + 0.05);
    }

    /** A plain logistic regression on one-hot values must get well above chance: the labels are learnable. */
    @Test
    void labelsAreLearnableBelowTheTeacherCeiling() throws IOException {
        SyntheticConfig cfg = SyntheticConfig.kaggleScaled(70_000, 1000, 21);
        SyntheticCriteo g = new SyntheticCriteo(cfg);
        try (Dataset d = g.dataset()) {
            int[] card = d.cardinalities();
            float[][] w = new float[card.length][];
            for (int t = 0; t < card.length; t++) {
                w[t] = new float[card[t]];
            }
            float[] wd = new float[13];
            float[] bias = {0};
            for (int epoch = 0; epoch < 2; epoch++) {
                for (Batch b : TestData.batches(d, Split.TRAIN, 1, true, epoch)) {
                    double z = bias[0];
                    for (int j = 0; j < 13; j++) {
                        z += wd[j] * b.dense()[j];
                    }
                    for (int t = 0; t < card.length; t++) {
                        z += w[t][b.indices()[t][0]];
                    }
                    float grad = (float) (1 / (1 + Math.exp(-z)) - b.labels()[0]);
                    float lr = 0.05f;
                    bias[0] -= lr * grad;
                    for (int j = 0; j < 13; j++) {
                        wd[j] -= 0.2f * lr * grad * b.dense()[j];
                    }
                    for (int t = 0; t < card.length; t++) {
                        w[t][b.indices()[t][0]] -= lr * grad;
                    }
                }
            }
            List<Batch> val = TestData.batches(d, Split.VALIDATION, 5000, false, 0);
            int n = val.stream().mapToInt(Batch::size).sum();
            float[] scores = new float[n];
            float[] labels = new float[n];
            int k = 0;
            for (Batch b : val) {
                for (int i = 0; i < b.size(); i++, k++) {
                    double z = bias[0];
                    for (int j = 0; j < 13; j++) {
                        z += wd[j] * b.dense()[i * 13 + j];
                    }
                    for (int t = 0; t < card.length; t++) {
                        z += w[t][b.indices()[t][i]];
                    }
                    scores[k] = (float) z;
                    labels[k] = b.labels()[i];
                }
            }
            BinaryMetrics m = new BinaryMetrics();
            m.add(scores, labels, k);
            double auc = m.result().auc();
            double ceiling = g.teacherAuc(Split.VALIDATION, Long.MAX_VALUE);
            System.out.printf("logistic regression AUC %.4f, teacher ceiling %.4f%n", auc, ceiling);
            assertTrue(auc > 0.68, "learned AUC " + auc);
            assertTrue(auc < ceiling + 0.01, "learned " + auc + " above the ceiling " + ceiling);
        }
    }

    @Test
    void valuesAreSkewedAndInRange() throws IOException {
        SyntheticConfig cfg = small(3);
        try (Dataset d = Datasets.synthetic(cfg)) {
            assertEquals(12_000, d.size(Split.TRAIN));
            assertEquals(1000, d.size(Split.TEST));
            assertEquals(1000, d.size(Split.VALIDATION));
            int[] card = d.cardinalities();
            int big = 2; // table 3 (Kaggle 10M / 2000 = 5066 rows)
            assertTrue(card[big] > 5000);
            int[] hist = new int[card[big]];
            int n = 0;
            for (Batch b : TestData.batches(d, Split.TRAIN, 1000, false, 0)) {
                for (int i = 0; i < b.size(); i++) {
                    hist[b.indices()[big][i]]++; // RowDataset checks the range itself
                    n++;
                }
            }
            // Zipf 1.05: the first 1% of values take far more than 1% of the lookups.
            int top = 0;
            for (int k = 0; k < card[big] / 100; k++) {
                top += hist[k];
            }
            assertTrue(top > 0.3 * n, "top 1% share " + top + "/" + n);
        }
    }

    @Test
    void datasetIsDeterministicAndShardsMatchIt() throws IOException {
        SyntheticConfig cfg = small(9);
        Path dir = tmp.resolve("shards");
        new SyntheticCriteo(cfg).writeShards(dir, 5000, Progress.Factory.NONE);
        try (Dataset gen = Datasets.synthetic(cfg); Dataset gen2 = new SyntheticCriteo(cfg).onTheFlyDataset();
             Dataset shards = Datasets.open(dir.toString(), DatasetOptions.defaults())) {
            assertArrayEquals(gen.cardinalities(), shards.cardinalities());
            for (Split s : Split.values()) {
                List<String> a = TestData.rowKeys(TestData.batches(gen, s, 512, true, 4));
                assertEquals(a, TestData.rowKeys(TestData.batches(gen2, s, 512, true, 4))); // in memory == on the fly
                assertEquals(a, TestData.rowKeys(TestData.batches(shards, s, 512, true, 4)));
            }
        }
    }

    @Test
    void syntheticSpecString() throws IOException {
        SyntheticConfig c = Datasets.parseSynthetic("synthetic:rows=7_000,scale=500,seed=4,zipf=1.2,auc=0.75,ctr=0.3");
        assertEquals(7000, c.rows());
        assertEquals(4, c.seed());
        assertEquals(1.2, c.zipfExponent());
        assertEquals(Math.round(10131227 / 500.0), c.cardinalities()[2]);
        assertEquals(0.3, c.baseCtr());
        try (Dataset d = Datasets.open("synthetic:rows=7000,seed=4", DatasetOptions.defaults())) {
            assertEquals(6000, d.size(Split.TRAIN));
        }
        assertThrows(IllegalArgumentException.class, () -> Datasets.parseSynthetic("synthetic:rows=x"));
        assertThrows(IllegalArgumentException.class, () -> Datasets.parseSynthetic("synthetic:colour=red"));
        assertThrows(IllegalArgumentException.class, () -> Datasets.parseSynthetic("synthetics"));
        // A file that merely starts with the word is a file.
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> Datasets.open(tmp.resolve("synthetic.tsv").toString(), DatasetOptions.defaults()));
        assertThrows(java.nio.file.NoSuchFileException.class, () -> Datasets.open("synthetic.tsv", DatasetOptions.defaults()));
    }

    @Test
    void rejectsImpossibleConfigs() {
        assertThrows(IllegalArgumentException.class, () -> new SyntheticConfig(100, new int[] {1, 5}, 1, 1, 0.8, 0.25, 0));
        assertThrows(IllegalArgumentException.class, () -> SyntheticConfig.kaggleScaled(100, 0.5, 1));
        assertThrows(IllegalArgumentException.class, () -> small(1).withTeacher(0.99, 0.25));
        assertThrows(IllegalArgumentException.class, () -> small(1).withZipf(-1));
        SyntheticCriteo threeTables = new SyntheticCriteo(new SyntheticConfig(700, new int[] {5, 6, 7}, 1, 1, 0.8, 0.25, 1));
        assertThrows(IllegalArgumentException.class, () -> threeTables.writeTsv(tmp.resolve("x.tsv"), Progress.Factory.NONE));
    }
}
