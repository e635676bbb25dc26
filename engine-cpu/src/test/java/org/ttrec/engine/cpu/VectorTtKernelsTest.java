package org.ttrec.engine.cpu;

import static org.ttrec.engine.tt.TtTestUtil.heap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.HeapFloatBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.scalar.ScalarBackend;
import org.ttrec.engine.tt.TtTestUtil;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** VectorTtKernels against the scalar reference on awkward shapes, at 1 and 2 threads. */
class VectorTtKernelsTest {
    private static WorkerPool pool;
    private final ScalarBackend ref = new ScalarBackend();

    @BeforeAll
    static void start() {
        pool = new WorkerPool(3, "test");
        System.out.println("VectorTtKernelsTest: vector bits " + VectorWidth.BITS + (VectorWidth.SCALAR ? " (scalar paths)" : ""));
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    static List<TtShape> shapes() {
        List<TtShape> l = new ArrayList<>();
        l.add(new TtShape(37, 6, new int[] {5, 8}, new int[] {3, 2}, new int[] {1, 4, 1}));
        l.add(new TtShape(200, 6, new int[] {8, 5, 5}, new int[] {2, 1, 3}, new int[] {1, 3, 5, 1}));
        l.add(new TtShape(60, 6, new int[] {2, 3, 2, 5}, new int[] {1, 2, 1, 3}, new int[] {1, 2, 3, 2, 1}));
        l.add(new TtShape(50, 5, new int[] {2, 2, 2, 3, 3}, new int[] {1, 1, 5, 1, 1}, new int[] {1, 2, 2, 3, 2, 1}));
        l.add(new TtShape(1000, 16, new int[] {10, 10, 10}, new int[] {2, 2, 4}, new int[] {1, 32, 32, 1}));
        l.add(new TtShape(900, 64, new int[] {9, 10, 10}, new int[] {4, 4, 4}, new int[] {1, 64, 64, 1}));
        l.add(new TtShape(500, 36, new int[] {20, 25}, new int[] {6, 6}, new int[] {1, 1, 1}));
        l.add(new TtShape(3000, 2, new int[] {1000, 3}, new int[] {1, 2}, new int[] {1, 2, 1}));
        l.add(new TtShape(400, 30, new int[] {20, 20}, new int[] {5, 6}, new int[] {1, 17, 1}));
        l.add(new TtShape(4096, 24, new int[] {16, 16, 16}, new int[] {2, 3, 4}, new int[] {1, 8, 13, 1}));
        // narrow last cores of exactly 4 and 8 columns (the 128/256-bit paths at 512 bits), with an
        // odd number of C rows and an odd rank
        l.add(new TtShape(700, 24, new int[] {7, 10, 10}, new int[] {3, 1, 8}, new int[] {1, 5, 7, 1}));
        l.add(new TtShape(700, 12, new int[] {7, 10, 10}, new int[] {1, 3, 4}, new int[] {1, 6, 9, 1}));
        l.add(new TtShape(2000, 40, new int[] {10, 10, 20}, new int[] {5, 1, 8}, new int[] {1, 16, 33, 1}));
        // middle slice 7 x 64: slice-gradient rows in fours, then a pair, then a single
        l.add(new TtShape(500, 16, new int[] {8, 8, 8}, new int[] {2, 2, 4}, new int[] {1, 7, 32, 1}));
        // Kaggle's largest table with small ranks: row digits near 2^24 (the reciprocal-based split)
        l.add(new TtShape(10_131_227, 16, new int[] {200, 220, 250}, new int[] {2, 2, 4}, new int[] {1, 4, 3, 1}));
        return l;
    }

    /** One optimiser of each kind, for tests that compare two kernel paths on all of them. */
    static SparseOptimizer[] pathOptimisers() {
        return new SparseOptimizer[] {SparseOptimizer.sgd(0.3f),
                new SparseOptimizer(SparseOptimizer.Kind.ADAGRAD, 0.2f, 1e-3f),
                new SparseOptimizer(SparseOptimizer.Kind.ROWWISE_ADAGRAD, 0.2f, 1e-3f),
                new SparseOptimizer(SparseOptimizer.Kind.ACCUMULATE, 0f, 0f)};
    }

    /** Zeroed optimiser state per core: one float per slice row for row-wise Adagrad, else per weight. */
    static float[][] states(TtShape s, SparseOptimizer opt) {
        float[][] st = new float[s.cores()][];
        for (int k = 0; k < s.cores(); k++) {
            st[k] = new float[opt.kind() == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? s.p(k) * s.rank(k) : s.coreSize(k)];
        }
        return st;
    }

    static FloatBuf[] bufs(float[][] a) {
        FloatBuf[] b = new FloatBuf[a.length];
        for (int k = 0; k < a.length; k++) {
            b[k] = a[k] == null ? null : new HeapFloatBuf(a[k]);
        }
        return b;
    }

    /**
     * Kernels that keep their forward's products and split every call over all their threads,
     * however small (so 2 threads test the split).
     */
    static VectorTtKernels kernels(int threads) {
        return kernels(threads, TtPaths.Enabled.ALL);
    }

    /** As {@link #kernels(int)} with only the given variants enabled (the test-only seam). */
    static VectorTtKernels kernels(int threads, TtPaths.Enabled enabled) {
        return new VectorTtKernels(threads == 1 ? null : pool, threads, SavedProducts.BUDGET, 1, enabled);
    }

    /** Every variant but the direct single-lookup rows. */
    static final TtPaths.Enabled NO_DIRECT_ROWS = new TtPaths.Enabled(false, true, true, true, true, true);
    /** Every variant but the dense (slot-order) reduce of levels 0 and d-1. */
    static final TtPaths.Enabled NO_DENSE_REDUCE = new TtPaths.Enabled(true, false, true, true, true, true);
    /** Levels 0 and d-1 summed in the dense reduce phase, not in the chain. */
    static final TtPaths.Enabled NO_SUMS_IN_CHAIN = new TtPaths.Enabled(true, true, false, true, false, true);
    /** Every variant but lastBack4. */
    static final TtPaths.Enabled NO_FUSED_LAST = new TtPaths.Enabled(true, true, true, false, true, true);
    /** Every variant but the ring. */
    static final TtPaths.Enabled NO_RING = new TtPaths.Enabled(true, true, true, true, true, false);

    /** A forward on a batch of its own: prepare, then forward. */
    static void forward(VectorTtKernels vk, TtShape s, float[][] cores, int[] idx, int[] off, int bags, float[] w,
                        Pooling pooling, boolean accumulate, float[] out, int outOff, int ldOut) {
        vk.prepare(s, idx, off, bags);
        vk.forward(cores, w, pooling, accumulate, out, outOff, ldOut);
    }

    /** A backward on a batch of its own: prepare, then backward. */
    static void backward(VectorTtKernels vk, TtShape s, float[][] cores, float[][] states, int[] idx, int[] off,
                         int bags, float[] w, Pooling pooling, float[] g, int gOff, int ldGrad, SparseOptimizer opt) {
        vk.prepare(s, idx, off, bags);
        vk.backward(cores, states, w, pooling, g, gOff, ldGrad, opt);
    }

    /** A training step: forward and backward on one prepared batch (the backward reads the forward's products). */
    static void step(VectorTtKernels vk, TtShape s, float[][] cores, float[][] states, int[] idx, int[] off, int bags,
                     float[] w, Pooling pooling, float[] out, float[] g, int off0, int ld, SparseOptimizer opt) {
        vk.prepare(s, idx, off, bags);
        vk.forward(cores, w, pooling, false, out, off0, ld);
        vk.backward(cores, states, w, pooling, g, off0, ld, opt);
    }

    /**
     * With the default policy a small call stays on one partition (a fork and join per phase cost
     * more than they save there): 2 threads give the 1-thread bits; a call with enough distinct rows
     * is split and still matches the reference.
     */
    @Test
    void smallCallsStayOnOnePartitionLargeOnesSplit() {
        SplittableRandom rnd = new SplittableRandom(5);
        TtShape s = new TtShape(1_000_000, 16, new int[] {100, 100, 100}, new int[] {2, 2, 4}, new int[] {1, 8, 8, 1});
        for (int bags : new int[] {100, 4 * VectorTtKernels.MIN_ROWS_PER_THREAD}) {
            float[][] c1 = TtTestUtil.randomCores(s, 3, 0.3);
            float[][] c2 = new float[c1.length][];
            float[][] c0 = new float[c1.length][];
            for (int k = 0; k < c1.length; k++) {
                c2[k] = c1[k].clone();
                c0[k] = c1[k].clone();
            }
            int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 4);
            float[] o1 = new float[bags * 16], o2 = new float[bags * 16], g = TtTestUtil.randomFloats(rnd, bags * 16);
            VectorTtKernels one = new VectorTtKernels(null, 1, true), two = new VectorTtKernels(pool, 2, true);
            step(one, s, c1, null, io[0], io[1], bags, null, Pooling.SUM, o1, g, 0, 16, SparseOptimizer.sgd(0.1f));
            step(two, s, c2, null, io[0], io[1], bags, null, Pooling.SUM, o2, g, 0, 16, SparseOptimizer.sgd(0.1f));
            boolean same = java.util.Arrays.equals(o1, o2);
            for (int k = 0; k < c1.length; k++) {
                same &= java.util.Arrays.equals(c1[k], c2[k]);
            }
            if (bags == 100) {
                assertEquals(1, two.parts(), "partitions of a 100-bag call");
                assertTrue(same, "100 bags on 2 threads should run as one partition, bit for bit");
            } else {
                assertEquals(2, two.parts(), "partitions of a " + bags + "-bag call");
            }
            // either way the result matches the scalar reference
            float[] exp = new float[bags * 16];
            ref.ttEmbeddingBagForward(s, bufs(c0), heap(io[0]), heap(io[1]), bags, null, Pooling.SUM, false,
                    heap(exp), 0, 16);
            assertEquals(0, TtTestUtil.maxAbsDiff(exp, o2), 1e-5 * (1 + TtTestUtil.maxAbs(exp)), "forward, " + bags + " bags");
        }
    }

