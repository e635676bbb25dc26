package org.ttrec.engine.tornado;

import org.ttrec.engine.tornado.kernels.Marks;
import uk.ac.manchester.tornado.api.DataRange;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.TornadoVMBackendType;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The two device arrays every buffer lives in (floats and ints) and the root task graph that
 * owns their device copies.
 *
 * <p>How programs share them (TornadoVM 5.2.0; see the module's README section): a program's
 * graph takes the heaps with {@code consumeFromDevice}, which makes TornadoVM reuse the device
 * buffer of the graph executed just before it in the same execution plan. Each program's plan is
 * therefore {@code [root, program]} with this one root graph object in every plan: executing the
 * root once in a new plan ({@link #link}) hands the program the root's device buffers, and from
 * then on the program keeps them. The root copies the heaps to the device on its first execution
 * only; nothing copies them again. A program's graph must not mark the heaps persistOnDevice:
 * closing its plan would then free the shared buffers.
 */
final class Heaps implements AutoCloseable {
    /** OpenCL build options: IEEE single precision as the reference computes it (no relaxed math, no mad). */
    static final String COMPILER_FLAGS = "-w -cl-fp32-correctly-rounded-divide-sqrt";

    final TornadoDevice device;
    final FloatArray f;
    final IntArray i;
    private final String name;
    private final ImmutableTaskGraph root;
    private final TornadoExecutionPlan rootPlan;
    private final IntArray rootArgs = new IntArray(1);
    private final IntArray rootDone = new IntArray(1);
    private final TornadoExecutionResult rootResult;
    private int token;

    /**
     * Allocates the host arrays and copies them to the device (zeros, or the contents given).
     *
     * @param device  the TornadoVM device
     * @param name    unique graph name
     * @param floats  float heap elements
     * @param ints    int heap elements
     * @param oldF    contents to start the float heap with (a smaller heap being replaced), or null
     * @param oldI    contents to start the int heap with, or null
     */
    Heaps(TornadoDevice device, String name, long floats, long ints, FloatArray oldF, IntArray oldI) {
        this.device = device;
        this.name = name;
        f = new FloatArray(Math.toIntExact(floats));
        i = new IntArray(Math.toIntExact(ints));
        if (oldF != null) {
            MemorySegment.copy(oldF.getSegment(), 0, f.getSegment(), 0, oldF.getSegment().byteSize());
            MemorySegment.copy(oldI.getSegment(), 0, i.getSegment(), 0, oldI.getSegment().byteSize());
        }
        TaskGraph g = new TaskGraph(name)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, f, i)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, rootArgs)
                .task("t", Marks::root, new KernelContext(), f, i, rootArgs, rootDone)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, rootDone)
                .persistOnDevice(f, i);
        root = g.snapshot();
        rootPlan = configure(new TornadoExecutionPlan(root), new GridScheduler());
        rootArgs.set(0, ++token);
        rootResult = rootPlan.execute();
        check(rootDone.get(0), "the root graph (copying the heaps to the device)");
    }

    /** Applies the device, the grid of the root task and the compiler flags to a plan holding the root. */
    TornadoExecutionPlan configure(TornadoExecutionPlan plan, GridScheduler gs) {
        WorkerGrid1D g = new WorkerGrid1D(1);
        g.setLocalWork(1, 1, 1);
        gs.addWorkerGrid(name + ".t", g);
        plan.withDevice(device);
        plan.withGridScheduler(gs);
        plan.withCompilerFlags(TornadoVMBackendType.OPENCL, COMPILER_FLAGS);
        return plan;
    }

    /** @return the root graph, graph 0 of every program's plan */
    ImmutableTaskGraph root() {
        return root;
    }

    /** Runs the root in a new program's plan, which gives the program the heaps' device buffers. */
    void link(TornadoExecutionPlan plan) {
        rootArgs.set(0, ++token);
        plan.withGraph(0).execute();
        check(rootDone.get(0), "the root graph of a new program");
    }

    private void check(int got, String what) {
        if (got != token) {
            throw new IllegalStateException("TornadoVM: " + what + " did not run on " + device.getDeviceName()
                    + " (launch failed; the OpenCL error is on stdout)");
        }
    }

    /** Copies floats [off, off + n) of the device heap into the host array. */
    void readFloats(long off, long n) {
        if (n > 0) {
            rootResult.transferToHost(new DataRange(f).withOffset(off).withSize(n));
        }
    }

    /** Copies ints [off, off + n) of the device heap into the host array (kernel-written regions only). */
    void readInts(long off, long n) {
        if (n > 0) {
            rootResult.transferToHost(new DataRange(i).withOffset(off).withSize(n));
        }
    }

    /** Copies both device heaps, up to the given lengths, into the host arrays. */
    void readAll(long floats, long ints) {
        readFloats(0, floats);
        readInts(0, ints);
    }

    static float[] floats(FloatArray a, long off, int n, float[] dst, int dstOff) {
        MemorySegment.copy(a.getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, off * Float.BYTES, dst, dstOff, n);
        return dst;
    }

    static int[] ints(IntArray a, long off, int n, int[] dst, int dstOff) {
        MemorySegment.copy(a.getSegment(), ValueLayout.JAVA_INT_UNALIGNED, off * Integer.BYTES, dst, dstOff, n);
        return dst;
    }

    /** Frees the device heaps; every program plan must be closed first. */
    @Override
    public void close() {
        try {
            rootPlan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException("TornadoVM: closing the root plan failed", e);
        }
    }
}
