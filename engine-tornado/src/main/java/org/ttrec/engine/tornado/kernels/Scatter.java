package org.ttrec.engine.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Zeroes new buffers and copies staged host writes into the heaps. TornadoVM copies whole arrays to the device, so the
 * host writes of a trace travel in one staging array and these kernels put each chunk in place:
 * work-group g copies chunk g, described at args[base + 1 + 3g ..] as (destination, source,
 * length); args[base] is the number of chunks.
 */
public final class Scatter {
    private Scatter() {}

    /** Float chunks from {@code fs} into the float heap. */
    public static void floats(KernelContext kc, FloatArray f, FloatArray fs, IntArray a, IntArray done, int slot,
                              int base) {
        Marks.ran(kc, a, done, slot);
        int g = kc.groupIdx;
        if (g < a.get(base)) {
            int c = base + 1 + 3 * g;
            int dst = a.get(c);
            int src = a.get(c + 1);
            int n = a.get(c + 2);
            for (int e = kc.localIdx; e < n; e += kc.localGroupSizeX) {
                f.set(dst + e, fs.get(src + e));
            }
        }
    }

    /** Int chunks from {@code is} into the int heap. */
    public static void ints(KernelContext kc, IntArray i, IntArray is, IntArray a, IntArray done, int slot, int base) {
        Marks.ran(kc, a, done, slot);
        int g = kc.groupIdx;
        if (g < a.get(base)) {
            int c = base + 1 + 3 * g;
            int dst = a.get(c);
            int src = a.get(c + 1);
            int n = a.get(c + 2);
            for (int e = kc.localIdx; e < n; e += kc.localGroupSizeX) {
                i.set(dst + e, is.get(src + e));
            }
        }
    }

    /** Zeroes float chunks (destination, unused, length): the regions of new buffers. */
    public static void zeroFloats(KernelContext kc, FloatArray f, IntArray a, IntArray done, int slot, int base) {
        Marks.ran(kc, a, done, slot);
        int g = kc.groupIdx;
        if (g < a.get(base)) {
            int c = base + 1 + 3 * g;
            int dst = a.get(c);
            int n = a.get(c + 2);
            for (int e = kc.localIdx; e < n; e += kc.localGroupSizeX) {
                f.set(dst + e, 0f);
            }
        }
    }

    /** Zeroes int chunks. */
    public static void zeroInts(KernelContext kc, IntArray i, IntArray a, IntArray done, int slot, int base) {
        Marks.ran(kc, a, done, slot);
        int g = kc.groupIdx;
        if (g < a.get(base)) {
            int c = base + 1 + 3 * g;
            int dst = a.get(c);
            int n = a.get(c + 2);
            for (int e = kc.localIdx; e < n; e += kc.localGroupSizeX) {
                i.set(dst + e, 0);
            }
        }
    }
}