    /**
     * The small products behind the chain on awkward sizes: dotsAdd (16 dot products per
     * transpose-and-add tree at 16 lanes), dotsT and the 4- and 8-column narrow products, against
     * double precision.
     */
    @Test
    void smallProductsMatchDoublePrecision() {
        SplittableRandom rnd = new SplittableRandom(11);
        float[] red = new float[64];
        for (int m : new int[] {1, 2, 3, 4, 5, 8, 9}) {
            for (int k : new int[] {1, 5, 16, 17, 32, 33, 64, 70}) {
                for (int n : new int[] {1, 4, 8, 15, 16, 17, 32, 40}) {
                    float[] a = TtTestUtil.randomFloats(rnd, 3 + m * k);
                    float[] b = TtTestUtil.randomFloats(rnd, 2 + n * k);
                    float[] c0 = TtTestUtil.randomFloats(rnd, 1 + m * n);
                    // dotsAdd: C += A @ B^T, A at offset 3, B at 2, C at 1
                    float[] c = c0.clone();
                    TtDotKernels.dotsAdd(m, k, n, a, 3, b, 2, c, 1, red);
                    float[] again = c0.clone();
                    TtDotKernels.dotsAdd(m, k, n, a, 3, b, 2, again, 1, red);
                    assertTrue(java.util.Arrays.equals(c, again), "dotsAdd repeatable");
                    for (int r = 0; r < m; r++) {
                        for (int j = 0; j < n; j++) {
                            double e = c0[1 + r * n + j];
                            double scale = 1;
                            for (int t = 0; t < k; t++) {
                                e += (double) a[3 + r * k + t] * b[2 + j * k + t];
                                scale += Math.abs((double) a[3 + r * k + t] * b[2 + j * k + t]);
                            }
                            assertEquals(e, c[1 + r * n + j], 2e-6 * scale, "dotsAdd m=" + m + " k=" + k + " n=" + n
                                    + " at (" + r + "," + j + ")");
                        }
                    }
                    // C = A @ B with B k x n row-major: gemmRowsN4/N8 for n = 4/8, dotsT on B^T
                    float[] bkn = TtTestUtil.randomFloats(rnd, 2 + k * n);
                    float[] bt = new float[n * k];
                    for (int t = 0; t < k; t++) {
                        for (int j = 0; j < n; j++) {
                            bt[j * k + t] = bkn[2 + t * n + j];
                        }
                    }
                    float[] d = new float[1 + m * n];
                    if (n == 4) {
                        TtMicroKernels.gemmRowsN4(m, k, a, 3, bkn, 2, d, 1);
                    } else if (n == 8) {
                        TtMicroKernels.gemmRowsN8(m, k, a, 3, bkn, 2, d, 1);
                    } else {
                        TtDotKernels.dotsT(m, k, n, a, 3, bt, 0, d, 1, red);
                    }
                    for (int r = 0; r < m; r++) {
                        for (int j = 0; j < n; j++) {
                            double e = 0, scale = 1;
                            for (int t = 0; t < k; t++) {
                                e += (double) a[3 + r * k + t] * bkn[2 + t * n + j];
                                scale += Math.abs((double) a[3 + r * k + t] * bkn[2 + t * n + j]);
                            }
                            assertEquals(e, d[1 + r * n + j], 2e-6 * scale, "A@B m=" + m + " k=" + k + " n=" + n
                                    + " at (" + r + "," + j + ")");
                        }
                    }
                }
            }
        }
    }

