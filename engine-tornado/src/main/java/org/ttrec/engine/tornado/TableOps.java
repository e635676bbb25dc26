package org.ttrec.engine.tornado;

import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.tornado.kernels.TtGeneric;

import static org.ttrec.engine.tornado.PlanLayout.*;
import static org.ttrec.engine.tornado.TornadoBackend.off;

/**
 * Records the launches of an embedding table's forward and backward (uncompressed, TT with the
 * d = 3 kernels, TT with the generic kernels) for a batch on the device ({@link DevicePlan}).
 * Tables, their plans and the one-shot calls of the backend all come here. Scratch comes from
 * the backend's TT scratch, reused call after call (launches run in order, and nothing is kept
 * between a forward and a backward).
 */
final class TableOps {
    private TableOps() {}

    /** Largest prefix product (q0 q1 R2 floats) times chunk that the d = 3 forward keeps in local memory. */
    private static final int LOCAL_FLOATS = 4096;

    /** How a TT shape runs: the d = 3 kernels or the generic ones. */
    static boolean fast(TtShape s) {
        return s.cores() == 3 && TtKernels.CHUNK * s.q(0) * s.q(1) * s.rank(2) <= LOCAL_FLOATS;
    }

    /**
     * @throws IllegalArgumentException if neither the d = 3 nor the generic kernels can run the shape
     */
    static void checkShape(String name, TtShape s) {
        if (fast(s)) {
            return;
        }
        for (int k = 0; k <= s.cores(); k++) {
            if (s.rank(k) > TtGeneric.MAX_RANK) {
                throw new IllegalArgumentException(name + ": the tornado backend runs TT shapes other than d = 3 with"
                        + " ranks up to " + TtGeneric.MAX_RANK + "; " + s + " has R_" + k + " = " + s.rank(k));
            }
        }
    }

    /** The shape constants of the d = 3 kernels. */
    private static int[] constants(TtShape s) {
        return new int[] {TtKernels.CHUNK, s.q(0), s.q(1), s.q(2), s.rank(1), s.rank(2)};
    }

    /**
     * The generic kernels' shape descriptor (see {@link TtGeneric}) for cores at the given heap
     * offsets.
     */
    static int[] descriptor(TtShape s, int[] coreOffsets) {
        int d = s.cores();
        int[] desc = new int[TtGeneric.CORE0 + TtGeneric.FIELDS * d];
        desc[0] = d;
        desc[1] = s.dim();
        int left = 0;
        int m = 1;
        for (int k = 0; k < d; k++) {
            int f = TtGeneric.CORE0 + TtGeneric.FIELDS * k;
            int n = s.dim() / (m * s.q(k));
            desc[f] = s.p(k);
            desc[f + 1] = s.q(k);
            desc[f + 2] = s.rank(k);
            desc[f + 3] = s.rank(k + 1);
            desc[f + 4] = coreOffsets[k];
            desc[f + 5] = s.sliceSize(k);
            desc[f + 6] = m;
            desc[f + 7] = n;
            if (k < d - 1) {
                desc[f + 8] = left;
                left += m * s.q(k) * s.rank(k + 1);
            }
            m *= s.q(k);
        }
        int right = 0;
        for (int k = d - 1; k >= 1; k--) {
            int f = TtGeneric.CORE0 + TtGeneric.FIELDS * k;
            desc[f + 9] = right;
            right += s.rank(k) * s.q(k) * desc[f + 7];
        }
        desc[2] = left;
        desc[3] = right;
        return desc;
    }

    // ------------------------------------------------------------------ uncompressed

    /** out[b] (+)= pooled table rows of the plan's batch. */
    static void denseForward(TornadoBackend be, Region table, int dim, DevicePlan p, Pooling pooling, boolean accumulate,
                             Region out, int outOff, int ldOut) {
        pool(be, dim, p, pooling, accumulate, out, outOff, ldOut, p.section(IDX), table);
    }

    /** Sums each touched row's gradient, then applies {@code opt} once per touched row. */
    static void denseBackward(TornadoBackend be, Region table, int dim, Region state, DevicePlan p, Pooling pooling,
                              Region grad, int gradOff, int ldGrad, SparseOptimizer opt) {
        HostPlan h = p.host();
        if (h.distinct == 0) {
            return;
        }
        Region scratch = be.ttScratch((long) h.distinct * dim);
        rowGrad(be, dim, p, pooling, grad, gradOff, ldGrad, scratch);
        update(be, h.distinct, p.section(UROW), 1, dim, scratch, off(scratch), table, state, opt, p.lists());
    }

