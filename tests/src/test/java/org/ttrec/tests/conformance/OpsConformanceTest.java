package org.ttrec.tests.conformance;

import static org.ttrec.engine.tt.TtTestUtil.heap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.scalar.ScalarBackend;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ttrec.engine.testing.TestData.assertBitEqual;
import static org.ttrec.engine.testing.TestData.assertClose;
import static org.ttrec.engine.testing.TestData.ints;
import static org.ttrec.engine.testing.TestData.maxAbs;
import static org.ttrec.engine.testing.TestData.uniform;

/**
 * Every non-GEMM operation of every available backend against the scalar reference, over
 * awkward sizes and non-zero offsets. Operations documented as bit-identical to the reference
 * (elementwise, sumRows, gathers, Adagrad, EmbeddingBag) are held to that; reductions get a
 * tolerance scaled by their length.
 */
class OpsConformanceTest {
    static final ScalarBackend REF = new ScalarBackend();
    static final List<ComputeBackend> SUBJECTS = Subjects.all();

    static List<ComputeBackend> subjects() {
        return SUBJECTS;
    }

    @AfterAll
    static void close() {
        SUBJECTS.forEach(ComputeBackend::close);
    }

    static FloatBuf buf(float[] a) {
        return heap(a.clone());
    }

    static IntBuf ibuf(int[] a) {
        return heap(a.clone());
    }

