package org.ttrec.engine.scalar;

import static org.ttrec.engine.tt.TtTestUtil.heap;
import org.junit.jupiter.api.Test;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.tt.TtTestUtil;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scalar TT reference against the definition (double precision) and against dense EmbeddingBag. */
class ScalarTtTest {
    private final ScalarBackend be = new ScalarBackend();

    /** Awkward shapes: d = 2..5, D not a multiple of 4, prod(p) > N, mixed ranks. */
    static List<TtShape> shapes() {
        List<TtShape> l = new ArrayList<>();
        l.add(new TtShape(37, 6, new int[] {5, 8}, new int[] {3, 2}, new int[] {1, 4, 1}));
        l.add(new TtShape(90, 6, new int[] {4, 5, 5}, new int[] {2, 1, 3}, new int[] {1, 3, 5, 1}));
        l.add(new TtShape(60, 6, new int[] {2, 3, 2, 5}, new int[] {1, 2, 1, 3}, new int[] {1, 2, 3, 2, 1}));
        l.add(new TtShape(50, 5, new int[] {2, 2, 2, 3, 3}, new int[] {1, 1, 5, 1, 1}, new int[] {1, 2, 2, 3, 2, 1}));
        l.add(new TtShape(40, 7, new int[] {7, 7}, new int[] {7, 1}, new int[] {1, 1, 1}));
        return l;
    }

    static FloatBuf[] bufs(float[][] a) {
        FloatBuf[] b = new FloatBuf[a.length];
        for (int k = 0; k < a.length; k++) {
            b[k] = a[k] == null ? null : new org.ttrec.engine.HeapFloatBuf(a[k]);
        }
        return b;
    }

    /** Weighted/mean scale of lookup j, in double. */
    static double scale(float[] w, int j, int start, int end, Pooling pooling) {
        double s = w == null ? 1 : w[j];
        return pooling == Pooling.MEAN ? s / (end - start) : s;
    }

    /** L = sum_b gradOut[b] . out_b computed in double from the definition. */
    static double loss(TtShape s, double[][] cores, int[] idx, int[] off, int bags, float[] w, Pooling pool, float[] g) {
        double l = 0;
        for (int b = 0; b < bags; b++) {
            for (int j = off[b]; j < off[b + 1]; j++) {
                double sc = scale(w, j, off[b], off[b + 1], pool);
                for (int c = 0; c < s.dim(); c++) {
                    l += sc * g[b * s.dim() + c] * TtTestUtil.entry(s, cores, idx[j], c);
                }
            }
        }
        return l;
    }