    /**
     * The fused SGD step (for middle slices, straight from the accumulators) has the bits of
     * "accumulate the gradient, then w = fma(g, -lr, w)" for every entry of every core, at the
     * Kaggle D16 shape's layout (q R = 64 columns) and at batch sizes where slices are touched
     * once and many times.
     */
    /** The reciprocal-based division of the sort key equals integer division over the whole int range. */
    /** Two groups' dP_0 in one 4-row product: the bits of two 2-row products, on odd and even k. */
    @Test
    void pairedRowProductsEqualTwoSingleProducts() {
        if (!VectorWidth.SIXTEEN) {
            System.out.println("pairedRowProductsEqualTwoSingleProducts: skipped, the paired product needs 16-lane vectors (bits "
                    + VectorWidth.LANES * 32 + ")");
            org.junit.jupiter.api.Assumptions.abort("needs 16-lane vectors");
        }
        SplittableRandom rnd = new SplittableRandom(4);
        for (int k : new int[] {1, 7, 64, 65}) {
            for (int n : new int[] {32, 64}) {
                float[] a = TtTestUtil.randomFloats(rnd, 5 * k + 3);
                float[] b = TtTestUtil.randomFloats(rnd, k * n + 1);
                float[] c = TtTestUtil.randomFloats(rnd, 5 * n + 2);
                float[] d = c.clone();
                TtMicroKernels.gemmRowsAdd2x2(k, n, a, 1, 3 * k + 2, b, 1, c, 2, 3 * n + 1);
                TtMicroKernels.gemmRowsAdd(2, k, n, a, 1, b, 1, d, 2);
                TtMicroKernels.gemmRowsAdd(2, k, n, a, 3 * k + 2, b, 1, d, 3 * n + 1);
                assertArrayEquals(d, c, "k=" + k + " n=" + n);
            }
        }
    }

    /**
     * untranspose4 (the q = 4 last level's summed-transposed gradient turned back with lane
     * shuffles) has the bits of the scalar loop "0f + GT[c][a]" it replaced, -0 included.
     */
    @Test
    void untranspose4EqualsTheScalarLoop() {
        if (!VectorWidth.SIXTEEN) {
            System.out.println("untranspose4EqualsTheScalarLoop: skipped, untranspose4 needs 16-lane vectors (bits "
                    + VectorWidth.LANES * 32 + ")");
            org.junit.jupiter.api.Assumptions.abort("needs 16-lane vectors");
        }
        SplittableRandom rnd = new SplittableRandom(6);
        for (int k : new int[] {16, 32, 64, 112}) {
            float[] g = TtTestUtil.randomFloats(rnd, 3 + 4 * k);
            for (int e = 0; e < g.length; e += 7) {
                g[e] = -0f;
            }
            float[] got = TtTestUtil.randomFloats(rnd, 4 * k), exp = new float[4 * k];
            TtMicroKernels.untranspose4(k, g, 3, got);
            for (int a = 0; a < k; a++) {
                for (int c = 0; c < 4; c++) {
                    exp[a * 4 + c] = 0f + g[3 + c * k + a];
                }
            }
            assertArrayEquals(exp, got, "k=" + k);
        }
    }

    @Test
    void pairedForwardProductsEqualTwoSingleProducts() {
        if (VectorWidth.SCALAR) {
            System.out.println("pairedForwardProductsEqualTwoSingleProducts: skipped, scalar paths (bits 0) never pair");
            org.junit.jupiter.api.Assumptions.abort("scalar paths");
        }
        int lanes = VectorWidth.LANES;
        SplittableRandom rnd = new SplittableRandom(5);
        for (int k : new int[] {1, 7, 32, 33}) {
            for (int n : new int[] {4 * lanes, 8 * lanes}) {
                float[] a = TtTestUtil.randomFloats(rnd, 5 * k + 3);
                float[] b = TtTestUtil.randomFloats(rnd, k * n + 1);
                float[] c = TtTestUtil.randomFloats(rnd, 5 * n + 2);
                float[] d = c.clone();
                TtMicroKernels.gemmRows2x2(k, n, a, 1, 3 * k + 2, b, 1, c, 2, 3 * n + 1);
                TtMicroKernels.gemmRows(2, k, n, a, 1, b, 1, d, 2);
                TtMicroKernels.gemmRows(2, k, n, a, 3 * k + 2, b, 1, d, 3 * n + 1);
                assertArrayEquals(d, c, "k=" + k + " n=" + n);
            }
        }
        // and the forward of a D16-like table pairs groups on the same middle slice
        TtShape s = new TtShape(1000, 16, new int[] {10, 10, 10}, new int[] {2, 2, 4}, new int[] {1, 32, 32, 1});
        float[][] cores = TtTestUtil.randomCores(s, 3, 0.3);
        int[][] io = TtTestUtil.randomBags(rnd, s.rows(), 300, 1);
        float[] exp = new float[300 * 16], got = new float[300 * 16];
        ref.ttEmbeddingBagForward(s, bufs(cores), heap(io[0]), heap(io[1]), 300, null, Pooling.SUM, false,
                heap(exp), 0, 16);
        VectorTtKernels vk = new VectorTtKernels(null, 1, false);
        forward(vk, s, cores, io[0], io[1], 300, null, Pooling.SUM, false, got, 0, 16);
        assertTrue(vk.pairedForwards() > 0, "no paired forward products");
        assertEquals(0, TtTestUtil.maxAbsDiff(exp, got), 1e-5 * (1 + TtTestUtil.maxAbs(exp)));
    }

