package org.ttrec.engine.cpu;

import static org.ttrec.engine.tt.TtTestUtil.heap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.tt.TtTestUtil;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backward's reuse of the forward's products (SavedProducts): bit-identical to recomputing,
 * used when a forward and a backward run on one prepared batch, and refused when the cores were
 * reported changed, another batch was prepared, or a backward already stepped the cores.
 */
class ForwardReuseTest {
    private static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(3, "test");
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    /** Kernels keeping up to budget bytes of products (0: none), splitting every batch over their threads. */
    private static VectorTtKernels kernels(int threads, long budget) {
        return new VectorTtKernels(threads == 1 ? null : pool, threads, budget, 1, TtPaths.Enabled.ALL);
    }

    private static final SparseOptimizer SGD = SparseOptimizer.sgd(0.3f);

    /**
     * Steps of forward + backward on one prepared batch each, on two kernel instances, one
     * keeping the forward's products and one not (partitioned alike): same bits. Returns the
     * reusing instance's hits.
     */
    private static long trainBoth(TtShape s, int threads, VectorTtKernels reuse, VectorTtKernels plain, int bags,
                                  int perBag, int steps, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] c1 = TtTestUtil.randomCores(s, seed, 0.3);
        float[][] c2 = TtTestUtil.copy(c1);
        for (int step = 0; step < steps; step++) {
            int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, perBag);
            float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
            float[] o1 = new float[bags * s.dim()], o2 = new float[bags * s.dim()];
            reuse.prepare(s, io[0], io[1], bags);
            reuse.forward(c1, null, Pooling.SUM, false, o1, 0, s.dim());
            plain.prepare(s, io[0], io[1], bags);
            plain.forward(c2, null, Pooling.SUM, false, o2, 0, s.dim());
            assertArrayEquals(o2, o1, s + " step " + step);
            reuse.backward(c1, null, null, Pooling.MEAN, g, 0, s.dim(), SGD);
            plain.backward(c2, null, null, Pooling.MEAN, g, 0, s.dim(), SGD);
            for (int k = 0; k < s.cores(); k++) {
                assertArrayEquals(c2[k], c1[k], s + " core " + k + " step " + step + " threads " + threads);
            }
        }
        assertEquals(0, plain.reuseHits());
        return reuse.reuseHits();
    }

    /** A forward then a backward on one prepared batch reuse the products, from the first step. */
    @Test
    void reuseIsBitIdenticalToRecomputing() {
        List<TtShape> shapes = VectorTtKernelsTest.shapes();
        for (int threads : new int[] {1, 2}) {
            for (TtShape s : shapes) {
                assertEquals(4, trainBoth(s, threads, kernels(threads, 64L << 20), kernels(threads, 0), 30, 3, 4, 11),
                        s + " threads " + threads);
                WorkerPool p = threads == 1 ? null : pool;
                assertEquals(3, trainBoth(s, threads, new VectorTtKernels(p, threads, true),
                        new VectorTtKernels(p, threads, false), 25, 3, 3, 5), s + " threads " + threads + ", public");
            }
        }
    }

    /** Cores written between a forward and its backward, then reported: recomputed, same bits. */
    @Test
    void coresChangedForcesRecompute() {
        TtShape s = VectorTtKernelsTest.shapes().get(0);
        SplittableRandom rnd = new SplittableRandom(9);
        VectorTtKernels owned = kernels(1, 64L << 20), plain = kernels(1, 0);
        float[][] c1 = TtTestUtil.randomCores(s, 4, 0.3);
        float[][] c2 = TtTestUtil.copy(c1);
        int bags = 20;
        int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 2);
        float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
        float[] o = new float[bags * s.dim()];
        owned.prepare(s, io[0], io[1], bags);
        owned.forward(c1, null, Pooling.SUM, false, o, 0, s.dim());
        plain.prepare(s, io[0], io[1], bags);
        plain.forward(c2, null, Pooling.SUM, false, o, 0, s.dim());
        for (int k = 0; k < s.cores(); k++) { // e.g. a checkpoint loaded between the two calls
            for (int e = 0; e < c1[k].length; e += 3) {
                c1[k][e] += 0.25f;
                c2[k][e] += 0.25f;
            }
        }
        owned.coresChanged();
        owned.backward(c1, null, null, Pooling.SUM, g, 0, s.dim(), SGD);
        plain.backward(c2, null, null, Pooling.SUM, g, 0, s.dim(), SGD);
        assertEquals(0, owned.reuseHits(), "products of the old cores were not used");
        for (int k = 0; k < s.cores(); k++) {
            assertArrayEquals(c2[k], c1[k], "core " + k);
        }
        // the next forward keeps its products again
        owned.forward(c1, null, Pooling.SUM, false, o, 0, s.dim());
        owned.backward(c1, null, null, Pooling.SUM, g, 0, s.dim(), SGD);
        assertEquals(1, owned.reuseHits());
    }

    @Test
    void blocksBeyondTheBudgetAreRecomputed() {
        TtShape s = new TtShape(100_000, 16, new int[] {40, 50, 50}, new int[] {2, 2, 4}, new int[] {1, 8, 8, 1});
        // several thousand distinct rows = 2 blocks; 512 KB keeps one block's products (32 floats a row)
        for (long budget : new long[] {512L << 10, 64L << 20}) {
            VectorTtKernels reuse = kernels(2, budget);
            assertEquals(3, trainBoth(s, 2, reuse, kernels(2, 0), 3000, 4, 3, 12), "budget " + budget);
            int blocks = (reuse.distinctRows() + VectorTtKernels.BLOCK - 1) / VectorTtKernels.BLOCK;
            assertEquals(2, blocks);
            assertEquals(budget == 512L << 10 ? 1 : 2, reuse.keptBlocks(), "budget " + budget);
        }
    }

    /**
     * What follows a forward decides the reuse: its backward on the same prepared batch reuses;
     * after coresChanged, a new prepare (another batch, or the same one again) or a backward that
     * already stepped the cores, the products are recomputed, with the same bits as never keeping.
     */
    @Test
    void onlyTheBackwardOnTheForwardsPreparedBatchReuses() {
        TtShape s = new TtShape(1000, 16, new int[] {10, 10, 10}, new int[] {2, 2, 4}, new int[] {1, 8, 6, 1});
        SplittableRandom rnd = new SplittableRandom(5);
        int bags = 40;
        int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 2);
        int[][] other = TtTestUtil.randomBags(rnd, s.rows(), bags, 2);
        float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
        for (int change = 0; change < 5; change++) {
            VectorTtKernels reuse = kernels(1, 64L << 20), plain = kernels(1, 0);
            float[][] c1 = TtTestUtil.randomCores(s, 9, 0.3);
            float[][] c2 = TtTestUtil.copy(c1);
            float[] out = new float[bags * s.dim()];
            reuse.prepare(s, io[0], io[1], bags);
            reuse.forward(c1, null, Pooling.SUM, false, out, 0, s.dim());
            int[][] bwd = io;
            switch (change) {
                case 0 -> { } // control: the products are reused
                case 1 -> { // a used slice written, and reported
                    c1[1][(io[0][0] / 10 % 10) * s.sliceSize(1) + 3] += 0.25f;
                    c2[1][(io[0][0] / 10 % 10) * s.sliceSize(1) + 3] += 0.25f;
                    reuse.coresChanged();
                }
                case 2 -> { // another batch prepared
                    bwd = other;
                    reuse.prepare(s, other[0], other[1], bags);
                }
                case 3 -> reuse.prepare(s, io[0], io[1], bags); // the same batch, prepared again
                case 4 -> { // a first backward steps the cores; the second must not read the products
                    reuse.backward(c1, null, null, Pooling.SUM, g, 0, s.dim(), SGD);
                    plain.prepare(s, io[0], io[1], bags);
                    plain.backward(c2, null, null, Pooling.SUM, g, 0, s.dim(), SGD);
                }
                default -> throw new AssertionError();
            }
            long before = reuse.reuseHits();
            reuse.backward(c1, null, null, Pooling.SUM, g, 0, s.dim(), SGD);
            plain.prepare(s, bwd[0], bwd[1], bags);
            plain.backward(c2, null, null, Pooling.SUM, g, 0, s.dim(), SGD);
            assertEquals(change == 0 ? 1 : 0, reuse.reuseHits() - before, "change " + change);
            for (int k = 0; k < s.cores(); k++) {
                assertArrayEquals(c2[k], c1[k], "change " + change + " core " + k);
            }
        }
    }

    /**
     * A TT table of the cpu backend prepares its kernels once per batch of its lookup plan: the
     * backward after a forward on the same plan batch reuses the forward's plan and products; a
     * plan set to another batch (or the same indices set again) is prepared again. Either way the
     * cores get the bits of plain kernels prepared on the backward's own indices.
     */
    @Test
    void aTablePreparesOncePerPlanBatch() {
        TtShape s = new TtShape(50_000, 16, new int[] {20, 50, 50}, new int[] {2, 2, 4}, new int[] {1, 8, 8, 1});
        SplittableRandom rnd = new SplittableRandom(3);
        int bags = 600;
        int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 3);
        float[] g = TtTestUtil.randomFloats(rnd, bags * 16);
        float[][] c2 = TtTestUtil.randomCores(s, 2, 0.3);
        SparseOptimizer sgd = SparseOptimizer.sgd(0.5f);
        VectorTtKernels plain = kernels(1, 0);
        try (CpuBackend be = new CpuBackend(1); CpuTtTable table = (CpuTtTable) be.newTtTable("table 1", s);
             LookupPlan plan = table.newPlan()) {
            for (int k = 0; k < 3; k++) {
                table.writeCore(k, c2[k]);
            }
            FloatBuf out = be.allocFloats(bags * 16);
            int[] idx = io[0].clone();
            plan.set(idx, io[1], bags, null);
            table.forward(plan, Pooling.SUM, false, out, 0, 16);
            // the caller refills its array for the next batch: the plan holds a copy of the old one
            for (int j = 0; j < idx.length; j += 5) {
                idx[j] = rnd.nextInt(s.rows());
            }
            table.backward(plan, Pooling.SUM, be.upload(g), 0, 16, sgd);
            assertEquals(1, table.kernels().reuseHits(), "the backward of the forward's plan batch reuses it");
            plain.prepare(s, io[0], io[1], bags);
            plain.backward(c2, null, null, Pooling.SUM, g, 0, 16, sgd);
            assertCores(c2, table, "same batch");
            plan.set(idx, io[1], bags, null); // another batch: prepared again, nothing stale kept
            table.backward(plan, Pooling.SUM, be.upload(g), 0, 16, sgd);
            assertEquals(1, table.kernels().reuseHits(), "a backward on a new batch recomputes");
            plain.prepare(s, idx, io[1], bags);
            plain.backward(c2, null, null, Pooling.SUM, g, 0, 16, sgd);
            assertCores(c2, table, "new batch");
            plan.set(idx, io[1], bags, null); // the same indices set again: a new batch as far as the table knows
            table.forward(plan, Pooling.SUM, false, out, 0, 16);
            table.backward(plan, Pooling.SUM, be.upload(g), 0, 16, sgd);
            assertEquals(2, table.kernels().reuseHits());
            plain.prepare(s, idx, io[1], bags);
            plain.backward(c2, null, null, Pooling.SUM, g, 0, 16, sgd);
            assertCores(c2, table, "set again");
        }
    }

    private static void assertCores(float[][] expected, CpuTtTable table, String what) {
        for (int k = 0; k < expected.length; k++) {
            assertArrayEquals(expected[k], table.readCore(k), "core " + k + ", " + what);
        }
    }

    /**
     * Forward A, forward B, backward B, backward A (DLRM's order) on two TT tables of the cpu
     * backend: every backward reuses its own table's forward, with the bits of the backend's
     * one-shot calls, which keep nothing.
     */
    @Test
    void tablesInterleavedLikeAModelEachReuseTheirForward() {
        TtShape s = VectorTtKernelsTest.shapes().get(4);
        SplittableRandom rnd = new SplittableRandom(6);
        float[][] a2 = TtTestUtil.randomCores(s, 1, 0.3), b2 = TtTestUtil.randomCores(s, 2, 0.3);
        int bags = 50;
        try (CpuBackend be = new CpuBackend(2); CpuTtTable a = (CpuTtTable) be.newTtTable("A", s);
             CpuTtTable b = (CpuTtTable) be.newTtTable("B", s); LookupPlan pa = a.newPlan(); LookupPlan pb = b.newPlan()) {
            for (int k = 0; k < s.cores(); k++) {
                a.writeCore(k, a2[k]);
                b.writeCore(k, b2[k]);
            }
            FloatBuf[] oa = VectorTtKernelsTest.bufs(a2), ob = VectorTtKernelsTest.bufs(b2);
            FloatBuf out = be.allocFloats(bags * s.dim());
            for (int step = 0; step < 3; step++) {
                int[][] ia = TtTestUtil.randomBags(rnd, s.rows(), bags, 2), ib = TtTestUtil.randomBags(rnd, s.rows(), bags, 2);
                float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
                pa.set(ia[0], ia[1], bags, null);
                pb.set(ib[0], ib[1], bags, null);
                a.forward(pa, Pooling.SUM, false, out, 0, s.dim());
                b.forward(pb, Pooling.SUM, false, out, 0, s.dim());
                b.backward(pb, Pooling.SUM, be.upload(g), 0, s.dim(), SGD);
                a.backward(pa, Pooling.SUM, be.upload(g), 0, s.dim(), SGD);
                be.ttEmbeddingBagBackward(s, ob, null, heap(ib[0]), heap(ib[1]), bags, null, Pooling.SUM, heap(g), 0,
                        s.dim(), SGD);
                be.ttEmbeddingBagBackward(s, oa, null, heap(ia[0]), heap(ia[1]), bags, null, Pooling.SUM, heap(g), 0,
                        s.dim(), SGD);
                for (int k = 0; k < s.cores(); k++) {
                    assertArrayEquals(oa[k].toArray(), a.readCore(k), "A core " + k);
                    assertArrayEquals(ob[k].toArray(), b.readCore(k), "B core " + k);
                }
            }
            assertEquals(3, a.kernels().reuseHits());
            assertEquals(3, b.kernels().reuseHits());
        }
    }
}
