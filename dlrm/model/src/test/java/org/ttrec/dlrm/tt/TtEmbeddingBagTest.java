package org.ttrec.dlrm.tt;

import static org.ttrec.engine.tt.TtTestUtil.heap;
import org.junit.jupiter.api.Test;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.scalar.ScalarBackend;
import org.ttrec.engine.scalar.ScalarTt;
import org.ttrec.engine.tt.TtInit;
import org.ttrec.engine.tt.TtTestUtil;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TtEmbeddingBagTest {
    private final ComputeBackend be = new ScalarBackend();

    static TtShape[] shapes() {
        return new TtShape[] {
                new TtShape(37, 6, new int[] {5, 8}, new int[] {3, 2}, new int[] {1, 4, 1}),
                new TtShape(90, 6, new int[] {4, 5, 5}, new int[] {2, 1, 3}, new int[] {1, 3, 5, 1}),
                new TtShape(60, 6, new int[] {2, 3, 2, 5}, new int[] {1, 2, 1, 3}, new int[] {1, 2, 3, 2, 1}),
                new TtShape(50, 5, new int[] {2, 2, 2, 3, 3}, new int[] {1, 1, 5, 1, 1}, new int[] {1, 2, 2, 3, 2, 1}),
        };
    }

    private TtEmbeddingBag layer(TtShape s, Pooling pool, TtCacheConfig cache, long seed) {
        return new TtEmbeddingBag("table 7", be, s, pool, TtInit.normal(0.5), seed, cache);
    }

    /** Dense EmbeddingBag over the layer's materialised table. */
    private float[] dense(TtEmbeddingBag l, int[] idx, int[] off, int bags, float[] w) {
        float[] table = l.materializeAll();
        float[] out = new float[bags * l.dim()];
        be.embeddingBagForward(l.rows(), l.dim(), heap(table), heap(idx), heap(off), bags,
                w == null ? null : heap(w), l.pooling(), false, heap(out), 0, l.dim());
        return out;
    }

    private float[] fwd(TtEmbeddingBag l, int[] idx, int[] off, int bags, float[] w) {
        FloatBuf out = be.allocFloats(bags * l.dim());
        l.forward(idx, off, bags, w, out, 0, l.dim());
        return out.toArray();
    }

    @Test
    void forwardEqualsDenseOverMaterialisedTable() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (TtShape s : shapes()) {
            for (Pooling pool : Pooling.values()) {
                TtEmbeddingBag l = layer(s, pool, TtCacheConfig.OFF, 5);
                for (boolean weighted : new boolean[] {false, true}) {
                    int[][] io = TtTestUtil.randomBags(rnd, s.rows(), 8, 6);
                    float[] w = weighted ? TtTestUtil.randomFloats(rnd, io[0].length) : null;
                    float[] got = fwd(l, io[0], io[1], 8, w);
                    float[] exp = dense(l, io[0], io[1], 8, w);
                    assertEquals(0, TtTestUtil.maxAbsDiff(exp, got), 1e-5, s + " " + pool);
                }
            }
        }
    }

    @Test
    void materialiseMatchesScalarChainAndSizesAreReported() {
        TtShape s = shapes()[1];
        TtEmbeddingBag l = layer(s, Pooling.SUM, TtCacheConfig.OFF, 9);
        float[][] cores = new float[s.cores()][];
        for (int k = 0; k < s.cores(); k++) {
            cores[k] = l.table().readCore(k);
        }
        float[] all = l.materializeAll();
        for (int r = 0; r < s.rows(); r++) {
            float[] row = ScalarTt.row(s, cores, r);
            for (int c = 0; c < s.dim(); c++) {
                assertEquals(row[c], all[r * s.dim() + c]);
            }
        }
        assertEquals(s.parameterCount(), l.parameterCount());
        assertEquals(90.0 * 6 / s.parameterCount(), l.compressionRatio(), 1e-12);
        assertEquals(4 * s.parameterCount(), l.parameterBytes());
        TtEmbeddingBag big = TtEmbeddingBag.create("t", be, 10_131_227, 16, 3, 32, Pooling.SUM, 1);
        assertArrayEquals(new int[] {200, 220, 250}, big.shape().p());
        assertTrue(big.compressionRatio() > 100, big.describe());
    }

    @Test
    void trainingStepEqualsTheKernelAndAllOptimisersRun() {
        TtShape s = shapes()[2];
        SplittableRandom rnd = new SplittableRandom(4);
        int[][] io = TtTestUtil.randomBags(rnd, s.rows(), 6, 5);
        float[] g = TtTestUtil.randomFloats(rnd, 6 * s.dim());
        for (SparseOptimizer opt : new SparseOptimizer[] {SparseOptimizer.sgd(0.1f), SparseOptimizer.adagrad(0.1f, 1e-6f),
                SparseOptimizer.rowwiseAdagrad(0.1f, 1e-6f), SparseOptimizer.accumulate()}) {
            TtEmbeddingBag l = layer(s, Pooling.MEAN, TtCacheConfig.OFF, 2);
            float[][] ref = new float[s.cores()][];
            float[][] st = new float[s.cores()][];
            for (int k = 0; k < s.cores(); k++) {
                ref[k] = l.table().readCore(k);
                st[k] = new float[opt.kind() == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? s.p(k) * s.rank(k) : s.coreSize(k)];
            }
            fwd(l, io[0], io[1], 6, null);
            l.backward(heap(g), 0, s.dim(), opt);
            ScalarTt.backward(s, ref, st, io[0], io[1], 6, null, Pooling.MEAN, g, 0, s.dim(), opt);
            for (int k = 0; k < s.cores(); k++) {
                assertArrayEquals(ref[k], l.table().readCore(k), opt.kind() + " core " + k);
                if (opt.kind() != SparseOptimizer.Kind.SGD) {
                    assertArrayEquals(st[k], l.table().readState(k), opt.kind() + " state " + k);
                }
            }
        }
    }

    /** The core learning-rate scale multiplies the cores' rate only: cached rows keep the plain one. */
    @Test
    void coreLearningRateScaleAppliesToCoresNotToCachedRows() {
        TtShape s = shapes()[1];
        SplittableRandom rnd = new SplittableRandom(8);
        int[][] io = TtTestUtil.randomBags(rnd, s.rows(), 6, 4);
        float[] g = TtTestUtil.randomFloats(rnd, 6 * s.dim());
        TtEmbeddingBag scaled = layer(s, Pooling.SUM, TtCacheConfig.OFF, 3);
        TtEmbeddingBag plain = layer(s, Pooling.SUM, TtCacheConfig.OFF, 3);
        scaled.setCoreLearningRateScale(4);
        assertEquals(4.0, scaled.coreLearningRateScale());
        fwd(scaled, io[0], io[1], 6, null);
        scaled.backward(heap(g), 0, s.dim(), SparseOptimizer.sgd(0.125f));
        fwd(plain, io[0], io[1], 6, null);
        plain.backward(heap(g), 0, s.dim(), SparseOptimizer.sgd(0.5f));
        for (int k = 0; k < s.cores(); k++) {
            assertArrayEquals(plain.table().readCore(k), scaled.table().readCore(k), "core " + k);
        }
        // cached rows train at the optimiser's own rate
        TtEmbeddingBag c = layer(s, Pooling.MEAN, TtCacheConfig.rows(2, 2, 0), 4);
        c.setCoreLearningRateScale(4);
        int[][] hot = hotBatch();
        float[] gh = TtTestUtil.randomFloats(new SplittableRandom(1), 4 * s.dim());
        for (int step = 0; step < 2; step++) {
            fwd(c, hot[0], hot[1], 4, null);
            c.backward(heap(gh), 0, s.dim(), SparseOptimizer.sgd(0.5f));
        }
        assertTrue(c.cachePopulated());
        float[] before = c.materialize(new int[] {3});
        fwd(c, new int[] {3}, new int[] {0, 1}, 1, null);
        c.backward(heap(gh), 0, s.dim(), SparseOptimizer.sgd(0.5f));
        float[] after = c.materialize(new int[] {3});
        for (int j = 0; j < s.dim(); j++) {
            assertEquals(before[j] - 0.5f * gh[j], after[j], 1e-6, "cached row 3, column " + j);
        }
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> scaled.setCoreLearningRateScale(bad));
            assertTrue(e.getMessage().contains("table 7"), e.getMessage());
        }
    }

    @Test
    void badInputNamesTheTable() {
        TtEmbeddingBag l = layer(shapes()[0], Pooling.SUM, TtCacheConfig.OFF, 1);
        FloatBuf out = be.allocFloats(64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> l.forward(new int[] {3, 37}, new int[] {0, 2}, 1, null, out, 0, 6));
        assertTrue(e.getMessage().contains("table 7") && e.getMessage().contains("37")
                && e.getMessage().contains("position 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> l.forward(new int[] {-4}, new int[] {0, 1}, 1, null, out, 0, 6));
        assertTrue(e.getMessage().contains("table 7") && e.getMessage().contains("-4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> l.forward(new int[] {1, 2}, new int[] {0, 2, 1}, 2, null, out, 0, 6));
        assertTrue(e.getMessage().contains("table 7") && e.getMessage().contains("non-decreasing"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> l.forward(new int[] {1, 2}, new int[] {0, 3}, 1, null, out, 0, 6));
        assertTrue(e.getMessage().contains("table 7") && e.getMessage().contains("past the 2 indices"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> layer(shapes()[0], Pooling.SUM, TtCacheConfig.OFF, 1)
                .backward(out, 0, 6, SparseOptimizer.sgd(1f)));
        e = assertThrows(IllegalArgumentException.class,
                () -> TtEmbeddingBag.create("table 9", be, 100, 16, 3, 0, Pooling.SUM, 1));
        assertTrue(e.getMessage().contains("table 9") && e.getMessage().contains("rank"), e.getMessage());
    }

    @Test
    void saveLoadRoundTripsAndChecksTheShape() throws IOException {
        TtShape s = shapes()[1];
        TtEmbeddingBag a = layer(s, Pooling.SUM, TtCacheConfig.rows(5, 1, 0), 1);
        int[][] io = TtTestUtil.randomBags(new SplittableRandom(8), s.rows(), 5, 4);
        float[] g = TtTestUtil.randomFloats(new SplittableRandom(9), 5 * s.dim());
        for (int step = 0; step < 2; step++) {
            fwd(a, io[0], io[1], 5, null);
            a.backward(heap(g), 0, s.dim(), SparseOptimizer.adagrad(0.1f, 1e-6f));
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        a.save(new DataOutputStream(bytes));
        TtEmbeddingBag b = layer(s, Pooling.SUM, TtCacheConfig.rows(5, 1, 0), 99);
        b.load(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertArrayEquals(a.materializeAll(), b.materializeAll());
        assertArrayEquals(a.cachedRows(), b.cachedRows());
        // one more identical step gives identical results
        fwd(a, io[0], io[1], 5, null);
        a.backward(heap(g), 0, s.dim(), SparseOptimizer.adagrad(0.1f, 1e-6f));
        fwd(b, io[0], io[1], 5, null);
        b.backward(heap(g), 0, s.dim(), SparseOptimizer.adagrad(0.1f, 1e-6f));
        assertArrayEquals(a.materializeAll(), b.materializeAll());
        TtEmbeddingBag other = layer(shapes()[0], Pooling.SUM, TtCacheConfig.rows(5, 1, 0), 1);
        IOException e = assertThrows(IOException.class,
                () -> other.load(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))));
        assertTrue(e.getMessage().contains("shape"), e.getMessage());
        byte[] cut = java.util.Arrays.copyOf(bytes.toByteArray(), 200);
        TtEmbeddingBag c = layer(s, Pooling.SUM, TtCacheConfig.rows(5, 1, 0), 7);
        float[] before = c.materializeAll();
        assertThrows(IOException.class, () -> c.load(new DataInputStream(new ByteArrayInputStream(cut))));
        assertArrayEquals(before, c.materializeAll(), "a failed load leaves the layer unchanged");
    }

    // ------------------------------------------------------------------ cache

    /** Bags over a skewed set: rows 3 and 11 are the hottest. */
    static int[][] hotBatch() {
        int[] idx = {3, 11, 3, 5, 11, 3, 20, 11, 3, 40};
        int[] off = {0, 3, 3, 6, 10};
        return new int[][] {idx, off};
    }

    @Test
    void cacheOnEqualsCacheOffBeforePopulate() {
        TtShape s = shapes()[1];
        TtEmbeddingBag on = layer(s, Pooling.MEAN, TtCacheConfig.rows(2, 3, 0), 4);
        TtEmbeddingBag off = layer(s, Pooling.MEAN, TtCacheConfig.OFF, 4);
        int[][] io = hotBatch();
        float[] g = TtTestUtil.randomFloats(new SplittableRandom(1), 4 * s.dim());
        for (int step = 0; step < 2; step++) {
            assertArrayEquals(fwd(off, io[0], io[1], 4, null), fwd(on, io[0], io[1], 4, null));
            on.backward(heap(g), 0, s.dim(), SparseOptimizer.sgd(0.5f));
            off.backward(heap(g), 0, s.dim(), SparseOptimizer.sgd(0.5f));
            assertFalse(on.cachePopulated());
        }
        assertArrayEquals(off.materializeAll(), on.materializeAll());
    }

    @Test
    void populateCachesTheHottestRowsWithTheirTtValuesAndTrainsOnlyThem() {
        TtShape s = shapes()[1];
        TtEmbeddingBag l = layer(s, Pooling.MEAN, TtCacheConfig.rows(2, 2, 0), 4);
        int[][] io = hotBatch();
        float[] g = TtTestUtil.randomFloats(new SplittableRandom(1), 4 * s.dim());
        for (int step = 0; step < 2; step++) {
            fwd(l, io[0], io[1], 4, null);
            l.backward(heap(g), 0, s.dim(), SparseOptimizer.sgd(0.5f));
        }
        assertTrue(l.cachePopulated());
        assertArrayEquals(new int[] {3, 11}, l.cachedRows());
        // at populate, cached values equal the TT values of the current cores
        float[][] cores = new float[s.cores()][];
        for (int k = 0; k < s.cores(); k++) {
            cores[k] = l.table().readCore(k);
        }
        float[] cached = l.materialize(new int[] {3, 11});
        assertArrayEquals(ScalarTt.row(s, cores, 3), java.util.Arrays.copyOfRange(cached, 0, s.dim()));
        assertArrayEquals(ScalarTt.row(s, cores, 11), java.util.Arrays.copyOfRange(cached, s.dim(), 2 * s.dim()));
        // a mixed bag (cached + uncached rows) with mean pooling still divides by the full length
        float[] w = TtTestUtil.randomFloats(new SplittableRandom(2), io[0].length);
        assertEquals(0, TtTestUtil.maxAbsDiff(dense(l, io[0], io[1], 4, w), fwd(l, io[0], io[1], 4, w)), 1e-6);
        // a lookup of only cached row 3 changes only cache row 3; cores get nothing
        float[] before = l.materializeAll();
        fwd(l, new int[] {3, 3}, new int[] {0, 2}, 1, null);
        l.backward(heap(g), 0, s.dim(), SparseOptimizer.sgd(0.5f));
        for (int k = 0; k < s.cores(); k++) {
            assertArrayEquals(cores[k], l.table().readCore(k), "core " + k + " untouched by cached lookups");
        }
        float[] after = l.materializeAll();
        for (int r = 0; r < s.rows(); r++) {
            for (int c = 0; c < s.dim(); c++) {
                if (r == 3) {
                    assertEquals(before[r * s.dim() + c] - 0.5f * g[c], after[r * s.dim() + c], 1e-6);
                } else {
                    assertEquals(before[r * s.dim() + c], after[r * s.dim() + c], "row " + r);
                }
            }
        }
    }

    @Test
    void refreshKeepsLearnedValuesOfRowsThatStay() {
        TtShape s = shapes()[1];
        TtEmbeddingBag l = layer(s, Pooling.SUM, TtCacheConfig.rows(2, 1, 1), 4);
        float[] g = TtTestUtil.randomFloats(new SplittableRandom(1), 4 * s.dim());
        int[][] io = hotBatch();
        fwd(l, io[0], io[1], 4, null);
        l.backward(heap(g), 0, s.dim(), SparseOptimizer.sgd(0.5f));
        assertArrayEquals(new int[] {3, 11}, l.cachedRows());
        // train row 3 (cached) and make 40 the second hottest: 3 stays, 11 is evicted, 40 enters
        int[] idx = {3, 40, 40, 3, 3};
        int[] off = {0, 5};
        fwd(l, idx, off, 1, null);
        float[] learned3 = l.materialize(new int[] {3});
        l.backward(heap(g), 0, s.dim(), SparseOptimizer.sgd(0.5f));
        float[] expected3 = learned3.clone();
        for (int c = 0; c < s.dim(); c++) {
            expected3[c] -= 3 * 0.5f * g[c];
        }
        assertArrayEquals(new int[] {3, 40}, l.cachedRows());
        assertEquals(0, TtTestUtil.maxAbsDiff(expected3, l.materialize(new int[] {3})), 1e-6,
                "row 3 kept its learned value through the refresh");
        float[][] cores = new float[s.cores()][];
        for (int k = 0; k < s.cores(); k++) {
            cores[k] = l.table().readCore(k);
        }
        assertArrayEquals(ScalarTt.row(s, cores, 40), l.materialize(new int[] {40}), "new row starts at its TT value");
        assertArrayEquals(ScalarTt.row(s, cores, 11), l.materialize(new int[] {11}), "evicted row reads the cores");
        assertNotEquals(0, l.parameterCount() - s.parameterCount());
    }

    /** With refresh off the cache keeps its first rows: later lookups of other rows change nothing, even a forced populate. */
    @Test
    void withoutRefreshTheFirstPopulateStays() {
        TtShape s = shapes()[1];
        TtEmbeddingBag l = layer(s, Pooling.SUM, TtCacheConfig.rows(2, 1, 0), 4);
        float[] g = TtTestUtil.randomFloats(new SplittableRandom(1), 4 * s.dim());
        int[][] io = hotBatch();
        fwd(l, io[0], io[1], 4, null);
        l.backward(heap(g), 0, s.dim(), SparseOptimizer.sgd(0.5f));
        assertArrayEquals(new int[] {3, 11}, l.cachedRows());
        for (int step = 0; step < 3; step++) { // 40 is now the hottest row by far
            fwd(l, new int[] {40, 40, 40, 41, 41}, new int[] {0, 5}, 1, null);
            l.backward(heap(g), 0, s.dim(), SparseOptimizer.sgd(0.5f));
        }
        float[] before = l.materialize(new int[] {3, 11});
        l.populate();
        assertArrayEquals(new int[] {3, 11}, l.cachedRows());
        assertArrayEquals(before, l.materialize(new int[] {3, 11}), "cached values kept");
    }
}