    @Test
    void quotientIsExactIntegerDivision() {
        SplittableRandom rnd = new SplittableRandom(2);
        long[] edge = {0, 1, 2, 3, 7, 199, 200, 201, 220, 250, 55_000, 10_131_227, Integer.MAX_VALUE - 1, Integer.MAX_VALUE};
        for (int t = 0; t < 200_000; t++) {
            long x = t < edge.length * edge.length ? edge[t % edge.length] : rnd.nextLong(Integer.MAX_VALUE + 1L);
            long d = t < edge.length * edge.length ? Math.max(1, edge[t / edge.length])
                    : (t % 3 == 0 ? 1 + rnd.nextInt(300) : 1 + rnd.nextLong(Integer.MAX_VALUE));
            // near multiples of d, where a rounded reciprocal is off by one
            if (t % 5 == 0 && d > 1) {
                x = Math.min(Integer.MAX_VALUE, (x / d) * d + (t % 2 == 0 ? 0 : d - 1));
            }
            assertEquals(x / d, TtBatchPlan.quotient(x, d, 1.0 / d), x + " / " + d);
        }
    }

    @Test
    void fusedSgdStepEqualsAccumulatedGradientThenStep() {
        TtShape s = new TtShape(50_000, 16, new int[] {20, 50, 50}, new int[] {2, 2, 4}, new int[] {1, 32, 32, 1});
        float lr = 0.37f;
        for (int bags : new int[] {40, 1500}) {
            SplittableRandom rnd = new SplittableRandom(bags);
            float[][] c1 = TtTestUtil.randomCores(s, 8, 0.3);
            float[][] c2 = TtTestUtil.copy(c1);
            float[][] st = new float[3][];
            for (int k = 0; k < 3; k++) {
                st[k] = new float[s.coreSize(k)];
            }
            int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 2);
            float[] g = TtTestUtil.randomFloats(rnd, bags * 16);
            float[] o = new float[bags * 16];
            VectorTtKernels a = new VectorTtKernels(null, 1, false), b = new VectorTtKernels(null, 1, false);
            step(a, s, c1, null, io[0], io[1], bags, null, Pooling.SUM, o, g, 0, 16, SparseOptimizer.sgd(lr));
            step(b, s, c2, st, io[0], io[1], bags, null, Pooling.SUM, o, g, 0, 16,
                    new SparseOptimizer(SparseOptimizer.Kind.ACCUMULATE, 0f, 0f));
            // SGD updates each level-1 slice right after its dP_0 (finishRun), ACCUMULATE in the reduce
            assertEquals(VectorWidth.SCALAR, a.fusedRuns() == 0, "level-1 slices updated in the chain: " + a.fusedRuns());
            assertEquals(0, b.fusedRuns());
            for (int k = 0; k < 3; k++) {
                int changed = 0;
                for (int e = 0; e < c2[k].length; e++) {
                    float w = Math.fma(st[k][e], -lr, c2[k][e]);
                    changed += w != c2[k][e] ? 1 : 0;
                    c2[k][e] = w;
                }
                assertTrue(changed > 0, "core " + k + " trained");
                assertArrayEquals(c2[k], c1[k], "core " + k + ", " + bags + " bags");
            }
            // and the accumulated gradient is the reference's (at 1500 bags the middle slices are
            // used ~60 times each, so the backward runs on transposed slices)
            float[][] c3 = TtTestUtil.randomCores(s, 8, 0.3);
            float[][] st3 = new float[3][];
            for (int k = 0; k < 3; k++) {
                st3[k] = new float[s.coreSize(k)];
            }
            ScalarBackend ref = new ScalarBackend();
            ref.ttEmbeddingBagBackward(s, bufs(c3), bufs(st3), heap(io[0]), heap(io[1]), bags, null,
                    Pooling.SUM, heap(g), 0, 16, new SparseOptimizer(SparseOptimizer.Kind.ACCUMULATE, 0f, 0f));
            for (int k = 0; k < 3; k++) {
                assertEquals(0, TtTestUtil.maxAbsDiff(st3[k], st[k]), 1e-5 * (1 + TtTestUtil.maxAbs(st3[k])),
                        "core " + k + " gradient, " + bags + " bags");
            }
        }
    }

    @Test
    void slotOrderReduceEqualsSliceListReduce() {
        long level0Chains = 0;
        // levels 0 and d-1 summed into the dense gradient in slot order (reduceDense, rowGradT4 at
        // q_d = 4) against the per-slice sums from sorted slice lists: same bits, every optimiser
        SplittableRandom rnd = new SplittableRandom(5);
        SparseOptimizer[] opts = pathOptimisers();
        for (int threads : new int[] {1, 2}) {
            for (TtShape s : shapes()) {
                for (SparseOptimizer opt : opts) {
                    float[][] c1 = TtTestUtil.randomCores(s, 11, 0.3);
                    float[][] c2 = TtTestUtil.copy(c1), c3 = TtTestUtil.copy(c1);
                    float[][] st1 = states(s, opt), st2 = states(s, opt), st3 = states(s, opt);
                    int bags = 1 + rnd.nextInt(300);
                    int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 5);
                    float[] w = TtTestUtil.randomFloats(rnd, io[0].length);
                    float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
                    float[] o = new float[bags * s.dim()];
                    // a: the last level summed in the chain (one partition), c: in reduceDense
                    VectorTtKernels a = kernels(threads), b = kernels(threads, NO_DENSE_REDUCE);
                    VectorTtKernels c = kernels(threads, NO_SUMS_IN_CHAIN);
                    for (int rep = 0; rep < 2; rep++) { // the second call finds the dense gradient zero again
                        step(a, s, c1, st1, io[0], io[1], bags, w, Pooling.SUM, o, g, 0, s.dim(), opt);
                        step(b, s, c2, st2, io[0], io[1], bags, w, Pooling.SUM, o, g, 0, s.dim(), opt);
                        step(c, s, c3, st3, io[0], io[1], bags, w, Pooling.SUM, o, g, 0, s.dim(), opt);
                    }
                    assertEquals(2, a.denseReduces());
                    assertEquals(0, c.level0Chains());
                    level0Chains += a.level0Chains();
                    assertEquals(0, b.denseReduces());
                    String what = s + ", " + opt.kind() + ", " + threads + " threads";
                    for (int k = 0; k < s.cores(); k++) {
                        assertArrayEquals(c2[k], c1[k], "core " + k + ", " + what);
                        assertArrayEquals(st2[k], st1[k], "state " + k + ", " + what);
                        assertArrayEquals(c2[k], c3[k], "core " + k + ", reduceDense, " + what);
                        assertArrayEquals(st2[k], st3[k], "state " + k + ", reduceDense, " + what);
                    }
                }
            }
        }
        // the D16 and D64 shapes at R32/R64 take the fused level-1 update, so level 0 in the chain
        assertTrue(VectorWidth.SCALAR || level0Chains > 0, "level 0 summed in the chain: " + level0Chains);
    }

    @Test
    void fusedLastLevelBackwardEqualsItsTwoProducts() {
        // lastBack4 (dP_{d-2} and the last slice-gradient term in one kernel, dP written when its
        // group opens at the row) against gemmRowsAdd then rowGradT4: same cores, states and
        // output, every optimiser; bags over a narrow row range so that groups hold several rows
        SplittableRandom rnd = new SplittableRandom(13);
        SparseOptimizer[] opts = pathOptimisers();
        long fused = 0;
        List<TtShape> shapes = new ArrayList<>(shapes());
        // two cores: the row's last level writes dP_0 of the level-0 group it opens
        shapes.add(new TtShape(3000, 8, new int[] {60, 50}, new int[] {2, 4}, new int[] {1, 32, 1}));
        for (int threads : new int[] {1, 2}) {
            for (TtShape s : shapes) {
                for (SparseOptimizer opt : opts) {
                    for (boolean narrowRange : new boolean[] {false, true}) {
                        int bags = 1 + rnd.nextInt(300);
                        int[][] io = TtTestUtil.randomBags(rnd, narrowRange ? Math.min(s.rows(), 3 * s.p(s.cores() - 1)) : s.rows(),
                                bags, 4);
                        VectorTtKernels a = kernels(threads), b = kernels(threads, NO_FUSED_LAST);
                        assertSameSteps(s, io, bags, opt, rnd, 17, a, b, null,
                                threads + " threads, narrow " + narrowRange);
                        assertEquals(0, b.fusedLastRows());
                        fused += a.fusedLastRows();
                    }
                }
            }
        }
        // D16 2x2x4 and D64 4x4x4 at ranks 32 and 64 take it on one partition
        assertTrue(VectorWidth.SCALAR || fused > 0, "rows through lastBack4: " + fused);
    }

    @Test
    void ringScratchEqualsPlainSlots() {
        // dP_0 and dP_1 in a ring of slots (levels 0 and 1 summed in the chain) against one place
        // per slot: same output, cores and states. Rows on a few level-1 slices make runs far
        // longer than the ring's first 64 slots, so the chain must double it, moving live groups
        SplittableRandom rnd = new SplittableRandom(23);
        long[] used = new long[2]; // backward blocks on the ring, ring doublings
        TtShape[] shapes = {
            new TtShape(1000, 16, new int[] {10, 10, 10}, new int[] {2, 2, 4}, new int[] {1, 32, 32, 1}),
            new TtShape(900, 64, new int[] {9, 10, 10}, new int[] {4, 4, 4}, new int[] {1, 64, 64, 1}),
            new TtShape(10_131_227, 16, new int[] {200, 220, 250}, new int[] {2, 2, 4}, new int[] {1, 32, 32, 1}),
            new TtShape(4000, 16, new int[] {10, 10, 5, 8}, new int[] {2, 2, 2, 2}, new int[] {1, 32, 32, 16, 1})};
        for (TtShape s : shapes) {
            for (SparseOptimizer opt : pathOptimisers()) {
                // slices in use at level 1: all, four, one
                for (int slices : new int[] {s.p(1), 4, 1}) {
                    int bags = 70 + rnd.nextInt(2000);
                    int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 2);
                    int stride = s.rows() / s.p(0) / s.p(1); // rows per (i_0, i_1)
                    for (int j = 0; j < io[0].length; j++) {
                        // keep i_0 and the lower digits, move i_1 onto one of the first slices
                        int i0 = io[0][j] / (stride * s.p(1)), rest = io[0][j] % stride;
                        int r = (i0 * s.p(1) + rnd.nextInt(slices)) * stride + rest;
                        io[0][j] = r < s.rows() ? r : io[0][j];
                    }
                    compareRing(s, io, bags, opt, rnd, slices + " level-1 slices", used);
                }
            }
        }
        // A level-0 group that goes on across a run boundary stays live until the end of the
        // next run. Rows sort by (i_1, i_0, i_2); here slice 0 ends with i_0 = 5 (from slot 25)
        // and slice 1 starts with it, and i_0 = 7 opens at slot 89, a whole ring (64) later
        // while its own run began only 44 slots before: only the carried group asks for a
        // larger ring there, and without it its dP_0 would be overwritten.
        TtShape s = new TtShape(4000, 16, new int[] {10, 10, 40}, new int[] {2, 2, 4}, new int[] {1, 32, 32, 1});
        List<Integer> rows = new ArrayList<>();
        int[][] groups = {{0, 0, 5}, {0, 1, 5}, {0, 2, 5}, {0, 3, 5}, {0, 4, 5}, {0, 5, 20}, // i_1, i_0, rows
            {1, 5, 20}, {1, 6, 24}, {1, 7, 5}, {1, 8, 5}, {2, 0, 3}, {2, 9, 4}};
        for (int[] gr : groups) {
            for (int i2 = 0; i2 < gr[2]; i2++) {
                rows.add((gr[1] * 10 + gr[0]) * 40 + i2);
            }
        }
        java.util.Collections.shuffle(rows, new java.util.Random(3));
        int[] off = new int[rows.size() + 1];
        for (int b = 0; b <= rows.size(); b++) {
            off[b] = b;
        }
        long growthsBefore = used[1];
        compareRing(s, new int[][] {rows.stream().mapToInt(Integer::intValue).toArray(), off}, rows.size(),
                SparseOptimizer.sgd(0.3f), rnd, "level-0 group carried across a run", used);
        // SGD on the R32/R64 shapes sums levels 0 and 1 in the chain, so the ring serves them
        assertTrue(VectorWidth.SCALAR || used[0] > 0, "backward blocks on the ring: " + used[0]);
        assertTrue(VectorWidth.SCALAR || used[1] > growthsBefore, "the carried group's ring doubling");
    }

    /** Two forward/backward steps with and without the ring (see {@link #assertSameSteps}). */
    private static void compareRing(TtShape s, int[][] io, int bags, SparseOptimizer opt, SplittableRandom rnd,
                                    String what, long[] used) {
        VectorTtKernels a = new VectorTtKernels(null, 1, true);
        VectorTtKernels b = new VectorTtKernels(null, 1, SavedProducts.BUDGET, VectorTtKernels.MIN_ROWS_PER_THREAD,
                NO_RING);
        long[] grown = new long[1];
        assertSameSteps(s, io, bags, opt, rnd, 29, a, b, () -> grown[0] = a.ringGrowths(), what);
        assertEquals(grown[0], a.ringGrowths(), "the second call starts with the ring the first grew, " + what);
        assertEquals(0, b.ringBlocks());
        used[0] += a.ringBlocks();
        used[1] += a.ringGrowths();
    }

    /**
     * Two forward/backward steps of kernels a and b (two paths of one computation) on copies of
     * the same random cores (seed coreSeed), with weights and row gradients drawn from rnd:
     * asserts the same output, cores and optimiser states. afterFirst (may be null) runs between
     * the steps.
     */
    private static void assertSameSteps(TtShape s, int[][] io, int bags, SparseOptimizer opt, SplittableRandom rnd,
                                        int coreSeed, VectorTtKernels a, VectorTtKernels b, Runnable afterFirst,
                                        String what) {
        float[][] c1 = TtTestUtil.randomCores(s, coreSeed, 0.3);
        float[][] c2 = TtTestUtil.copy(c1);
        float[][] st1 = states(s, opt), st2 = states(s, opt);
        float[] w = TtTestUtil.randomFloats(rnd, io[0].length);
        float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
        float[] o1 = new float[bags * s.dim()], o2 = new float[bags * s.dim()];
        for (int rep = 0; rep < 2; rep++) {
            step(a, s, c1, st1, io[0], io[1], bags, w, Pooling.SUM, o1, g, 0, s.dim(), opt);
            step(b, s, c2, st2, io[0], io[1], bags, w, Pooling.SUM, o2, g, 0, s.dim(), opt);
            if (rep == 0 && afterFirst != null) {
                afterFirst.run();
            }
        }
        what = s + ", " + opt.kind() + ", " + what + ", " + bags + " bags";
        assertArrayEquals(o2, o1, "output, " + what);
        for (int k = 0; k < s.cores(); k++) {
            assertArrayEquals(c2[k], c1[k], "core " + k + ", " + what);
            assertArrayEquals(st2[k], st1[k], "state " + k + ", " + what);
        }
    }

    @Test
    void rowsOfSingleLookupBagsSkipTheRowBufferWithTheSameResults() {
        // bags of one lookup: the forward writes such a row straight into the output, the
        // backward reads its gradient straight from gradOut; against the copies through rowBuf
        SplittableRandom rnd = new SplittableRandom(9);
        for (int threads : new int[] {1, 2}) {
            for (TtShape s : shapes()) {
                for (Pooling pooling : Pooling.values()) {
                    for (boolean weighted : new boolean[] {false, true}) {
                        int bags = 300 + rnd.nextInt(200);
                        int[] off = new int[bags + 1];
                        for (int b = 0; b < bags; b++) { // mostly single lookups, some empty and some longer
                            int r = rnd.nextInt(10);
                            off[b + 1] = off[b] + (r < 7 ? 1 : r == 7 ? 0 : 2 + rnd.nextInt(3));
                        }
                        int[] idx = new int[off[bags]];
                        for (int j = 0; j < idx.length; j++) { // a narrow range: some rows in several bags
                            idx[j] = rnd.nextInt(Math.min(s.rows(), 4 * bags));
                        }
                        float[] w = weighted ? TtTestUtil.randomFloats(rnd, idx.length) : null;
                        if (w != null) {
                            for (int j = 0; j < w.length; j += 3) {
                                w[j] = 1f; // scale 1: these rows still qualify in the backward
                            }
                        }
                        int ld = s.dim() + 3;
                        float[][] c1 = TtTestUtil.randomCores(s, 4, 0.3), c2 = TtTestUtil.copy(c1);
                        float[] o1 = new float[bags * ld + 1], o2 = new float[bags * ld + 1];
                        java.util.Arrays.fill(o1, Float.NaN); // the gaps between output rows stay NaN
                        java.util.Arrays.fill(o2, Float.NaN);
                        float[] g = TtTestUtil.randomFloats(rnd, bags * ld);
                        VectorTtKernels a = kernels(threads), b = kernels(threads, NO_DIRECT_ROWS);
                        SparseOptimizer sgd = SparseOptimizer.sgd(0.2f);
                        for (int rep = 0; rep < 2; rep++) {
                            forward(a, s, c1, idx, off, bags, w, pooling, false, o1, 1, ld);
                            forward(b, s, c2, idx, off, bags, w, pooling, false, o2, 1, ld);
                            String what = s + " " + pooling + " weighted=" + weighted + " threads=" + threads;
                            assertArrayEquals(o2, o1, "forward, " + what);
                            a.backward(c1, null, w, pooling, g, 1, ld, sgd);
                            b.backward(c2, null, w, pooling, g, 1, ld, sgd);
                            for (int k = 0; k < s.cores(); k++) {
                                assertArrayEquals(c2[k], c1[k], "core " + k + ", " + what);
                            }
                        }
                        java.util.Map<Integer, Integer> uses = new java.util.HashMap<>();
                        for (int row : idx) {
                            uses.merge(row, 1, Integer::sum);
                        }
                        boolean alone = false; // some bag of one lookup whose row no other lookup uses
                        for (int bb = 0; bb < bags; bb++) {
                            alone |= off[bb + 1] - off[bb] == 1 && uses.get(idx[off[bb]]) == 1;
                        }
                        assertEquals(alone && !weighted ? 2 : 0, a.directForwards(), s.toString());
                        assertEquals(2, a.directBackwards());
                        assertEquals(0, b.directForwards() + b.directBackwards());
                    }
                }
            }
        }
    }

    @Test
    void forwardMatchesScalarReference() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int threads : new int[] {1, 2}) {
            VectorTtKernels vk = kernels(threads);
            for (TtShape s : shapes()) {
                float[][] cores = TtTestUtil.randomCores(s, 3, 0.3);
                for (Pooling pool : Pooling.values()) {
                    for (boolean weighted : new boolean[] {false, true}) {
                        int bags = 1 + rnd.nextInt(40);
                        int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 7);
                        float[] w = weighted ? TtTestUtil.randomFloats(rnd, io[0].length) : null;
                        int ld = s.dim() + 1;
                        float[] exp = new float[bags * ld + 2];
                        float[] got = new float[bags * ld + 2];
                        boolean acc = rnd.nextBoolean();
                        if (acc) {
                            java.util.Arrays.fill(exp, 0.5f);
                            java.util.Arrays.fill(got, 0.5f);
                        }
                        ref.ttEmbeddingBagForward(s, bufs(cores), heap(io[0]), heap(io[1]), bags,
                                w == null ? null : heap(w), pool, acc, heap(exp), 2, ld);
                        forward(vk, s, cores, io[0], io[1], bags, w, pool, acc, got, 2, ld);
                        double scale = 1 + TtTestUtil.maxAbs(exp);
                        assertEquals(0, TtTestUtil.maxAbsDiff(exp, got), 1e-5 * scale,
                                s + " " + pool + " weighted=" + weighted + " threads=" + threads);
                    }
                }
            }
        }
    }

    @Test
    void backwardMatchesScalarReferenceForEveryOptimiser() {
        SplittableRandom rnd = new SplittableRandom(2);
        SparseOptimizer[] opts = {SparseOptimizer.accumulate(), SparseOptimizer.sgd(0.2f),
                SparseOptimizer.adagrad(0.2f, 1e-4f), SparseOptimizer.rowwiseAdagrad(0.2f, 1e-4f)};
        for (int threads : new int[] {1, 2}) {
            VectorTtKernels vk = kernels(threads);
            for (TtShape s : shapes()) {
                for (SparseOptimizer opt : opts) {
                    Pooling pool = rnd.nextBoolean() ? Pooling.SUM : Pooling.MEAN;
                    int bags = 1 + rnd.nextInt(40);
                    int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 7);
                    float[] w = rnd.nextBoolean() ? TtTestUtil.randomFloats(rnd, io[0].length) : null;
                    float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
                    float[][] c1 = TtTestUtil.randomCores(s, 5, 0.3);
                    float[][] c2 = TtTestUtil.copy(c1);
                    float[][] st1 = states(s, opt);
                    for (float[] st : st1) {
                        java.util.Arrays.fill(st, 0.01f);
                    }
                    float[][] st2 = TtTestUtil.copy(st1);
                    ref.ttEmbeddingBagBackward(s, bufs(c1), bufs(st1), heap(io[0]), heap(io[1]), bags,
                            w == null ? null : heap(w), pool, heap(g), 0, s.dim(), opt);
                    backward(vk, s, c2, st2, io[0], io[1], bags, w, pool, g, 0, s.dim(), opt);
                    for (int k = 0; k < s.cores(); k++) {
                        double scale = 1 + TtTestUtil.maxAbs(c1[k]) + TtTestUtil.maxAbs(st1[k]);
                        assertEquals(0, TtTestUtil.maxAbsDiff(c1[k], c2[k]), 2e-5 * scale,
                                s + " " + opt.kind() + " core " + k + " threads=" + threads);
                        assertEquals(0, TtTestUtil.maxAbsDiff(st1[k], st2[k]), 2e-5 * scale,
                                s + " " + opt.kind() + " state " + k + " threads=" + threads);
                    }
                }
            }
        }
    }

    @Test
    void repeatedCallsReuseScratchAndLargeBatchesCrossBlocks() {
        // more distinct rows than one block, shapes changing between calls on the same instance
        TtShape big = new TtShape(100_000, 16, new int[] {40, 50, 50}, new int[] {2, 2, 4}, new int[] {1, 8, 8, 1});
        TtShape small = shapes().get(0);
        VectorTtKernels vk = kernels(2);
        SplittableRandom rnd = new SplittableRandom(3);
        for (TtShape s : new TtShape[] {big, small, big}) {
            int bags = s == big ? 3000 : 100;
            int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 4);
            float[][] c1 = TtTestUtil.randomCores(s, 8, 0.3);
            float[][] c2 = TtTestUtil.copy(c1);
            float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
            ref.ttEmbeddingBagBackward(s, bufs(c1), null, heap(io[0]), heap(io[1]), bags, null, Pooling.SUM,
                    heap(g), 0, s.dim(), SparseOptimizer.sgd(0.5f));
            backward(vk, s, c2, null, io[0], io[1], bags, null, Pooling.SUM, g, 0, s.dim(), SparseOptimizer.sgd(0.5f));
            for (int k = 0; k < s.cores(); k++) {
                // thousands of contributions per slice: allow float rounding relative to the values
                assertEquals(0, TtTestUtil.maxAbsDiff(c1[k], c2[k]), 5e-5 * (1 + TtTestUtil.maxAbs(c1[k])), s + " core " + k);
            }
            float[] exp = new float[bags * s.dim()], got = new float[bags * s.dim()];
            ref.ttEmbeddingBagForward(s, bufs(c1), heap(io[0]), heap(io[1]), bags, null, Pooling.MEAN, false,
                    heap(exp), 0, s.dim());
            vk.forward(c1, null, Pooling.MEAN, false, got, 0, s.dim()); // the backward's batch, prepared
            assertEquals(0, TtTestUtil.maxAbsDiff(exp, got), 1e-5 * (1 + TtTestUtil.maxAbs(exp)), s.toString());
        }
    }

    @Test
    void resultsAreBitIdenticalForTheSameThreadCount() {
        TtShape s = shapes().get(4);
        SplittableRandom rnd = new SplittableRandom(4);
        int bags = 300;
        int[][] io = TtTestUtil.randomBags(rnd, s.rows(), bags, 10);
        float[] g = TtTestUtil.randomFloats(rnd, bags * s.dim());
        for (int threads : new int[] {1, 2}) {
            float[][] first = null;
            float[] firstOut = null;
            for (int rep = 0; rep < 3; rep++) {
                VectorTtKernels vk = kernels(threads);
                float[][] c = TtTestUtil.randomCores(s, 6, 0.3);
                float[][] st = new float[s.cores()][];
                for (int k = 0; k < s.cores(); k++) {
                    st[k] = new float[s.coreSize(k)];
                }
                vk.prepare(s, io[0], io[1], bags);
                for (int step = 0; step < 3; step++) {
                    vk.backward(c, st, null, Pooling.MEAN, g, 0, s.dim(), SparseOptimizer.adagrad(0.1f, 1e-6f));
                }
                float[] out = new float[bags * s.dim()];
                vk.forward(c, null, Pooling.SUM, false, out, 0, s.dim());
                if (first == null) {
                    first = c;
                    firstOut = out;
                } else {
                    for (int k = 0; k < s.cores(); k++) {
                        assertArrayEquals(first[k], c[k], "threads=" + threads + " core " + k);
                    }
                    assertArrayEquals(firstOut, out);
                }
            }
        }
    }

    @Test
    void everySliceOfALongCoreIsUpdated() {
        TtShape s = new TtShape(3000, 2, new int[] {1000, 3}, new int[] {1, 2}, new int[] {1, 2, 1});
        float[][] c = TtTestUtil.randomCores(s, 3, 0.5);
        float[][] before = TtTestUtil.copy(c);
        int[] idx = new int[3000];
        int[] off = new int[3001];
        for (int i = 0; i < 3000; i++) {
            idx[i] = (i * 7919) % 3000;
            off[i + 1] = i + 1;
        }
        float[] g = TtTestUtil.randomFloats(new SplittableRandom(5), 3000 * 2);
        backward(kernels(2), s, c, null, idx, off, 3000, null, Pooling.SUM, g, 0, 2, SparseOptimizer.sgd(0.1f));
        for (int k = 0; k < 2; k++) {
            for (int digit = 0; digit < s.p(k); digit++) {
                boolean changed = false;
                for (int e = 0; e < s.sliceSize(k); e++) {
                    changed |= c[k][digit * s.sliceSize(k) + e] != before[k][digit * s.sliceSize(k) + e];
                }
                assertTrue(changed, "core " + k + " slice " + digit);
            }
        }
    }

    @Test
    void theCpuBackendChecksTtArgumentsBeforeTheKernelsRun() {
        TtShape s = shapes().get(0);
        float[][] c = TtTestUtil.randomCores(s, 1, 0.1);
        FloatBuf[] cores = new FloatBuf[c.length];
        for (int k = 0; k < c.length; k++) {
            cores[k] = new HeapFloatBuf(c[k]);
        }
        FloatBuf out = new HeapFloatBuf(new float[12]);
        try (CpuBackend be = new CpuBackend(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> be.ttEmbeddingBagForward(
                    s, cores, heap(new int[] {0, 37}), heap(new int[] {0, 1, 2}), 2, null, Pooling.SUM, false,
                    out, 0, 6));
            assertTrue(e.getMessage().contains("37") && e.getMessage().contains("position 1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> be.ttEmbeddingBagForward(
                    s, cores, heap(new int[] {0, 3}), heap(new int[] {0, 1, 2}), 2, null, Pooling.SUM, false,
                    out, 1, 6));
            assertTrue(e.getMessage().contains("out"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> be.ttEmbeddingBagBackward(
                    s, cores, null, heap(new int[] {0, 3}), heap(new int[] {0, 1, 2}), 2, null, Pooling.SUM,
                    out, 0, 6, SparseOptimizer.rowwiseAdagrad(0.1f, 0f)));
            assertTrue(e.getMessage().contains("state"), e.getMessage());
        }
    }
}
