package org.ttrec.tests.conformance;

import static org.ttrec.engine.tt.TtTestUtil.heap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TT-EmbeddingBag forward and backward of every available backend, called through the
 * {@link ComputeBackend} interface (argument checks and buffer plumbing included), against the
 * scalar reference: d = 2..4 cores, D not a multiple of the vector width, sum and mean pooling,
 * per-sample weights, empty bags, repeated indices, every {@link SparseOptimizer} kind, output
 * offsets and leading dimensions, 1 and 2 threads (see {@link Subjects}). The surefire
 * executions rerun this at 128, 256 and 0 (scalar paths) vector bits.
 *
 * <p>TT products are reassociated by optimised kernels, so values get a tolerance scaled by their
 * magnitude; repeated calls on one backend, however, must give the same bits (determinism, also
 * across JIT tiers: the repetitions run interpreted and compiled code).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TtConformanceTest {
    static final ScalarBackend REF = new ScalarBackend();
    static final List<ComputeBackend> SUBJECTS = Subjects.all();

    static List<ComputeBackend> subjects() {
        return SUBJECTS;
    }

    @AfterAll
    static void close() {
        SUBJECTS.forEach(ComputeBackend::close);
    }

    /** d = 2, 3, 4; D = 3, 5, 6, 7, 9, 10, 30 (none a multiple of 4) plus 16; uneven ranks and rank 1. */
    static List<TtShape> shapes() {
        List<TtShape> l = new ArrayList<>();
        l.add(new TtShape(37, 6, new int[] {5, 8}, new int[] {3, 2}, new int[] {1, 4, 1}));
        l.add(new TtShape(11, 7, new int[] {3, 4}, new int[] {7, 1}, new int[] {1, 3, 1}));
        l.add(new TtShape(30, 5, new int[] {6, 5}, new int[] {5, 1}, new int[] {1, 1, 1}));
        l.add(new TtShape(200, 9, new int[] {8, 5, 5}, new int[] {3, 1, 3}, new int[] {1, 3, 5, 1}));
        l.add(new TtShape(1000, 10, new int[] {10, 10, 10}, new int[] {1, 2, 5}, new int[] {1, 17, 6, 1}));
        l.add(new TtShape(999, 16, new int[] {10, 10, 10}, new int[] {2, 2, 4}, new int[] {1, 32, 32, 1}));
        l.add(new TtShape(60, 3, new int[] {2, 3, 2, 5}, new int[] {1, 3, 1, 1}, new int[] {1, 2, 3, 2, 1}));
        l.add(new TtShape(250, 30, new int[] {4, 4, 4, 4}, new int[] {2, 3, 5, 1}, new int[] {1, 5, 9, 4, 1}));
        return l;
    }

    static FloatBuf[] bufs(ComputeBackend be, float[][] a) {
        if (a == null) {
            return null;
        }
        FloatBuf[] b = new FloatBuf[a.length];
        for (int k = 0; k < a.length; k++) {
            b[k] = be.upload(a[k]);
        }
        return b;
    }

    static float[][] arrays(FloatBuf[] b) {
        if (b == null) {
            return null;
        }
        float[][] a = new float[b.length][];
        for (int k = 0; k < b.length; k++) {
            a[k] = b[k].toArray();
        }
        return a;
    }

    /** Bags with empty ones and repeated indices; offset 2 in front (lookups before bag 0 are ignored). */
    static int[][] bags(SplittableRandom r, int rows, int bags, int maxBag) {
        int[][] io = TtTestUtil.randomBags(r, rows, bags, maxBag);
        int[] idx = new int[io[0].length + 3];
        idx[0] = rows - 1;
        idx[1] = 0;
        System.arraycopy(io[0], 0, idx, 2, io[0].length);
        idx[idx.length - 1] = rows - 1; // after the last bag: ignored too
        int[] off = new int[bags + 1];
        for (int b = 0; b <= bags; b++) {
            off[b] = io[1][b] + 2;
        }
        return new int[][] {idx, off};
    }

    static void close(String at, float[] expected, float[] actual, double rel) {
        assertEquals(expected.length, actual.length, at + ": length");
        double scale = 1 + TtTestUtil.maxAbs(expected);
        double diff = TtTestUtil.maxAbsDiff(expected, actual);
        assertTrue(diff <= rel * scale, at + ": max |difference| " + diff + " (scale " + scale + ")");
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void forwardMatchesReference(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(21);
        for (TtShape s : shapes()) {
            float[][] cores = TtTestUtil.randomCores(s, 7, 0.4);
            for (int bags : new int[] {1, 3, 40, 301}) {
                int[][] io = bags(r, s.rows(), bags, bags > 100 ? 9 : 5);
                float[] w = TtTestUtil.randomFloats(r, io[0].length);
                int ld = s.dim() + 3, outOff = 2;
                float[] out = TtTestUtil.randomFloats(r, outOff + bags * ld);
                for (Pooling pool : Pooling.values()) {
                    for (boolean weighted : new boolean[] {false, true}) {
                        for (boolean acc : new boolean[] {false, true}) {
                            String at = be.name() + "/" + be.threads() + " " + s + " bags=" + bags + " " + pool
                                    + (weighted ? " weighted" : "") + (acc ? " accumulate" : "");
                            float[] o1 = out.clone();
                            REF.ttEmbeddingBagForward(s, bufs(REF, cores), heap(io[0]), heap(io[1]), bags,
                                    weighted ? heap(w) : null, pool, acc, heap(o1), outOff, ld);
                            FloatBuf o2 = be.upload(out);
                            be.ttEmbeddingBagForward(s, bufs(be, cores), be.upload(io[0]), be.upload(io[1]), bags,
                                    weighted ? be.upload(w) : null, pool, acc, o2, outOff, ld);
                            float[] got = o2.toArray();
                            close(at, o1, got, 1e-5);
                            // padding between rows and before bag 0 untouched
                            for (int b = 0; b < bags; b++) {
                                for (int j = s.dim(); j < ld; j++) {
                                    assertEquals(out[outOff + b * ld + j], got[outOff + b * ld + j], at + ": padding");
                                }
                            }
                            assertEquals(out[0], got[0], at + ": before outOff");
                            assertEquals(out[1], got[1], at + ": before outOff");
                        }
                    }
                }
            }
        }
    }

    static final SparseOptimizer[] OPTIMIZERS = {SparseOptimizer.accumulate(), SparseOptimizer.sgd(0.1f),
            SparseOptimizer.adagrad(0.1f, 1e-4f), SparseOptimizer.rowwiseAdagrad(0.1f, 1e-4f)};

    static float[][] state(TtShape s, SparseOptimizer opt, SplittableRandom r) {
        if (opt.kind() == SparseOptimizer.Kind.SGD) {
            return null;
        }
        float[][] st = new float[s.cores()][];
        for (int k = 0; k < s.cores(); k++) {
            st[k] = new float[opt.kind() == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? s.p(k) * s.rank(k) : s.coreSize(k)];
            for (int i = 0; i < st[k].length; i++) {
                st[k][i] = (float) r.nextDouble(0, 0.5);
            }
        }
        return st;
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void backwardMatchesReferenceForEveryOptimizer(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(22);
        for (TtShape s : shapes()) {
            float[][] cores = TtTestUtil.randomCores(s, 9, 0.4);
            for (int bags : new int[] {1, 3, 40, 301}) {
                int[][] io = bags(r, s.rows(), bags, bags > 100 ? 9 : 5);
                float[] w = TtTestUtil.randomFloats(r, io[0].length);
                int ld = s.dim() + 1, gradOff = 3;
                float[] grad = TtTestUtil.randomFloats(r, gradOff + bags * ld);
                for (SparseOptimizer opt : OPTIMIZERS) {
                    for (Pooling pool : Pooling.values()) {
                        for (boolean weighted : new boolean[] {false, true}) {
                            String at = be.name() + "/" + be.threads() + " " + s + " bags=" + bags + " " + pool
                                    + (weighted ? " weighted " : " ") + opt.kind();
                            float[][] st = state(s, opt, r);
                            FloatBuf[] c1 = bufs(REF, cores), s1 = bufs(REF, st);
                            REF.ttEmbeddingBagBackward(s, c1, s1, heap(io[0]), heap(io[1]), bags,
                                    weighted ? heap(w) : null, pool, heap(grad), gradOff, ld, opt);
                            FloatBuf[] c2 = bufs(be, cores), s2 = bufs(be, st);
                            be.ttEmbeddingBagBackward(s, c2, s2, be.upload(io[0]), be.upload(io[1]), bags,
                                    weighted ? be.upload(w) : null, pool, be.upload(grad), gradOff, ld, opt);
                            float[][] ec = arrays(c1), gc = arrays(c2), es = arrays(s1), gs = arrays(s2);
                            for (int k = 0; k < s.cores(); k++) {
                                close(at + " core " + k, ec[k], gc[k], 2e-5);
                                if (es != null) {
                                    close(at + " state " + k, es[k], gs[k], 2e-5);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The same call repeated on one backend gives the same bits: nothing depends on timing, scratch
     * left over from earlier calls of other shapes, or on whether the kernel runs interpreted or
     * JIT-compiled (the loop runs long enough for C2 to compile the kernels; this test runs first
     * so that the first repetition runs cold code).
     */
    @Order(1)
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void repeatedCallsAreBitIdentical(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(23);
        TtShape s = new TtShape(60_000, 8, new int[] {40, 40, 40}, new int[] {2, 2, 2}, new int[] {1, 32, 32, 1});
        TtShape other = shapes().get(3);
        float[][] cores = TtTestUtil.randomCores(s, 3, 0.2);
        int bags = 128;
        int[][] io = bags(r, s.rows(), bags, 3);
        int[][] io2 = bags(r, other.rows(), 50, 4);
        float[][] otherCores = TtTestUtil.randomCores(other, 4, 0.3);
        float[] grad = TtTestUtil.randomFloats(r, bags * s.dim());
        float[] firstOut = null;
        float[][] firstCores = null, firstState = null;
        for (int rep = 0; rep < 400; rep++) {
            FloatBuf out = be.allocFloats(bags * s.dim());
            be.ttEmbeddingBagForward(s, bufs(be, cores), be.upload(io[0]), be.upload(io[1]), bags, null, Pooling.SUM,
                    false, out, 0, s.dim());
            SparseOptimizer opt = SparseOptimizer.adagrad(0.05f, 1e-8f);
            FloatBuf[] c = bufs(be, cores), st = bufs(be, state(s, SparseOptimizer.adagrad(0, 0), new SplittableRandom(5)));
            be.ttEmbeddingBagBackward(s, c, st, be.upload(io[0]), be.upload(io[1]), bags, null, Pooling.SUM,
                    be.upload(grad), 0, s.dim(), opt);
            if (rep == 0) {
                firstOut = out.toArray();
                firstCores = arrays(c);
                firstState = arrays(st);
            } else {
                assertArrayEquals(firstOut, out.toArray(), be.name() + "/" + be.threads() + ": forward differs at repetition " + rep);
                float[][] gc = arrays(c), gs = arrays(st);
                for (int k = 0; k < s.cores(); k++) {
                    assertArrayEquals(firstCores[k], gc[k], be.name() + "/" + be.threads() + ": core " + k
                            + " after backward differs at repetition " + rep);
                    assertArrayEquals(firstState[k], gs[k], be.name() + "/" + be.threads() + ": state " + k
                            + " differs at repetition " + rep);
                }
            }
            // a call on another shape in between, so scratch is resized and reused
            be.ttEmbeddingBagForward(other, bufs(be, otherCores), be.upload(io2[0]), be.upload(io2[1]), 50, null,
                    Pooling.MEAN, false, be.allocFloats(50 * other.dim()), 0, other.dim());
        }
        assertTrue(TtTestUtil.maxAbs(firstOut) > 0);
    }
}
