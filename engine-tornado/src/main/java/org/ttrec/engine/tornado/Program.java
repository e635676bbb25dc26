package org.ttrec.engine.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * A compiled sequence of launches: one task graph (one task per launch) in its own execution
 * plan {@code [root, graph]} (see {@link Heaps}), replayed with new sizes, offsets and scalars
 * at every execution. Per execution the host copies in the argument arrays (and staging arrays
 * of an upload), and copies back only the done slots, which turn a launch the driver refused
 * into an exception: TornadoVM 5.2.0 only prints such a failure on stdout and returns normally.
 */
final class Program implements AutoCloseable {

    /** The arrays a program's tasks take; each program has its own (closing a plan frees them). */
    static final class Args {
        final KernelContext kc = new KernelContext();
        final FloatArray f;
        final IntArray i;
        final IntArray a;
        final FloatArray fa;
        final IntArray done;
        /** Staging arrays of an upload program, null in others. */
        final FloatArray fs;
        final IntArray is;

        Args(Heaps h, int ints, int floats, int slots, FloatArray fs, IntArray is) {
            f = h.f;
            i = h.i;
            a = new IntArray(Math.max(1, ints));
            fa = new FloatArray(Math.max(1, floats));
            done = new IntArray(Math.max(1, slots));
            this.fs = fs;
            this.is = is;
        }
    }

    private final String name;
    private final TornadoExecutionPlan plan;
    private final Args args;
    private final Kernel[] kernels;
    private final WorkerGrid[] grids;
    private final int[] hostInts;
    private final float[] hostFloats;

    /**
     * Builds the graph and its plan, and links it to the heaps (compilation happens at the first
     * {@link #run}).
     *
     * @param heaps the heaps and root graph
     * @param name  unique graph name
     * @param ops   the launches (their kernels and constants; sizes are taken at each run)
     * @param fs    staging floats copied in every execution, or null
     * @param is    staging ints copied in every execution, or null
     */
    Program(Heaps heaps, String name, List<Op> ops, FloatArray fs, IntArray is) {
        this.name = name;
        int ints = 1;
        int floats = 0;
        for (Op op : ops) {
            ints += op.kernel().ints();
            floats += op.kernel().floats();
        }
        args = new Args(heaps, ints, floats, ops.size(), fs, is);
        hostInts = new int[ints];
        hostFloats = new float[Math.max(1, floats)];
        kernels = new Kernel[ops.size()];
        grids = new WorkerGrid[ops.size()];
        TaskGraph g = new TaskGraph(name).consumeFromDevice(args.f, args.i)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, args.a, args.fa);
        if (fs != null) {
            g.transferToDevice(DataTransferMode.EVERY_EXECUTION, fs, is);
        }
        GridScheduler gs = new GridScheduler();
        int base = 1;
        int fbase = 0;
        for (int t = 0; t < ops.size(); t++) {
            Kernel k = ops.get(t).kernel();
            kernels[t] = k;
            String id = "k" + t;
            k.binder().bind(g, id, args, t, base, fbase, ops.get(t).constants());
            if (k.twoD()) {
                WorkerGrid2D w = new WorkerGrid2D(k.localX(), k.localY());
                w.setLocalWork(k.localX(), k.localY(), 1);
                grids[t] = w;
            } else {
                WorkerGrid1D w = new WorkerGrid1D(k.localX());
                w.setLocalWork(k.localX(), 1, 1);
                grids[t] = w;
            }
            gs.addWorkerGrid(name + "." + id, grids[t]);
            base += k.ints();
            fbase += k.floats();
        }
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, args.done);
        plan = heaps.configure(new TornadoExecutionPlan(heaps.root(), g.snapshot()), gs);
        heaps.link(plan);
    }

    /** @return the staging floats of an upload program */
    FloatArray stagingFloats() {
        return args.fs;
    }

    /** @return the staging ints of an upload program */
    IntArray stagingInts() {
        return args.is;
    }

    /**
     * Executes the launches with the sizes and parameters of {@code ops} (same kernels and
     * constants as at construction) and checks that every one of them ran.
     *
     * @param ops   the launches
     * @param token a number not used by the previous execution
     */
    void run(List<Op> ops, int token) {
        hostInts[0] = token;
        int base = 1;
        int fbase = 0;
        for (int t = 0; t < ops.size(); t++) {
            Op op = ops.get(t);
            System.arraycopy(op.ints(), 0, hostInts, base, op.ints().length);
            System.arraycopy(op.floats(), 0, hostFloats, fbase, op.floats().length);
            base += op.ints().length;
            fbase += op.floats().length;
            Kernel k = kernels[t];
            grids[t].setGlobalWork(global(op.itemsX(), k.localX()), global(op.itemsY(), k.localY()), 1);
        }
        MemorySegment.copy(hostInts, 0, args.a.getSegment(), ValueLayout.JAVA_INT_UNALIGNED, 0, hostInts.length);
        MemorySegment.copy(hostFloats, 0, args.fa.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, hostFloats.length);
        plan.withGraph(1).execute();
        for (int t = 0; t < ops.size(); t++) {
            if (args.done.get(t) != token) {
                throw new IllegalStateException("TornadoVM kernel " + kernels[t].name() + " (task " + name + ".k" + t
                        + ") did not run: the launch failed (the OpenCL error is printed on stdout)");
            }
        }
    }

    /**
     * The global size of {@code items} work-items: whole work-groups, at least one (OpenCL 1.2
     * wants a multiple of the local size). A negative count asks for exactly that many,
     * rounded or not: only the launch check's test does, to make the driver refuse a launch.
     */
    static long global(long items, int local) {
        if (items < 0) {
            return -items;
        }
        return Math.max(1, (items + local - 1) / local) * local;
    }

    /** Frees this program's own arrays and compiled code (not the heaps). */
    @Override
    public void close() {
        try {
            plan.withGraph(1);
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException("TornadoVM: closing program " + name + " failed", e);
        }
    }
}
