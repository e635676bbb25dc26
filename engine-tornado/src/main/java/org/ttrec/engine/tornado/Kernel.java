package org.ttrec.engine.tornado;

import uk.ac.manchester.tornado.api.TaskGraph;

/**
 * One kind of device kernel as the trace engine sees it: a name (part of a program's key), its
 * work-group shape, how many runtime ints and floats each launch reads from the per-execution
 * argument arrays, and how to add it as a task to a task graph.
 *
 * <p>Kernels take {@code (KernelContext, FloatArray heap, IntArray iheap, IntArray args,
 * FloatArray fargs, IntArray done, int slot, int base, int fbase, constants...)} (the upload
 * program's scatter kernels take its staging arrays instead of some of these):
 * it reads its runtime parameters at {@code args[base ..]} and {@code fargs[fbase ..]}, and
 * work-item 0 copies the execution token {@code args[0]} to {@code done[slot]}. TornadoVM
 * compiles int arguments in as constants, so {@code slot}, {@code base} and the constants fix
 * the code; sizes, offsets and scalars that change from call to call travel in the arrays.
 *
 * @param name      unique name
 * @param localX    work-group size in x
 * @param localY    work-group size in y (1 for a 1-D kernel)
 * @param ints      runtime ints per launch
 * @param floats    runtime floats per launch
 * @param constants compiled-in ints per launch (shapes)
 * @param binder    adds the task to a graph
 */
record Kernel(String name, int localX, int localY, int ints, int floats, int constants, Binder binder) {

    /** Adds one launch of a kernel to a task graph. */
    @FunctionalInterface
    interface Binder {
        /**
         * @param g     the graph
         * @param id    task name
         * @param c     the arrays every task takes
         * @param slot  done slot
         * @param base  first runtime int in args
         * @param fbase first runtime float in fargs
         * @param k     compiled-in constants
         */
        void bind(TaskGraph g, String id, Program.Args c, int slot, int base, int fbase, int[] k);
    }

    /** A 1-D kernel without constants. */
    static Kernel of(String name, int local, int ints, int floats, Binder binder) {
        return new Kernel(name, local, 1, ints, floats, 0, binder);
    }

    /** @return whether the grid is 2-D */
    boolean twoD() {
        return localY > 1;
    }
}