    @Test
    void forwardEqualsDenseEmbeddingBagOverMaterialisedTable() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (TtShape s : shapes()) {
            float[][] cores = TtTestUtil.randomCores(s, 7, 0.5);
            // materialise with the independent double evaluator, then round to float
            double[] td = TtTestUtil.table(s, TtTestUtil.toDouble(cores));
            float[] table = new float[td.length];
            for (int i = 0; i < td.length; i++) {
                table[i] = (float) td[i];
            }
            for (Pooling pool : Pooling.values()) {
                for (boolean weighted : new boolean[] {false, true}) {
                    int bags = 9;
                    int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 6);
                    float[] w = weighted ? TtTestUtil.randomFloats(rnd, io[0].length) : null;
                    float[] expect = new float[bags * s.dim()];
                    be.embeddingBagForward(s.rows(), s.dim(), heap(table), heap(io[0]), heap(io[1]), bags,
                            w == null ? null : heap(w), pool, false, heap(expect), 0, s.dim());
                    // output with a leading dimension > D and accumulate into a nonzero buffer
                    int ld = s.dim() + 3;
                    float[] got = new float[bags * ld];
                    java.util.Arrays.fill(got, 5f);
                    be.ttEmbeddingBagForward(s, bufs(cores), heap(io[0]), heap(io[1]), bags,
                            w == null ? null : heap(w), pool, false, heap(got), 0, ld);
                    float[] gotAcc = new float[bags * s.dim()];
                    java.util.Arrays.fill(gotAcc, 1f);
                    be.ttEmbeddingBagForward(s, bufs(cores), heap(io[0]), heap(io[1]), bags,
                            w == null ? null : heap(w), pool, true, heap(gotAcc), 0, s.dim());
                    for (int b = 0; b < bags; b++) {
                        for (int c = 0; c < s.dim(); c++) {
                            float e = expect[b * s.dim() + c];
                            assertEquals(e, got[b * ld + c], 1e-5 * (1 + Math.abs(e)), s + " " + pool + " bag " + b);
                            assertEquals(e + 1f, gotAcc[b * s.dim() + c], 1e-5 * (2 + Math.abs(e)), s + " accumulate");
                        }
                        for (int c = s.dim(); c < ld; c++) {
                            assertEquals(5f, got[b * ld + c], "padding beyond D is untouched");
                        }
                    }
                    if (s.dim() > 0 && bags >= 3) {
                        for (int c = 0; c < s.dim(); c++) {
                            assertEquals(0f, got[ld + c], "empty bag gives zeros");
                        }
                    }
                }
            }
        }
    }

    @Test
    void accumulatedGradientsMatchFiniteDifferencesAndTheMaterialisedTableGradient() {
        SplittableRandom rnd = new SplittableRandom(2);
        for (TtShape s : shapes()) {
            float[][] cores = TtTestUtil.randomCores(s, 11, 0.7);
            double[][] cd = TtTestUtil.toDouble(cores);
            for (Pooling pool : Pooling.values()) {
                int bags = 5;
                int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 4);
                float[] w = pool == Pooling.SUM ? TtTestUtil.randomFloats(rnd, io[0].length) : null;
                float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
                float[][] grads = new float[s.cores()][];
                for (int k = 0; k < s.cores(); k++) {
                    grads[k] = new float[s.coreSize(k)];
                }
                float[][] before = TtTestUtil.copy(cores);
                be.ttEmbeddingBagBackward(s, bufs(cores), bufs(grads), heap(io[0]), heap(io[1]), bags,
                        w == null ? null : heap(w), pool, heap(g), 0, s.dim(), SparseOptimizer.accumulate());
                for (int k = 0; k < s.cores(); k++) {
                    assertEquals(0, TtTestUtil.maxAbsDiff(before[k], cores[k]), "ACCUMULATE leaves the cores alone");
                }
                // dense gradient of the materialised-table formulation
                float[] gw = new float[s.rows() * s.dim()];
                float[] table = new float[s.rows() * s.dim()];
                be.embeddingBagBackward(s.rows(), s.dim(), heap(table), heap(gw), heap(io[0]), heap(io[1]),
                        bags, w == null ? null : heap(w), pool, heap(g), 0, s.dim(), SparseOptimizer.accumulate());
                double h = 1e-3;
                for (int k = 0; k < s.cores(); k++) {
                    double scaleK = Math.max(1e-3, TtTestUtil.maxAbs(grads[k]));
                    for (int e = 0; e < s.coreSize(k); e++) {
                        double old = cd[k][e];
                        cd[k][e] = old + h;
                        double lp = loss(s, cd, io[0], io[1], bags, w, pool, g);
                        double mp = materialisedLoss(s, cd, gw);
                        cd[k][e] = old - h;
                        double lm = loss(s, cd, io[0], io[1], bags, w, pool, g);
                        double mm = materialisedLoss(s, cd, gw);
                        cd[k][e] = old;
                        double fd = (lp - lm) / (2 * h);
                        double fdm = (mp - mm) / (2 * h);
                        assertEquals(fd, grads[k][e], 2e-5 * scaleK + 1e-6, s + " " + pool + " core " + k + " entry " + e);
                        assertEquals(fdm, grads[k][e], 2e-5 * scaleK + 1e-6, s + " materialised, core " + k + " entry " + e);
                    }
                }
            }
        }
    }

    /** L' = sum_{i,j} GW[i,j] W[i,j] in double. */
    static double materialisedLoss(TtShape s, double[][] cd, float[] gw) {
        double l = 0;
        for (int i = 0; i < s.rows(); i++) {
            for (int j = 0; j < s.dim(); j++) {
                float gv = gw[i * s.dim() + j];
                if (gv != 0f) {
                    l += gv * TtTestUtil.entry(s, cd, i, j);
                }
            }
        }
        return l;
    }

    @Test
    void everyRowOfEveryCoreIsUpdatable() {
        // p_0 = 1000 is far larger than R q R = 2 * 1 * 2: the reference's launch-grid bug would
        // leave most of core 0's slices untouched.
        TtShape s = new TtShape(3000, 2, new int[] {1000, 3}, new int[] {1, 2}, new int[] {1, 2, 1});
        float[][] cores = TtTestUtil.randomCores(s, 3, 0.5);
        float[][] before = TtTestUtil.copy(cores);
        int[] idx = new int[3000];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = (i * 7919) % 3000; // a permutation: every digit of both cores
        }
        int bags = 1000;
        int[] off = new int[bags + 1];
        for (int b = 0; b <= bags; b++) {
            off[b] = 3 * b;
        }
        float[] g = TtTestUtil.randomFloats(new SplittableRandom(4), bags * 2);
        be.ttEmbeddingBagBackward(s, bufs(cores), null, heap(idx), heap(off), bags, null, Pooling.SUM,
                heap(g), 0, 2, SparseOptimizer.sgd(0.1f));
        for (int k = 0; k < 2; k++) {
            for (int digit = 0; digit < s.p(k); digit++) {
                boolean changed = false;
                for (int e = 0; e < s.sliceSize(k); e++) {
                    changed |= cores[k][digit * s.sliceSize(k) + e] != before[k][digit * s.sliceSize(k) + e];
                }
                assertTrue(changed, "core " + k + " slice " + digit + " was not updated");
            }
        }
    }

    @Test
    void fusedOptimisersEqualAccumulateThenStep() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (TtShape s : shapes()) {
            int bags = 6;
            int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 5);
            float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
            float[][] cores0 = TtTestUtil.randomCores(s, 9, 0.5);
            float[][] grads = new float[s.cores()][];
            for (int k = 0; k < s.cores(); k++) {
                grads[k] = new float[s.coreSize(k)];
            }
            be.ttEmbeddingBagBackward(s, bufs(TtTestUtil.copy(cores0)), bufs(grads), heap(io[0]), heap(io[1]),
                    bags, null, Pooling.MEAN, heap(g), 0, s.dim(), SparseOptimizer.accumulate());
            for (SparseOptimizer opt : new SparseOptimizer[] {SparseOptimizer.sgd(0.3f),
                    SparseOptimizer.adagrad(0.3f, 1e-3f), SparseOptimizer.rowwiseAdagrad(0.3f, 1e-3f)}) {
                float[][] fused = TtTestUtil.copy(cores0);
                float[][] states = new float[s.cores()][];
                float[][] states2 = new float[s.cores()][];
                for (int k = 0; k < s.cores(); k++) {
                    int n = opt.kind() == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? s.p(k) * s.rank(k) : s.coreSize(k);
                    states[k] = new float[n];
                    java.util.Arrays.fill(states[k], 0.25f);
                    states2[k] = states[k].clone();
                }
                be.ttEmbeddingBagBackward(s, bufs(fused), opt.kind() == SparseOptimizer.Kind.SGD ? null : bufs(states),
                        heap(io[0]), heap(io[1]), bags, null, Pooling.MEAN, heap(g), 0, s.dim(), opt);
                // separately: apply the optimiser to every slice with a nonzero accumulated gradient
                float[][] sep = TtTestUtil.copy(cores0);
                for (int k = 0; k < s.cores(); k++) {
                    int ss = s.sliceSize(k);
                    for (int digit = 0; digit < s.p(k); digit++) {
                        boolean touched = false;
                        for (int e = 0; e < ss; e++) {
                            touched |= grads[k][digit * ss + e] != 0f;
                        }
                        if (touched) {
                            float[] sg = java.util.Arrays.copyOfRange(grads[k], digit * ss, digit * ss + ss);
                            ScalarTt.applySlice(s, k, digit, sg, sep[k], states2[k], opt);
                        }
                    }
                    assertEquals(0, TtTestUtil.maxAbsDiff(sep[k], fused[k]), 1e-6, s + " " + opt.kind() + " core " + k);
                    if (opt.kind() != SparseOptimizer.Kind.SGD) {
                        assertEquals(0, TtTestUtil.maxAbsDiff(states2[k], states[k]), 1e-6, opt.kind() + " state " + k);
                    }
                    assertNotEquals(0, TtTestUtil.maxAbsDiff(cores0[k], fused[k]), "core " + k + " moved");
                }
            }
        }
    }

    @Test
    void badInputNamesWhatAndWhere() {
        TtShape s = shapes().get(1);
        float[][] cores = TtTestUtil.randomCores(s, 1, 0.5);
        float[] out = new float[2 * s.dim()];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                be.ttEmbeddingBagForward(s, bufs(cores), heap(new int[] {1, 90}), heap(new int[] {0, 1, 2}), 2,
                        null, Pooling.SUM, false, heap(out), 0, s.dim()));
        assertTrue(e.getMessage().contains("90") && e.getMessage().contains("position 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                be.ttEmbeddingBagForward(s, bufs(cores), heap(new int[] {-1, 3}), heap(new int[] {0, 1, 2}), 2,
                        null, Pooling.SUM, false, heap(out), 0, s.dim()));
        assertTrue(e.getMessage().contains("-1") && e.getMessage().contains("position 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                be.ttEmbeddingBagForward(s, bufs(cores), heap(new int[] {1, 3}), heap(new int[] {0, 2, 1}), 2,
                        null, Pooling.SUM, false, heap(out), 0, s.dim()));
        assertTrue(e.getMessage().contains("non-decreasing"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                be.ttEmbeddingBagForward(s, bufs(cores), heap(new int[] {1, 3}), heap(new int[] {0, 1, 3}), 2,
                        null, Pooling.SUM, false, heap(out), 0, s.dim()));
        assertTrue(e.getMessage().contains("offsets[2] = 3"), e.getMessage());
        float[][] shortCores = {cores[0], cores[1], new float[3]};
        e = assertThrows(IllegalArgumentException.class, () ->
                be.ttEmbeddingBagForward(s, bufs(shortCores), heap(new int[] {1}), heap(new int[] {0, 1}), 1,
                        null, Pooling.SUM, false, heap(out), 0, s.dim()));
        assertTrue(e.getMessage().contains("core 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                be.ttEmbeddingBagBackward(s, bufs(cores), null, heap(new int[] {1}), heap(new int[] {0, 1}), 1,
                        null, Pooling.SUM, heap(out), 0, s.dim(), SparseOptimizer.adagrad(0.1f, 1e-8f)));
        assertTrue(e.getMessage().contains("state"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                new TtShape(100, 6, new int[] {4, 5, 4}, new int[] {2, 1, 3}, new int[] {1, 2, 2, 1}));
        assertTrue(e.getMessage().contains("prod(p)=80 < N=100"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                new TtShape(80, 6, new int[] {4, 5, 4}, new int[] {2, 2, 3}, new int[] {1, 2, 2, 1}));
        assertTrue(e.getMessage().contains("prod(q)=12 != D=6"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () ->
                new TtShape(80, 6, new int[] {4, 5, 4}, new int[] {2, 1, 3}, new int[] {1, 0, 2, 1}));
        assertTrue(e.getMessage().contains("R_1 must be >= 1"), e.getMessage());
    }
}
