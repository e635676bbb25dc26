package org.ttrec.engine.tornado;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The launches recorded since the last execution, the regions they touch, and the host writes
 * waiting to be copied. A host write is staged only into a region no recorded launch has touched
 * yet (otherwise the engine runs the trace first), so all staged writes of a trace can be copied
 * before its first launch. Writes are cut into chunks of at most {@link #CHUNK} elements: each
 * chunk is one work-group of the scatter kernel.
 */
final class Trace {
    /** Elements per staged chunk. */
    static final int CHUNK = 1 << 14;

    final List<Op> ops = new ArrayList<>();
    /** Regions the trace uses in any way: a read of them runs it first, a release waits for it. */
    final Set<Region> touched = Collections.newSetFromMap(new IdentityHashMap<>());
    /**
     * Regions a launch uses or a staged write fills: a host write into one runs the trace first.
     * A region only zeroed may take staged writes: zeroing runs before the writes are copied.
     */
    final Set<Region> written = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Regions released while touched: handed back after the trace ran. */
    final List<Region> releaseAfter = new ArrayList<>();

    float[] floats = new float[1024];
    int floatCount;
    int[] floatChunks = new int[3 * 16];
    int floatChunkCount;
    int[] ints = new int[1024];
    int intCount;
    int[] intChunks = new int[3 * 16];
    int intChunkCount;
    /** Regions of new buffers to zero, as chunks (destination, 0, length). */
    int[] floatZeros = new int[3 * 16];
    int floatZeroCount;
    int[] intZeros = new int[3 * 16];
    int intZeroCount;

    boolean isEmpty() {
        return ops.isEmpty() && !hasWrites();
    }

    boolean hasWrites() {
        return floatChunkCount > 0 || intChunkCount > 0 || floatZeroCount > 0 || intZeroCount > 0;
    }

    /** Zeroes device elements [dst, dst + n) of the float or the int heap before the staged writes land. */
    void zero(boolean isInt, long dst, int n) {
        for (int done = 0; done < n; done += CHUNK) {
            int len = Math.min(CHUNK, n - done);
            if (isInt) {
                intZeros = grow(intZeros, 3 * (intZeroCount + 1));
                int c = 3 * intZeroCount++;
                intZeros[c] = Math.toIntExact(dst + done);
                intZeros[c + 2] = len;
            } else {
                floatZeros = grow(floatZeros, 3 * (floatZeroCount + 1));
                int c = 3 * floatZeroCount++;
                floatZeros[c] = Math.toIntExact(dst + done);
                floatZeros[c + 2] = len;
            }
        }
    }

    /** Stages floats for device elements [dst, dst + n). */
    void stageFloats(long dst, float[] src, int srcOff, int n) {
        floats = grow(floats, floatCount + n);
        System.arraycopy(src, srcOff, floats, floatCount, n);
        for (int done = 0; done < n; done += CHUNK) {
            floatChunks = grow(floatChunks, 3 * (floatChunkCount + 1));
            int c = 3 * floatChunkCount++;
            floatChunks[c] = Math.toIntExact(dst + done);
            floatChunks[c + 1] = floatCount + done;
            floatChunks[c + 2] = Math.min(CHUNK, n - done);
        }
        floatCount += n;
    }

    /** Stages ints for device elements [dst, dst + n). */
    void stageInts(long dst, int[] src, int srcOff, int n) {
        ints = grow(ints, intCount + n);
        System.arraycopy(src, srcOff, ints, intCount, n);
        for (int done = 0; done < n; done += CHUNK) {
            intChunks = grow(intChunks, 3 * (intChunkCount + 1));
            int c = 3 * intChunkCount++;
            intChunks[c] = Math.toIntExact(dst + done);
            intChunks[c + 1] = intCount + done;
            intChunks[c + 2] = Math.min(CHUNK, n - done);
        }
        intCount += n;
    }

    /** @return the program key of consecutive launches */
    static String key(List<Op> ops) {
        StringBuilder sb = new StringBuilder();
        for (Op op : ops) {
            sb.append(op.key()).append(';');
        }
        return sb.toString();
    }

    void clear() {
        ops.clear();
        touched.clear();
        written.clear();
        floatZeroCount = 0;
        intZeroCount = 0;
        floatCount = 0;
        floatChunkCount = 0;
        intCount = 0;
        intChunkCount = 0;
    }

    private static float[] grow(float[] a, int need) {
        return need <= a.length ? a : Arrays.copyOf(a, Math.max(need, a.length * 2));
    }

    private static int[] grow(int[] a, int need) {
        return need <= a.length ? a : Arrays.copyOf(a, Math.max(need, a.length * 2));
    }
}
