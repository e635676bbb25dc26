package org.ttrec.engine.cpu;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.tt.TtTestUtil;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backward's reuse of the forward's products (ForwardCache): bit-identical to recomputing,
 * used when the inputs are unchanged, and refused when a core, the rows or the table change
 * between forward and backward.
 */
class ForwardReuseTest {
    private static ForkJoinPool pool;

    @BeforeAll
    static void start() {
        pool = new ForkJoinPool(2);
    }

    @AfterAll
    static void stop() {
        pool.shutdown();
    }

    private static VectorTtKernels kernels(int threads, long budget) {
        return new VectorTtKernels(threads == 1 ? null : pool, threads, budget, 0, 1);
    }

    private static final SparseOptimizer SGD = SparseOptimizer.sgd(0.3f);

    /** Steps of forward + backward on two kernel instances, one reusing and one not: same bits. */
    private static long trainBoth(TtShape s, int threads, long budget, int bags, int perBag, int steps, long seed) {
        return trainBoth(s, threads, kernels(threads, budget), false, bags, perBag, steps, seed);
    }

    /** As above with the reusing instance given, its cores declared owned ({@code own}) or not. */
    private static long trainBoth(TtShape s, int threads, VectorTtKernels reuse, boolean own, int bags, int perBag,
                                  int steps, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        VectorTtKernels plain = kernels(threads, 0);
        float[][] c1 = TtTestUtil.randomCores(s, seed, 0.3);
        float[][] c2 = TtTestUtil.copy(c1);
        if (own) {
            reuse.own(c1);
        }
        for (int step = 0; step < steps; step++) {
            int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, perBag);
            float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
            float[] o1 = new float[bags * s.dim()], o2 = new float[bags * s.dim()];
            reuse.forward(s, c1, io[0], io[1], bags, null, Pooling.SUM, false, o1, 0, s.dim());
            plain.forward(s, c2, io[0], io[1], bags, null, Pooling.SUM, false, o2, 0, s.dim());
            assertArrayEquals(o2, o1, s + " step " + step);
            reuse.backward(s, c1, null, io[0], io[1], bags, null, Pooling.MEAN, g, 0, s.dim(), SGD);
            plain.backward(s, c2, null, io[0], io[1], bags, null, Pooling.MEAN, g, 0, s.dim(), SGD);
            for (int k = 0; k < s.cores(); k++) {
                assertArrayEquals(c2[k], c1[k], s + " core " + k + " step " + step + " threads " + threads);
            }
        }
        assertEquals(0, plain.reuseHits);
        return reuse.reuseHits;
    }

    @Test
    void reuseIsBitIdenticalToRecomputing() {
        List<TtShape> shapes = VectorTtKernelsTest.shapes();
        for (int threads : new int[] {1, 2}) {
            for (TtShape s : shapes) {
                long hits = trainBoth(s, threads, 64L << 20, 30, 3, 4, 11);
                // the first backward registers the table; the later three reuse
                assertEquals(3, hits, s + " threads " + threads);
            }
        }
    }

    /**
     * Owned cores (ComputeBackend.ttOwnCores): products kept from the very first forward, with no
     * snapshot, even where a checked reuse would not pay (min flops per byte set to never);
     * the same bits as recomputing.
     */
    @Test
    void ownedCoresAreReusedFromTheFirstStepWithoutChecks() {
        for (int threads : new int[] {1, 2}) {
            for (TtShape s : VectorTtKernelsTest.shapes()) {
                VectorTtKernels owned = new VectorTtKernels(threads == 1 ? null : pool, threads, 64L << 20,
                        Double.MAX_VALUE, 1);
                assertEquals(3, trainBoth(s, threads, owned, true, 25, 3, 3, 5), s + " threads " + threads);
            }
        }
    }

    /** Owned cores written between a forward and its backward, then reported: recomputed, same bits. */
    @Test
    void changedOwnedCoresAreRecomputed() {
        TtShape s = VectorTtKernelsTest.shapes().get(0);
        SplittableRandom rnd = new SplittableRandom(9);
        VectorTtKernels owned = kernels(1, 64L << 20), plain = kernels(1, 0);
        float[][] c1 = TtTestUtil.randomCores(s, 4, 0.3);
        float[][] c2 = TtTestUtil.copy(c1);
        owned.own(c1);
        int bags = 20;
        int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 2);
        float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
        float[] o = new float[bags * s.dim()];
        owned.forward(s, c1, io[0], io[1], bags, null, Pooling.SUM, false, o, 0, s.dim());
        plain.forward(s, c2, io[0], io[1], bags, null, Pooling.SUM, false, o, 0, s.dim());
        for (int k = 0; k < s.cores(); k++) { // e.g. a checkpoint loaded between the two calls
            for (int e = 0; e < c1[k].length; e += 3) {
                c1[k][e] += 0.25f;
                c2[k][e] += 0.25f;
            }
        }
        owned.changed(c1);
        owned.backward(s, c1, null, io[0], io[1], bags, null, Pooling.SUM, g, 0, s.dim(), SGD);
        plain.backward(s, c2, null, io[0], io[1], bags, null, Pooling.SUM, g, 0, s.dim(), SGD);
        assertEquals(0, owned.reuseHits, "products of the old cores were not used");
        for (int k = 0; k < s.cores(); k++) {
            assertArrayEquals(c2[k], c1[k], "core " + k);
        }
        // the next forward keeps its products again
        owned.forward(s, c1, io[0], io[1], bags, null, Pooling.SUM, false, o, 0, s.dim());
        owned.backward(s, c1, null, io[0], io[1], bags, null, Pooling.SUM, g, 0, s.dim(), SGD);
        assertEquals(1, owned.reuseHits);
    }

    @Test
    void blocksBeyondTheBudgetAreRecomputed() {
        TtShape s = new TtShape(100_000, 16, new int[] {40, 50, 50}, new int[] {2, 2, 4}, new int[] {1, 8, 8, 1});
        // several thousand distinct rows = 2 blocks; 1 MB keeps one block's products (48 floats a row)
        for (long budget : new long[] {1L << 20, 64L << 20}) {
            long hits = trainBoth(s, 2, budget, 3000, 4, 3, 12);
            assertEquals(2, hits, "budget " + budget);
        }
    }

    /** A forward, then an in-place change of the cores or other rows, then the backward. */
    @Test
    void changedInputsBetweenForwardAndBackwardAreRecomputed() {
        TtShape s = new TtShape(1000, 16, new int[] {10, 10, 10}, new int[] {2, 2, 4}, new int[] {1, 8, 6, 1});
        SplittableRandom rnd = new SplittableRandom(5);
        int bags = 40;
        int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 2);
        int[][] other = TtTestUtil.randomBags(rnd, s.rows(), bags, 2);
        float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
        int used = io[0][0];
        int i0 = used / 100, i1 = (used / 10) % 10;
        for (int change = 0; change < 5; change++) {
            VectorTtKernels reuse = kernels(1, 64L << 20), plain = kernels(1, 0);
            float[][] c1 = TtTestUtil.randomCores(s, 9, 0.3);
            float[][] c2 = TtTestUtil.copy(c1);
            float[] out = new float[bags * s.dim()];
            // register the table with one step (no reuse yet)
            reuse.forward(s, c1, io[0], io[1], bags, null, Pooling.SUM, false, out, 0, s.dim());
            reuse.backward(s, c1, null, io[0], io[1], bags, null, Pooling.SUM, g, 0, s.dim(), SGD);
            plain.backward(s, c2, null, io[0], io[1], bags, null, Pooling.SUM, g, 0, s.dim(), SGD);
            reuse.forward(s, c1, io[0], io[1], bags, null, Pooling.SUM, false, out, 0, s.dim());
            int[][] bwd = io;
            switch (change) {
                case 0 -> { } // control: nothing changes, the products are reused
                case 1 -> c1[1][i1 * s.sliceSize(1) + 3] += 0.25f; // a used middle-core slice
                case 2 -> c1[0][i0 * s.sliceSize(0)] = -c1[0][i0 * s.sliceSize(0)]; // first core
                case 3 -> { // +0 -> -0: equal as floats, different bits (and results may differ)
                    c1[1][i1 * s.sliceSize(1)] = 0f;
                    c2[1][i1 * s.sliceSize(1)] = 0f;
                    reuse.forward(s, c1, io[0], io[1], bags, null, Pooling.SUM, false, out, 0, s.dim());
                    c1[1][i1 * s.sliceSize(1)] = -0f;
                }
                case 4 -> bwd = other; // different rows
                default -> throw new AssertionError();
            }
            if (change == 1) {
                c2[1][i1 * s.sliceSize(1) + 3] += 0.25f;
            } else if (change == 2) {
                c2[0][i0 * s.sliceSize(0)] = -c2[0][i0 * s.sliceSize(0)];
            } else if (change == 3) {
                c2[1][i1 * s.sliceSize(1)] = -0f;
            }
            reuse.backward(s, c1, null, bwd[0], bwd[1], bags, null, Pooling.SUM, g, 0, s.dim(), SGD);
            plain.backward(s, c2, null, bwd[0], bwd[1], bags, null, Pooling.SUM, g, 0, s.dim(), SGD);
            assertEquals(change == 0 ? 1 : 0, reuse.reuseHits, "change " + change);
            for (int k = 0; k < s.cores(); k++) {
                assertArrayEquals(c2[k], c1[k], "change " + change + " core " + k);
            }
        }
    }

    @Test
    void tablesInterleavedLikeAModelKeepOneEntryEach() {
        // forward A, forward B, backward B, backward A (DLRM's order) on one instance
        TtShape s = VectorTtKernelsTest.shapes().get(4);
        SplittableRandom rnd = new SplittableRandom(6);
        VectorTtKernels reuse = kernels(2, 64L << 20), plain = kernels(2, 0);
        float[][] a1 = TtTestUtil.randomCores(s, 1, 0.3), b1 = TtTestUtil.randomCores(s, 2, 0.3);
        float[][] a2 = TtTestUtil.copy(a1), b2 = TtTestUtil.copy(b1);
        int bags = 50;
        for (int step = 0; step < 3; step++) {
            int[][] ia = TtTestUtil.randomBags(rnd, s.rows(), bags, 2), ib = TtTestUtil.randomBags(rnd, s.rows(), bags, 2);
            float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
            float[] out = new float[bags * s.dim()];
            for (VectorTtKernels vk : new VectorTtKernels[] {reuse, plain}) {
                float[][] a = vk == reuse ? a1 : a2, b = vk == reuse ? b1 : b2;
                vk.forward(s, a, ia[0], ia[1], bags, null, Pooling.SUM, false, out, 0, s.dim());
                vk.forward(s, b, ib[0], ib[1], bags, null, Pooling.SUM, false, out, 0, s.dim());
                vk.backward(s, b, null, ib[0], ib[1], bags, null, Pooling.SUM, g, 0, s.dim(), SGD);
                vk.backward(s, a, null, ia[0], ia[1], bags, null, Pooling.SUM, g, 0, s.dim(), SGD);
            }
            for (int k = 0; k < s.cores(); k++) {
                assertArrayEquals(a2[k], a1[k], "A core " + k);
                assertArrayEquals(b2[k], b1[k], "B core " + k);
            }
        }
        assertEquals(4, reuse.reuseHits);
        assertTrue(reuse.reuseHits > 0);
    }
}