    // ------------------------------------------------------------------ TT

    /**
     * out[b] (+)= pooled TT rows of the plan's batch.
     *
     * @param cores the core regions
     * @param desc  the generic kernels' descriptor region (null for the d = 3 kernels)
     */
    static void ttForward(TornadoBackend be, TtShape s, Region[] cores, Region desc, DevicePlan p, Pooling pooling,
                          boolean accumulate, Region out, int outOff, int ldOut) {
        HostPlan h = p.host();
        int dim = s.dim();
        Region rows = be.ttScratch(Math.max(1L, (long) h.distinct * dim));
        if (h.distinct > 0) {
            if (desc == null) {
                long groups = (h.prefixes + TtKernels.CHUNK - 1) / TtKernels.CHUNK;
                be.record(new Op(TtKernels.PREFIX_ROWS, constants(s), new int[] {p.base(), h.stride, h.prefixes,
                        off(cores[0]), off(cores[1]), off(cores[2]), off(rows)}, new float[0],
                        groups * TtKernels.ROWS_LOCAL, 1), p.lists(), cores[0], cores[1], cores[2], rows);
            } else {
                be.record(Op.of(TtKernels.GENERIC_ROWS, (long) h.distinct * dim, new int[] {p.base(), h.stride,
                        h.distinct, off(desc), off(rows)}), all(cores, p.lists(), desc, rows));
            }
        }
        pool(be, dim, p, pooling, accumulate, out, outOff, ldOut, p.section(LROW), rows);
    }

    /** Backward of the plan's batch with the fused optimiser: all slice gradients first, then the updates. */
    static void ttBackward(TornadoBackend be, TtShape s, Region[] cores, Region[] states, Region desc, DevicePlan p,
                           Pooling pooling, Region grad, int gradOff, int ldGrad, SparseOptimizer opt) {
        HostPlan h = p.host();
        if (h.distinct == 0) {
            return;
        }
        int dim = s.dim();
        int d = s.cores();
        long gRowSize = (long) h.distinct * dim;
        long[] sgOff = new long[d];
        long total = gRowSize;
        long p1 = 0, gp1 = 0, gp0 = 0, left = 0, right = 0;
        int[] descData = null;
        if (desc == null) {
            int pw = s.q(0) * s.q(1) * s.rank(2);
            p1 = total;
            gp1 = p1 + (long) h.prefixes * pw;
            gp0 = gp1 + (long) h.prefixes * pw;
            total = gp0 + (long) h.prefixes * s.q(0) * s.rank(1);
        } else {
            int[] offs = new int[d];
            descData = descriptor(s, offs);
            left = total;
            right = left + (long) h.distinct * descData[2];
            total = right + (long) h.distinct * descData[3];
        }
        for (int k = 0; k < d; k++) {
            sgOff[k] = total;
            total += (long) h.touched[k] * s.sliceSize(k);
        }
        Region sc = be.ttScratch(total);
        int b = off(sc);
        rowGrad(be, dim, p, pooling, grad, gradOff, ldGrad, sc);
        if (desc == null) {
            int[] k = constants(s);
            int pw = s.q(0) * s.q(1) * s.rank(2);
            int pl = p.base();
            int st = h.stride;
            be.record(new Op(TtKernels.PREFIX_PRODUCTS, k, new int[] {pl, st, h.prefixes, off(cores[0]), off(cores[1]),
                    b + (int) p1}, new float[0], (long) h.prefixes * pw, 1), p.lists(), cores[0], cores[1], sc);
            be.record(new Op(TtKernels.PREFIX_GRAD, k, new int[] {pl, st, h.prefixes, off(cores[2]), b, b + (int) gp1},
                    new float[0], (long) h.prefixes * pw, 1), p.lists(), cores[2], sc);
            be.record(new Op(TtKernels.CORE2_GRAD, k, new int[] {pl, st, h.touched[2], b + (int) p1, b,
                    b + (int) sgOff[2]}, new float[0], (long) h.touched[2] * s.sliceSize(2), 1), p.lists(), sc);
            be.record(new Op(TtKernels.CORE1_GRAD, k, new int[] {pl, st, h.touched[1], off(cores[0]), b + (int) gp1,
                    b + (int) sgOff[1]}, new float[0], (long) h.touched[1] * s.sliceSize(1), 1), p.lists(), cores[0], sc);
            be.record(new Op(TtKernels.PREFIX_GRAD0, k, new int[] {pl, st, h.prefixes, off(cores[1]), b + (int) gp1,
                    b + (int) gp0}, new float[0], (long) h.prefixes * s.sliceSize(0), 1), p.lists(), cores[1], sc);
            be.record(new Op(TtKernels.CORE0_GRAD, k, new int[] {pl, st, h.touched[0], b + (int) gp0, b + (int) sgOff[0]},
                    new float[0], (long) h.touched[0] * s.sliceSize(0), 1), p.lists(), sc);
            updates(be, s, cores, states, sc, b, sgOff, new int[] {p.section(T0), p.section(T1), p.section(T2)}, h, opt,
                    p.lists());
        } else {
            int pl = p.base();
            int st = h.stride;
            Region[] touchedRegions = all(cores, p.lists(), desc, sc);
            be.record(Op.of(TtKernels.GENERIC_LEFT, h.distinct, new int[] {pl, st, h.distinct, off(desc), b + (int) left}),
                    touchedRegions);
            be.record(Op.of(TtKernels.GENERIC_RIGHT, h.distinct, new int[] {pl, st, h.distinct, off(desc),
                    b + (int) right}), touchedRegions);
            int[] lists = new int[d];
            for (int k = 0; k < d; k++) {
                be.record(Op.of(TtKernels.GENERIC_SLICE, (long) h.touched[k] * s.sliceSize(k), new int[] {pl, st, k,
                        h.touched[k], off(desc), b, b + (int) left, b + (int) right, b + (int) sgOff[k]}), touchedRegions);
                lists[k] = p.section(PlanLayout.touched(d, k));
            }
            updates(be, s, cores, states, sc, b, sgOff, lists, h, opt, p.lists());
        }
    }

