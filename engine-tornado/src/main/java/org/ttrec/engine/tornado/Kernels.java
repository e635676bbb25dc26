package org.ttrec.engine.tornado;

import org.ttrec.engine.tornado.kernels.Elementwise;
import org.ttrec.engine.tornado.kernels.Gemm;
import org.ttrec.engine.tornado.kernels.Reduce;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task9;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/** The kernels of the dense ops, as the trace engine launches them (see {@link Kernel}). */
final class Kernels {
    private Kernels() {}

    /** The signature every plain kernel has. */
    interface Plain extends Task9<KernelContext, FloatArray, IntArray, IntArray, FloatArray, IntArray, Integer, Integer,
            Integer> {
    }

    /** A 1-D plain kernel. */
    static Kernel plain(String name, int local, int ints, int floats, Plain fn) {
        return new Kernel(name, local, 1, ints, floats, 0,
                (g, id, c, slot, base, fbase, k) -> g.task(id, fn, c.kc, c.f, c.i, c.a, c.fa, c.done, slot, base, fbase));
    }

    /** A 2-D plain kernel. */
    static Kernel plain2(String name, int lx, int ly, int ints, int floats, Plain fn) {
        return new Kernel(name, lx, ly, ints, floats, 0,
                (g, id, c, slot, base, fbase, k) -> g.task(id, fn, c.kc, c.f, c.i, c.a, c.fa, c.done, slot, base, fbase));
    }

    static final int LOCAL = 256;

    static final Kernel FILL = plain("fill", LOCAL, 2, 1, Elementwise::fill);
    static final Kernel COPY = plain("copy", LOCAL, 3, 0, Elementwise::copy);
    static final Kernel COPY2D = plain("copy2d", LOCAL, 6, 0, Elementwise::copy2d);
    static final Kernel AXPY = plain("axpy", LOCAL, 3, 1, Elementwise::axpy);
    static final Kernel SCALE = plain("scale", LOCAL, 2, 1, Elementwise::scale);
    static final Kernel ADD_BIAS = plain("addBias", LOCAL, 5, 0, Elementwise::addBias);
    static final Kernel SUM_ROWS = plain("sumRows", 64, 5, 1, Elementwise::sumRows);
    static final Kernel RELU = plain("relu", LOCAL, 3, 0, Elementwise::relu);
    static final Kernel RELU_BACKWARD = plain("reluBackward", LOCAL, 4, 0, Elementwise::reluBackward);
    static final Kernel SIGMOID = plain("sigmoid", LOCAL, 3, 0, Elementwise::sigmoid);
    static final Kernel BCE_BACKWARD = plain("bceSigmoidBackward", LOCAL, 4, 1, Elementwise::bceSigmoidBackward);
    static final Kernel ADAGRAD = plain("adagrad", LOCAL, 4, 2, Elementwise::adagrad);
    static final Kernel GATHER_COLUMNS = plain("gatherColumns", LOCAL, 7, 0, Elementwise::gatherColumns);
    static final Kernel SCATTER_ADD_COLUMNS = plain("scatterAddColumns", LOCAL, 9, 0, Elementwise::scatterAddColumns);
    static final Kernel REDUCE = plain("reduce", Reduce.GROUP, 5, 0, Reduce::reduce);
    static final Kernel CHECK_FINITE = plain("checkFinite", Reduce.GROUP, 5, 0, Reduce::checkFinite);
    static final Kernel GEMM = plain2("gemm", Gemm.WG, Gemm.WG, 14, 2, Gemm::tiled);
    static final Kernel GEMM_BATCHED = plain("gemmBatched", 128, 19, 2, Gemm::batched);
}