    static int[] lengths() {
        int[] s = Subjects.sizes();
        int[] r = java.util.Arrays.copyOf(s, s.length + 3);
        r[s.length] = 1000;
        r[s.length + 1] = 4099;
        r[s.length + 2] = 70_001; // over the cpu backend's threshold for splitting among threads
        return r;
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void elementwise(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(1);
        for (int n : lengths()) {
            int off = 3;
            float[] x = uniform(r, n + off + 2, -4f, 4f);
            x[off] = -0f;
            float[] y = uniform(r, n + off + 2, -4f, 4f);
            float[] lab = new float[n + off];
            for (int j = 0; j < lab.length; j++) {
                lab[j] = r.nextBoolean() ? 1f : 0f;
            }
            float[] p = uniform(r, n + off, 0f, 1f);
            p[off] = 0f;
            if (n > 1) {
                p[off + 1] = 1f;
            }
            String at = be.name() + " n=" + n;
            bitSame(be, at + " fill", x, y, (b, xa, ya) -> b.fill(n, 0.5f, ya, off));
            bitSame(be, at + " copy", x, y, (b, xa, ya) -> b.copy(n, xa, off, ya, 1));
            bitSame(be, at + " copy overlapping", x, y, (b, xa, ya) -> b.copy(n, xa, 0, xa, 2));
            bitSame(be, at + " axpy", x, y, (b, xa, ya) -> b.axpy(n, -1.7f, xa, off, ya, 1));
            bitSame(be, at + " scale", x, y, (b, xa, ya) -> b.scale(n, 0.3f, xa, off));
            bitSame(be, at + " relu", x, y, (b, xa, ya) -> b.relu(n, xa, off, ya, 2));
            bitSame(be, at + " relu in place", x, y, (b, xa, ya) -> b.relu(n, xa, off, xa, off));
            bitSame(be, at + " reluBackward", x, y, (b, xa, ya) -> b.reluBackward(n, xa, off, ya, 1, ya, 1));
            bitSame(be, at + " bceSigmoidBackward", p, lab, (b, pa, la) -> b.bceSigmoidBackward(n, 1f / n, pa, off, la, off, pa, off));
            bitSame(be, at + " adagrad", x, y, (b, xa, ya) -> {
                FloatBuf st = b.upload(uniform(new SplittableRandom(n), n + 1, 0f, 1f));
                b.adagradUpdate(n, 0.1f, 1e-8f, xa, off, st, 1, ya, 2);
            });
            // sigmoid: float exp against the reference's double exp
            float[] s1 = y.clone(), s2 = y.clone();
            REF.sigmoid(n, buf(x), off, heap(s1), 1);
            FloatBuf s2b = be.upload(s2);
            be.sigmoid(n, be.upload(x), off, s2b, 1);
            Io.down(s2b, s2);
            assertClose(at + " sigmoid", s1, s2, 3e-7);
            // reductions: float lanes in blocks, then double, written as one float at an offset
            assertEquals(reduce(REF, b -> REF.sum(n, buf(x), off, b, 1)),
                    reduce(be, b -> be.sum(n, be.upload(x), off, b, 1)), 1e-6 * n * maxAbs(x), at + " sum");
            assertEquals(reduce(REF, b -> REF.dot(n, buf(x), off, buf(y), 1, b, 1)),
                    reduce(be, b -> be.dot(n, be.upload(x), off, be.upload(y), 1, b, 1)),
                    1e-6 * n * maxAbs(x) * maxAbs(y), at + " dot");
            float bRef = reduce(REF, b -> REF.bceLoss(n, buf(p), off, buf(lab), off, b, 1));
            assertEquals(bRef, reduce(be, b -> be.bceLoss(n, be.upload(p), off, be.upload(lab), off, b, 1)),
                    1e-5 * Math.max(1, bRef), at + " bceLoss");
            // the scalar reference rounds the double sum once
            assertEquals((float) REF_SUM.applyAsDouble(n, x, off), reduce(REF, b -> REF.sum(n, buf(x), off, b, 1)),
                    at + " reference sum");
        }
    }

    interface Op {
        void run(ComputeBackend b, FloatBuf x, FloatBuf y);
    }

    /** A sum of n floats from off, in double, as the reference adds them. */
    interface HostSum {
        double applyAsDouble(int n, float[] x, int off);
    }

    static final HostSum REF_SUM = (n, x, off) -> {
        double s = 0;
        for (int j = 0; j < n; j++) {
            s += x[off + j];
        }
        return s;
    };

    /**
     * Runs a reduction into slot 1 of a fresh 3-float buffer and reads it back; slots 0 and 2 must
     * stay untouched.
     */
    static float reduce(ComputeBackend b, java.util.function.Consumer<FloatBuf> op) {
        FloatBuf out = b.upload(new float[] {7f, 0f, 9f});
        op.accept(out);
        float[] got = out.toArray();
        assertEquals(7f, got[0], b.name() + ": reduction wrote before its offset");
        assertEquals(9f, got[2], b.name() + ": reduction wrote past its slot");
        return got[1];
    }

    /** Runs op on the reference and the subject with the same inputs; both arrays must match bit for bit. */
    static void bitSame(ComputeBackend be, String what, float[] x, float[] y, Op op) {
        float[] x1 = x.clone(), y1 = y.clone(), x2 = x.clone(), y2 = y.clone();
        op.run(REF, heap(x1), heap(y1));
        FloatBuf xb = be.upload(x2), yb = be.upload(y2);
        op.run(be, xb, yb);
        Io.down(xb, x2);
        Io.down(yb, y2);
        assertBitEqual(what + " (first operand)", x1, x2);
        assertBitEqual(what + " (second operand)", y1, y2);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void matrixOps(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(2);
        int[] sizes = Subjects.sizes();
        // 601 rows: at the wider sizes, over the cpu backend's threshold for splitting among threads
        for (int rows : new int[] {1, 3, 17, 601}) {
            for (int cols : sizes) {
                int ld = cols + 3, off = 2;
                float[] x = uniform(r, off + rows * ld, -2f, 2f);
                float[] bias = uniform(r, cols + 1, -1f, 1f);
                float[] y = uniform(r, cols + 2, -1f, 1f);
                String at = be.name() + " " + rows + "x" + cols;
                bitSame(be, at + " addBias", bias, x, (b, bb, xx) -> b.addBias(rows, cols, bb, 1, xx, off, ld));
                bitSame(be, at + " sumRows", x, y, (b, xx, yy) -> b.sumRows(rows, cols, xx, off, ld, 0f, yy, 1));
                bitSame(be, at + " sumRows beta", x, y, (b, xx, yy) -> b.sumRows(rows, cols, xx, off, ld, 0.5f, yy, 1));
                float[] nanY = y.clone();
                java.util.Arrays.fill(nanY, Float.NaN);
                bitSame(be, at + " sumRows beta=0 NaN", x, nanY, (b, xx, yy) -> b.sumRows(rows, cols, xx, off, ld, 0f, yy, 1));
                bitSame(be, at + " copy2d", x, x.clone(), (b, xx, yy) -> b.copy2d(rows, cols, xx, off, ld, yy, 1, ld));
                // gather/scatter columns: distinct lists and lists with repeats
                for (boolean repeats : new boolean[] {false, true}) {
                    int count = cols;
                    int[] cl = new int[count];
                    for (int j = 0; j < count; j++) {
                        cl[j] = repeats ? r.nextInt(ld) : (j * 7) % ld;
                    }
                    if (!repeats) {
                        cl = distinctPermutation(r, ld, count);
                    }
                    int[] cls = cl;
                    int dld = count + 1;
                    float[] dst = uniform(r, off + rows * dld, -1f, 1f);
                    bitSame(be, at + " gatherColumns repeats=" + repeats, x, dst,
                            (b, xx, dd) -> b.gatherColumns(rows, count, b.upload(cls), xx, off, ld, dd, off, dld));
                    bitSame(be, at + " scatterAddColumns repeats=" + repeats, dst, x,
                            (b, dd, xx) -> b.scatterAddColumns(rows, count, b.upload(cls), dd, off, dld, xx, off, ld));
                }
            }
        }
    }

    static int[] distinctPermutation(SplittableRandom r, int range, int count) {
        int[] all = new int[range];
        for (int j = 0; j < range; j++) {
            all[j] = j;
        }
        for (int j = range - 1; j > 0; j--) {
            int q = r.nextInt(j + 1);
            int t = all[j];
            all[j] = all[q];
            all[q] = t;
        }
        return java.util.Arrays.copyOf(all, count);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void embeddingBag(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(3);
        for (int dim : Subjects.sizes()) {
            for (int rows : new int[] {1, 7, 500}) {
                for (int bags : new int[] {1, 5, 300}) {
                    int maxPer = bags > 100 ? 40 : 4;
                    int[] off = new int[bags + 1];
                    off[0] = 2; // lookups before the first bag are ignored
                    for (int b = 0; b < bags; b++) {
                        off[b + 1] = off[b] + r.nextInt(maxPer + 1);
                    }
                    int nIdx = off[bags] + 1;
                    int[] idx = ints(r, nIdx, rows);
                    float[] table = uniform(r, rows * dim, -1f, 1f);
                    float[] w = uniform(r, nIdx, 0f, 2f);
                    int ld = dim + 2, outOff = 1;
                    float[] out = uniform(r, outOff + bags * ld, -1f, 1f);
                    float[] grad = uniform(r, outOff + bags * ld, -1f, 1f);
                    for (Pooling pool : Pooling.values()) {
                        for (boolean weighted : new boolean[] {false, true}) {
                            String at = be.name() + "/" + be.threads() + " dim=" + dim + " rows=" + rows + " bags=" + bags
                                    + " " + pool + (weighted ? " weighted" : "");
                            for (boolean acc : new boolean[] {false, true}) {
                                float[] o1 = out.clone(), o2 = out.clone();
                                REF.embeddingBagForward(rows, dim, heap(table), heap(idx), heap(off), bags,
                                        weighted ? heap(w) : null, pool, acc, heap(o1), outOff, ld);
                                FloatBuf o2b = be.upload(o2);
                                be.embeddingBagForward(rows, dim, be.upload(table), be.upload(idx), be.upload(off), bags,
                                        weighted ? be.upload(w) : null, pool, acc, o2b, outOff, ld);
                                Io.down(o2b, o2);
                                assertBitEqual(at + " forward accumulate=" + acc, o1, o2);
                            }
                            for (SparseOptimizer opt : new SparseOptimizer[] {SparseOptimizer.accumulate(),
                                    SparseOptimizer.sgd(0.05f), SparseOptimizer.adagrad(0.05f, 1e-6f),
                                    SparseOptimizer.rowwiseAdagrad(0.05f, 1e-6f)}) {
                                float[] st = opt.kind() == SparseOptimizer.Kind.ROWWISE_ADAGRAD
                                        ? uniform(r, rows, 0f, 1f) : uniform(r, rows * dim, 0f, 1f);
                                float[] t1 = table.clone(), t2 = table.clone(), s1 = st.clone(), s2 = st.clone();
                                REF.embeddingBagBackward(rows, dim, heap(t1), heap(s1), heap(idx), heap(off),
                                        bags, weighted ? heap(w) : null, pool, heap(grad), outOff, ld, opt);
                                FloatBuf t2b = be.upload(t2), s2b = be.upload(s2);
                                be.embeddingBagBackward(rows, dim, t2b, s2b, be.upload(idx), be.upload(off),
                                        bags, weighted ? be.upload(w) : null, pool, be.upload(grad), outOff, ld, opt);
                                Io.down(t2b, t2);
                                Io.down(s2b, s2);
                                assertBitEqual(at + " backward " + opt.kind() + " table", t1, t2);
                                assertBitEqual(at + " backward " + opt.kind() + " state", s1, s2);
                            }
                        }
                    }
                }
            }
        }
    }
}