    private static void updates(TornadoBackend be, TtShape s, Region[] cores, Region[] states, Region sc, int b,
                                long[] sgOff, int[] lists, HostPlan h, SparseOptimizer opt, Region plan) {
        for (int k = s.cores() - 1; k >= 0; k--) {
            update(be, h.touched[k], lists[k], s.rank(k), s.q(k) * s.rank(k + 1), sc, b + (int) sgOff[k], cores[k],
                    states == null ? null : states[k], opt, plan);
        }
    }

    // ------------------------------------------------------------------ shared

    private static void pool(TornadoBackend be, int dim, DevicePlan p, Pooling pooling, boolean accumulate, Region out,
                             int outOff, int ldOut, int rowIdx, Region src) {
        HostPlan h = p.host();
        if (h.bags == 0) {
            return;
        }
        be.record(Op.of(TtKernels.POOL, (long) h.bags * dim, new int[] {h.bags, dim, off(out) + outOff, ldOut,
                accumulate ? 1 : 0, pooling == Pooling.MEAN ? 1 : 0, p.weights() != null ? 1 : 0, p.weightBase(),
                p.section(OFF), rowIdx, off(src)}), out, p.lists(), p.weights(), src);
    }

    private static void rowGrad(TornadoBackend be, int dim, DevicePlan p, Pooling pooling, Region grad, int gradOff,
                                int ldGrad, Region gRow) {
        HostPlan h = p.host();
        be.record(Op.of(TtKernels.ROW_GRAD, (long) h.distinct * dim, new int[] {h.distinct, dim, p.section(RLK),
                p.section(LKBAG), p.section(LKPERM), p.section(OFF), p.weights() != null ? 1 : 0, p.weightBase(),
                pooling == Pooling.MEAN ? 1 : 0, off(grad) + gradOff, ldGrad, off(gRow)}), grad, p.lists(), p.weights(),
                gRow);
    }

    private static void update(TornadoBackend be, int count, int list, int rowsK, int cols, Region sc, int g, Region w,
                               Region state, SparseOptimizer opt, Region plan) {
        if (count == 0) {
            return;
        }
        long items = opt.kind() == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? (long) count * rowsK : (long) count * rowsK * cols;
        be.record(Op.of(TtKernels.UPDATE, items, new int[] {count, list, rowsK, cols, g, off(w),
                state == null ? 0 : off(state), opt.kind().ordinal()}, opt.lr(), opt.eps()), sc, w, state, plan);
    }

    private static Region[] all(Region[] cores, Region... more) {
        Region[] r = new Region[cores.length + more.length];
        System.arraycopy(cores, 0, r, 0, cores.length);
        System.arraycopy(more, 0, r, cores.length, more.length);
        return r;
    }
}
