package org.ttrec.engine.tornado;

import java.util.Arrays;

/**
 * One recorded launch: the kernel, its compiled-in constants, its runtime ints and floats, and
 * how many work-items it needs in x and y (the engine rounds up to whole work-groups; kernels
 * check their index against the real size).
 */
record Op(Kernel kernel, int[] constants, int[] ints, float[] floats, long itemsX, long itemsY) {

    Op {
        if (ints.length != kernel.ints() || floats.length != kernel.floats() || constants.length != kernel.constants()) {
            throw new IllegalStateException("kernel " + kernel.name() + " takes " + kernel.ints() + " ints, "
                    + kernel.floats() + " floats and " + kernel.constants() + " constants; got " + ints.length + ", "
                    + floats.length + ", " + constants.length);
        }
    }

    /** A 1-D launch without constants. */
    static Op of(Kernel k, long items, int[] ints, float... floats) {
        return new Op(k, new int[0], ints, floats, items, 1);
    }

    /** @return this launch's part of a program key */
    String key() {
        return constants.length == 0 ? kernel.name() : kernel.name() + Arrays.toString(constants);
    }
}
