package org.ttrec.dlrm.score;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.engine.ComputeBackend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Raw values are mapped through the model's dictionaries exactly as training mapped them, unseen
 * ones as documented, dense values transformed as training transformed them; bad input is
 * refused naming the row and the field.
 */
class ScoringInputTest {
    /** Distinct raw values per feature; with min-count 2 every second one is rare. */
    static final int[] DISTINCT = {3, 40, 300, 1999, 50};
    @TempDir
    static Path dir;
    static Dictionaries dicts;
    static int[] rows;
    static ComputeBackend be;
    static DlrmModel model;
    static ScoringModel scorer;

    @BeforeAll
    static void setUp() throws IOException {
        dicts = ScoreFixtures.dictionaries(DISTINCT, 2);
        rows = dicts.cardinalities();
        Path dictFile = dir.resolve("dictionaries.ttrd");
        dicts.write(dictFile);
        RunConfig c = ScoreFixtures.config(rows);
        be = ScoreFixtures.cpu1();
        model = ScoreFixtures.trainedModel(be, c);
        Path ck = ScoreFixtures.checkpoint(dir.resolve("ck.ttrec"), model, c);
        Path file = dir.resolve("m.ttrm");
        ModelFile.write(ck, file, dictFile, false);
        scorer = ScoringModel.load(file, ScoringOptions.defaults().withBackend("cpu"));
    }

    @AfterAll
    static void tearDown() {
        scorer.close();
        model.close();
        be.close();
    }

    @Test
    void rawValuesScoreAsTheirDictionaryIndices() {
        SplittableRandom rnd = new SplittableRandom(3);
        int n = 200, t = DISTINCT.length;
        float[] dense = ScoreFixtures.Rows.random(rnd, n, rows).dense();
        int[] raw = new int[n * t];
        int[] idx = new int[n * t];
        for (int r = 0; r < n; r++) {
            for (int f = 0; f < t; f++) {
                int i = rnd.nextInt(DISTINCT[f]);
                raw[r * t + f] = ScoreFixtures.hash(f, i);
                // min-count 2: values 0, 2, 4, ... kept as 1, 2, 3, ...; odd ones share the rare bucket 0
                idx[r * t + f] = i % 2 == 1 ? 0 : i / 2 + 1;
                assertEquals(idx[r * t + f], dicts.lookup(f, raw[r * t + f]), "the fixture's dictionaries");
            }
        }
        float[] a = new float[n], b = new float[n];
        scorer.predict(n, dense, raw, CategoricalEncoding.RAW_HASH, a);
        scorer.predict(n, dense, idx, CategoricalEncoding.INDEX, b);
        assertArrayEquals(b, a);
        // and both are what the model gives the batch the data pipeline would build
        float[] expected = model.predict(new ScoreFixtures.Rows(n, dense, idx).batch(null));
        for (int r = 0; r < n; r++) {
            assertEquals(Float.floatToRawIntBits(expected[r]), Float.floatToRawIntBits(a[r]), "row " + r);
        }
    }

