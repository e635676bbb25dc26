package org.ttrec.engine.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The launch check every kernel makes, and the root graph's one task.
 *
 * <p>Why: in TornadoVM 5.2.0 (OpenCL) a refused launch (CL_OUT_OF_RESOURCES on NVIDIA,
 * CL_INVALID_WORK_GROUP_SIZE) is printed on stdout and {@code execute()} returns normally with
 * the outputs untouched. Each kernel's first work-item copies the execution's token into its done
 * slot, which comes back with every execution; the host throws when a slot is stale.
 */
public final class Marks {
    private Marks() {}

    /** Marks a 1-D kernel as run: work-item 0 copies the token args[0] into done[slot]. */
    public static void ran(KernelContext kc, IntArray a, IntArray done, int slot) {
        if (kc.globalIdx == 0) {
            done.set(slot, a.get(0));
        }
    }

    /** Marks a 2-D kernel as run. */
    public static void ran2(KernelContext kc, IntArray a, IntArray done, int slot) {
        if (kc.globalIdx == 0 && kc.globalIdy == 0) {
            done.set(slot, a.get(0));
        }
    }

    /**
     * The root graph's task: it only reports, since TornadoVM moves data around tasks; the root
     * exists to own the device copies of the heaps.
     */
    public static void root(KernelContext kc, FloatArray f, IntArray i, IntArray a, IntArray done) {
        if (kc.globalIdx == 0) {
            done.set(0, a.get(0));
        }
    }
}
