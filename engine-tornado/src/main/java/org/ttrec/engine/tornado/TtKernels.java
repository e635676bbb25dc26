package org.ttrec.engine.tornado;

import org.ttrec.engine.tornado.kernels.Lookups;
import org.ttrec.engine.tornado.kernels.TtFast;
import org.ttrec.engine.tornado.kernels.TtGeneric;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.common.TornadoFunctions.Task15;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/** The embedding-table kernels as the trace engine launches them (see {@link Kernel}). */
final class TtKernels {
    private TtKernels() {}

    /** The signature of the d = 3 kernels: the plain one plus the shape (chunk, q0, q1, q2, r1, r2). */
    interface Shaped extends Task15<KernelContext, FloatArray, IntArray, IntArray, FloatArray, IntArray, Integer, Integer,
            Integer, Integer, Integer, Integer, Integer, Integer, Integer> {
    }

    private static Kernel shaped(String name, int local, int ints, Shaped fn) {
        return new Kernel(name, local, 1, ints, 0, 6, (g, id, c, slot, base, fbase, k) -> g.task(id, fn, c.kc, c.f, c.i,
                c.a, c.fa, c.done, slot, base, fbase, k[0], k[1], k[2], k[3], k[4], k[5]));
    }

    static final Kernel POOL = Kernels.plain("pool", 128, 11, 0, Lookups::pool);
    static final Kernel ROW_GRAD = Kernels.plain("rowGrad", 128, 12, 0, Lookups::rowGrad);
    static final Kernel UPDATE = Kernels.plain("update", 128, 8, 2, Lookups::update);

    /** Work-group size of the prefix-rows kernel and prefixes per work-group (chunk). */
    static final int ROWS_LOCAL = 128;
    static final int CHUNK = 8;

    static final Kernel PREFIX_ROWS = shaped("ttPrefixRows", ROWS_LOCAL, 7, TtFast::prefixRows);
    static final Kernel PREFIX_PRODUCTS = shaped("ttPrefixProducts", 128, 6, TtFast::prefixProducts);
    static final Kernel PREFIX_GRAD = shaped("ttPrefixGrad", 128, 6, TtFast::prefixGrad);
    static final Kernel CORE2_GRAD = shaped("ttCore2Grad", 128, 6, TtFast::core2Grad);
    static final Kernel CORE1_GRAD = shaped("ttCore1Grad", 128, 6, TtFast::core1Grad);
    static final Kernel PREFIX_GRAD0 = shaped("ttPrefixGrad0", 128, 6, TtFast::prefixGrad0);
    static final Kernel CORE0_GRAD = shaped("ttCore0Grad", 128, 5, TtFast::core0Grad);

    static final Kernel GENERIC_ROWS = Kernels.plain("ttRows", 64, 5, 0, TtGeneric::rows);
    static final Kernel GENERIC_LEFT = Kernels.plain("ttLeft", 64, 5, 0, TtGeneric::left);
    static final Kernel GENERIC_RIGHT = Kernels.plain("ttRight", 64, 5, 0, TtGeneric::right);
    static final Kernel GENERIC_SLICE = Kernels.plain("ttSlice", 64, 9, 0, TtGeneric::slice);
}