    @Test
    void unseenValuesGoToTheRareBucketOrAnEmptyBag() throws IOException {
        float[] dense = new float[ScoreFixtures.DENSE];
        int t = DISTINCT.length;
        int[] raw = new int[t];
        int[] idx = new int[t];
        for (int f = 0; f < t; f++) {
            raw[f] = ScoreFixtures.hash(f, DISTINCT[f] + 7); // never seen
            idx[f] = 0; // the rare bucket
        }
        assertEquals(scorer.predict(dense, idx, CategoricalEncoding.INDEX), scorer.predict(dense, raw, CategoricalEncoding.RAW_HASH));
        // without a rare bucket (min-count 1) an unseen value is an empty bag: a zero embedding
        Dictionaries plain = ScoreFixtures.dictionaries(DISTINCT, 1);
        RunConfig c = ScoreFixtures.config(plain.cardinalities());
        try (ComputeBackend b = ScoreFixtures.cpu1(); DlrmModel m = ScoreFixtures.trainedModel(b, c)) {
            Path dictFile = dir.resolve("plain.ttrd");
            plain.write(dictFile);
            Path file = dir.resolve("plain.ttrm");
            ModelFile.write(ScoreFixtures.checkpoint(dir.resolve("plain.ttrec"), m, c), file, dictFile, false);
            try (ScoringModel s = ScoringModel.load(file, ScoringOptions.defaults().withBackend("cpu"))) {
                int[] known = new int[t];
                for (int f = 0; f < t; f++) {
                    known[f] = ScoreFixtures.hash(f, 1);
                }
                int[] mixed = known.clone();
                mixed[2] = raw[2];
                float got = s.predict(dense, mixed, CategoricalEncoding.RAW_HASH);
                // the model on a batch whose third bag is empty
                int[][] ind = new int[t][];
                int[][] off = new int[t][];
                for (int f = 0; f < t; f++) {
                    ind[f] = f == 2 ? new int[0] : new int[] {1};
                    off[f] = f == 2 ? new int[] {0, 0} : new int[] {0, 1};
                }
                float want = m.predict(new Batch(1, new float[ScoreFixtures.DENSE], new float[1], ind, off))[0];
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got));
                assertTrue(got != s.predict(dense, known, CategoricalEncoding.RAW_HASH), "the empty bag changed nothing");
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                try (ScoringModel strict = ScoringModel.load(file, ScoringOptions.defaults().withUnseen(UnseenPolicy.REJECT))) {
                    strict.predict(dense, raw, CategoricalEncoding.RAW_HASH);
                }
            });
            assertTrue(e.getMessage().contains("row 0, categorical feature 0: raw value " + String.format("%08x", raw[0])
                    + " is not in the dictionary"), e.getMessage());
        }
    }

    @Test
    void denseValuesAreTransformedAsTrainingDid() {
        // integer counts take DenseTransform's table (the same bits as log1p); negatives clip to 0
        for (float x : new float[] {0, 1, 2, 17, 65535, 65536, 1e6f, 123456789}) {
            assertEquals(Float.floatToRawIntBits(org.ttrec.dlrm.data.DenseTransform.apply((int) x)),
                    Float.floatToRawIntBits(ScoringModel.transform(x)), "x = " + x);
        }
        assertEquals(0f, ScoringModel.transform(-3));
        assertEquals((float) Math.log1p(2.5), ScoringModel.transform(2.5f));
    }

    @Test
    void badInputNamesTheRowAndTheField() {
        int t = DISTINCT.length;
        float[][] dense = {new float[13], new float[13], new float[13]};
        int[][] cat = {new int[t], new int[t], new int[t]};
        float[] out = new float[3];
        dense[1] = new float[12];
        expect("row 1: 12 dense features, the model takes 13", () -> scorer.predict(dense, cat, CategoricalEncoding.INDEX, out));
        dense[1] = new float[13];
        cat[2] = new int[t + 1];
        expect("row 2: " + (t + 1) + " categorical values, the model takes " + t,
                () -> scorer.predict(dense, cat, CategoricalEncoding.INDEX, out));
        cat[2] = new int[t];
        dense[2][4] = Float.NaN;
        expect("row 2, dense feature 4: NaN", () -> scorer.predict(dense, cat, CategoricalEncoding.INDEX, out));
        dense[2][4] = Float.POSITIVE_INFINITY;
        expect("row 2, dense feature 4: Infinity", () -> scorer.predict(dense, cat, CategoricalEncoding.INDEX, out));
        dense[2][4] = 0;
        cat[1][3] = rows[3];
        expect("row 1, categorical feature 3: index " + rows[3] + " outside [0, " + rows[3] + ")",
                () -> scorer.predict(dense, cat, CategoricalEncoding.INDEX, out));
        cat[1][3] = -1;
        expect("row 1, categorical feature 3: index -1", () -> scorer.predict(dense, cat, CategoricalEncoding.INDEX, out));
        cat[1][3] = 0;
        expect("row 2: dense features end after 6 of 13",
                () -> scorer.predict(3, new float[32], new int[3 * t], CategoricalEncoding.INDEX, out));
        expect("row 1: categorical values end after 2 of " + t,
                () -> scorer.predict(3, new float[39], new int[t + 2], CategoricalEncoding.INDEX, out));
        expect("out has room for 2", () -> scorer.predict(3, new float[39], new int[3 * t], CategoricalEncoding.INDEX, new float[2]));
        // a good call afterwards still scores (a refused call leaves nothing behind)
        scorer.predict(dense, cat, CategoricalEncoding.INDEX, out);
        assertTrue(out[0] > 0 && out[0] < 1);
    }

    private static void expect(String message, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(message), "expected '" + message + "' in: " + e.getMessage());
    }
}
