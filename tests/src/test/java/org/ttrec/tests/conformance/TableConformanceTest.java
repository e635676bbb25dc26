package org.ttrec.tests.conformance;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.DenseTable;
import org.ttrec.engine.EmbeddingTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.TtTable;
import org.ttrec.engine.scalar.ScalarBackend;
import org.ttrec.engine.tt.TtTestUtil;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend-owned tables and their lookup plans on every available backend, against the same
 * tables of the scalar reference: TT tables on the awkward shapes of {@link TtConformanceTest}
 * and dense tables, every optimiser, both poolings, with and without weights, several steps on
 * one plan (the plan re-set to a new batch each step), a forward whose kept products must be
 * dropped because the cores were written before the backward, state written from outside,
 * materialisation, and the errors a plan and a closed table give.
 */
class TableConformanceTest {
    static final ScalarBackend REF = new ScalarBackend();
    static final List<ComputeBackend> SUBJECTS = Subjects.all();

    static List<ComputeBackend> subjects() {
        return SUBJECTS;
    }

    @AfterAll
    static void close() {
        SUBJECTS.forEach(ComputeBackend::close);
    }

    /** One step on both tables: set the plans, forward, compare, backward, compare parameters and states. */
    private static void step(String at, EmbeddingTable ref, LookupPlan refPlan, EmbeddingTable got, LookupPlan gotPlan,
                             int[][] io, int bags, float[] w, Pooling pool, SparseOptimizer opt, SplittableRandom r,
                             boolean rewriteCoresBeforeBackward) {
        int dim = ref.dim(), ld = dim + 2, off = 1;
        refPlan.set(io[0], io[1], bags, w);
        gotPlan.set(io[0], io[1], bags, w);
        assertEquals(bags, gotPlan.bags(), at + ": bags");
        assertEquals(io[1][bags] - io[1][0], gotPlan.lookups(), at + ": lookups");
        float[] out = TtTestUtil.randomFloats(r, off + bags * ld);
        FloatBuf o1 = REF.upload(out), o2 = got.backend().upload(out);
        ref.forward(refPlan, pool, false, o1, off, ld);
        got.forward(gotPlan, pool, false, o2, off, ld);
        TtConformanceTest.close(at + " forward", o1.toArray(), o2.toArray(), 1e-5);
        if (rewriteCoresBeforeBackward) {
            // the backward must see these cores, not what the forward kept
            TtTable a = (TtTable) ref, b = (TtTable) got;
            for (int k = 0; k < a.shape().cores(); k++) {
                float[] c = a.readCore(k);
                for (int i = 0; i < c.length; i++) {
                    c[i] = c[i] * 0.5f + 0.01f * (i % 7);
                }
                a.writeCore(k, c);
                b.writeCore(k, c);
            }
        }
        float[] grad = TtTestUtil.randomFloats(r, off + bags * ld);
        ref.backward(refPlan, pool, REF.upload(grad), off, ld, opt);
        got.backward(gotPlan, pool, got.backend().upload(grad), off, ld, opt);
        assertEquals(ref.stateKind(), got.stateKind(), at + ": state kind");
        if (ref instanceof TtTable a) {
            TtTable b = (TtTable) got;
            for (int k = 0; k < a.shape().cores(); k++) {
                TtConformanceTest.close(at + " core " + k, a.readCore(k), b.readCore(k), 2e-5);
                float[] sa = a.readState(k), sb = b.readState(k);
                assertEquals(sa == null, sb == null, at + ": state " + k + " present");
                if (sa != null) {
                    TtConformanceTest.close(at + " state " + k, sa, sb, 2e-5);
                }
            }
        } else {
            DenseTable a = (DenseTable) ref, b = (DenseTable) got;
            float[] ta = new float[a.rows() * dim], tb = new float[a.rows() * dim];
            a.readRows(0, ta, 0, a.rows());
            b.readRows(0, tb, 0, b.rows());
            TtConformanceTest.close(at + " rows", ta, tb, 1e-6);
            float[] sa = a.readState(), sb = b.readState();
            assertEquals(sa == null, sb == null, at + ": state present");
            if (sa != null) {
                TtConformanceTest.close(at + " state", sa, sb, 1e-6);
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void ttTablesTrainAsTheReference(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(31);
        for (TtShape s : TtConformanceTest.shapes()) {
            float[][] cores = TtTestUtil.randomCores(s, 3, 0.4);
            for (SparseOptimizer opt : TtConformanceTest.OPTIMIZERS) {
                for (Pooling pool : Pooling.values()) {
                    for (boolean weighted : new boolean[] {false, true}) {
                        String at = be.name() + "/" + be.threads() + " " + s + " " + opt.kind() + " " + pool
                                + (weighted ? " weighted" : "");
                        try (TtTable ref = REF.newTtTable("ref", s); TtTable got = be.newTtTable("table 9", s);
                             LookupPlan rp = ref.newPlan(); LookupPlan gp = got.newPlan()) {
                            assertNull(got.stateKind(), at + ": no state before a backward");
                            for (int k = 0; k < s.cores(); k++) {
                                ref.writeCore(k, cores[k]);
                                got.writeCore(k, cores[k]);
                            }
                            float[][] st = TtConformanceTest.state(s, opt, r);
                            ref.writeStates(opt.kind(), st);
                            got.writeStates(opt.kind(), st);
                            // several steps on one plan: small, large (several threads), small again
                            int step = 0;
                            for (int bags : new int[] {3, 301, 40}) {
                                int[][] io = TtConformanceTest.bags(r, s.rows(), bags, bags > 100 ? 9 : 5);
                                float[] w = weighted ? TtTestUtil.randomFloats(r, io[0].length) : null;
                                step(at + " step " + step, ref, rp, got, gp, io, bags, w, pool, opt, r, step == 1);
                                step++;
                            }
                            int[] rows = {0, s.rows() - 1, s.rows() / 2, 0};
                            TtConformanceTest.close(at + ": materialize", ref.materialize(rows), got.materialize(rows), 1e-5);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void denseTablesTrainAsTheReference(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(32);
        for (int dim : Subjects.sizes()) {
            for (int rows : new int[] {1, 7, 500}) {
                float[] init = TtTestUtil.randomFloats(r, rows * dim);
                for (SparseOptimizer opt : TtConformanceTest.OPTIMIZERS) {
                    for (Pooling pool : Pooling.values()) {
                        String at = be.name() + "/" + be.threads() + " dense " + rows + "x" + dim + " " + opt.kind()
                                + " " + pool;
                        try (DenseTable ref = REF.newDenseTable("ref", rows, dim);
                             DenseTable got = be.newDenseTable("table 4", rows, dim);
                             LookupPlan rp = ref.newPlan(); LookupPlan gp = got.newPlan()) {
                            ref.writeRows(0, init, 0, rows);
                            got.writeRows(0, init, 0, rows);
                            for (int bags : new int[] {5, 300}) {
                                int[][] io = TtConformanceTest.bags(r, rows, bags, bags > 100 ? 9 : 4);
                                float[] w = TtTestUtil.randomFloats(r, io[0].length);
                                step(at + " bags " + bags, ref, rp, got, gp, io, bags, w, pool, opt, r, false);
                            }
                            int[] some = {rows - 1, 0};
                            assertArrayEquals(ref.materialize(some), got.materialize(some), at + ": materialize");
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void plansCheckTheirBatchAndTheirTable(ComputeBackend be) {
        TtShape s = new TtShape(37, 6, new int[] {5, 8}, new int[] {3, 2}, new int[] {1, 4, 1});
        try (TtTable t = be.newTtTable("table 7", s); TtTable other = be.newTtTable("table 8", s);
             LookupPlan p = t.newPlan(); LookupPlan q = other.newPlan()) {
            FloatBuf out = be.allocFloats(2 * 6);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> p.set(new int[] {0, 37}, new int[] {0, 1, 2}, 2, null));
            assertTrue(e.getMessage().contains("table 7") && e.getMessage().contains("37"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.set(new int[] {0, 1}, new int[] {0, 2, 1}, 2, null));
            assertTrue(e.getMessage().contains("non-decreasing"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.set(new int[] {0, 1}, new int[] {0, 1, 2}, 2,
                    new float[1]));
            assertTrue(e.getMessage().contains("weights"), e.getMessage());
            q.set(new int[] {1, 2}, new int[] {0, 1, 2}, 2, null);
            e = assertThrows(IllegalArgumentException.class, () -> t.forward(q, Pooling.SUM, false, out, 0, 6));
            assertTrue(e.getMessage().contains("another table"), e.getMessage());
            p.set(new int[] {9, 1, 2}, new int[] {1, 2, 3}, 2, null); // offsets need not start at 0
            assertEquals(2, p.lookups());
            t.forward(p, Pooling.SUM, false, out, 0, 6);
            e = assertThrows(IllegalArgumentException.class, () -> t.forward(p, Pooling.SUM, false, out, 1, 6));
            assertTrue(e.getMessage().contains("out"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> t.writeCore(0, new float[3]));
            assertTrue(e.getMessage().contains("core 0"), e.getMessage());
        }
        TtTable closed = be.newTtTable("table 3", s);
        LookupPlan plan = closed.newPlan();
        closed.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> closed.readCore(0));
        assertTrue(e.getMessage().contains("table 3"), e.getMessage());
        plan.close();
        assertThrows(IllegalStateException.class, () -> plan.set(new int[] {0}, new int[] {0, 1}, 1, null));
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void uploadsCopyAndTheNonFiniteFlagRemembersTheFirstTag(ComputeBackend be) {
        float[] a = {1f, 2f, 3f};
        FloatBuf b = be.upload(a);
        a[0] = 99f;
        assertEquals(1f, b.toArray()[0], "upload copies: a later change of the array does not reach the buffer");
        int[] ia = {4, 5};
        var ib = be.upload(ia);
        ia[1] = -1;
        assertEquals(5, ib.toArray()[1]);
        assertTrue(be.memoryAvailable() > 0, "memory available");

        be.clearNonFinite();
        assertEquals(-1, be.firstNonFinite());
        FloatBuf x = be.upload(new float[] {0f, 1f, Float.NaN, Float.POSITIVE_INFINITY});
        be.checkFinite(2, x, 0, 5);
        assertEquals(-1, be.firstNonFinite(), "finite values raise nothing");
        be.checkFinite(1, x, 2, 6);
        be.checkFinite(1, x, 3, 7);
        assertEquals(6, be.firstNonFinite(), "the first tag stays");
        be.clearNonFinite();
        be.checkFinite(1, x, 3, 8);
        assertEquals(8, be.firstNonFinite(), "infinity counts");
        be.clearNonFinite();
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void linearAndDotInteractionMatchTheReference(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(33);
        for (int rows : new int[] {1, 3, 17}) {
            for (int in : Subjects.sizes()) {
                for (int out : new int[] {1, 5, 16, 33}) {
                    for (boolean relu : new boolean[] {false, true}) {
                        String at = be.name() + "/" + be.threads() + " linear " + rows + "x" + in + "->" + out
                                + (relu ? " relu" : "");
                        float[] x = TtTestUtil.randomFloats(r, 2 + rows * in), w = TtTestUtil.randomFloats(r, out * in + 1);
                        float[] bias = TtTestUtil.randomFloats(r, out + 3), dy = TtTestUtil.randomFloats(r, rows * out);
                        float[][] res = new float[2][];
                        float[][] grads = new float[2][];
                        int i = 0;
                        for (ComputeBackend b : new ComputeBackend[] {REF, be}) {
                            FloatBuf xb = b.upload(x), wb = b.upload(w), bb = b.upload(bias);
                            FloatBuf y = b.allocFloats(rows * out), dyb = b.upload(dy);
                            FloatBuf dw = b.allocFloats(out * in + 1), db = b.allocFloats(out + 3);
                            FloatBuf dx = b.allocFloats(2 + rows * in);
                            b.linearForward(rows, in, out, xb, 2, wb, 1, bb, 3, relu, y, 0);
                            b.linearBackward(rows, in, out, xb, 2, wb, 1, relu, y, 0, dyb, 0, dw, 1, db, 3, dx, 2);
                            res[i] = y.toArray();
                            grads[i] = concat(dw.toArray(), db.toArray(), dx.toArray(), dyb.toArray());
                            i++;
                        }
                        double tol = 1e-5 * (in + rows);
                        TtConformanceTest.close(at + " forward", res[0], res[1], tol);
                        TtConformanceTest.close(at + " backward", grads[0], grads[1], tol);
                    }
                }
            }
        }
        for (int rows : new int[] {1, 5, 64}) {
            for (int vectors : new int[] {2, 3, 27}) {
                for (int dim : new int[] {1, 3, 16}) {
                    for (boolean self : new boolean[] {false, true}) {
                        String at = be.name() + "/" + be.threads() + " dot interaction " + rows + " x " + vectors + " x "
                                + dim + (self ? " self" : "");
                        int width = ComputeBackend.dotInteractionWidth(vectors, dim, self);
                        float[] t = TtTestUtil.randomFloats(r, 1 + rows * vectors * dim);
                        float[] bottom = TtTestUtil.randomFloats(r, rows * dim);
                        float[] dr = TtTestUtil.randomFloats(r, rows * width);
                        float[][] fwd = new float[2][], bwd = new float[2][];
                        int i = 0;
                        for (ComputeBackend b : new ComputeBackend[] {REF, be}) {
                            FloatBuf tb = b.upload(t), rb = b.allocFloats(rows * width), drb = b.upload(dr);
                            FloatBuf dtb = b.allocFloats(1 + rows * vectors * dim), dbb = b.allocFloats(rows * dim);
                            b.dotInteractionForward(rows, vectors, dim, self, b.upload(bottom), 0, tb, 1, rb, 0);
                            b.dotInteractionBackward(rows, vectors, dim, self, tb, 1, drb, 0, dtb, 1, dbb, 0);
                            fwd[i] = concat(rb.toArray(), tb.toArray());
                            bwd[i] = concat(dtb.toArray(), dbb.toArray());
                            i++;
                        }
                        TtConformanceTest.close(at + " forward", fwd[0], fwd[1], 1e-5 * dim);
                        TtConformanceTest.close(at + " backward", bwd[0], bwd[1], 1e-5 * dim * vectors);
                        // the bottom output lands in vector 0 of T and in the first D outputs
                        float[] tOut = java.util.Arrays.copyOfRange(fwd[1], rows * width, fwd[1].length);
                        for (int row = 0; row < rows; row++) {
                            for (int c = 0; c < dim; c++) {
                                assertEquals(bottom[row * dim + c], tOut[1 + row * vectors * dim + c], at + ": T[" + row + ", 0]");
                                assertEquals(bottom[row * dim + c], fwd[1][row * width + c], at + ": r[" + row + "]");
                            }
                        }
                    }
                }
            }
        }
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] all = new float[n];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, o, p.length);
            o += p.length;
        }
        return all;
    }
}
