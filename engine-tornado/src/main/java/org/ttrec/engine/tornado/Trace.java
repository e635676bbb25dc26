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
    final Set<Region> touched = Collections.newSetFromMap(new IdentityHashMap<>());
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

    boolean isEmpty() {
        return ops.isEmpty() && floatChunkCount == 0 && intChunkCount == 0;
    }

    boolean hasWrites() {
        return floatChunkCount > 0 || intChunkCount > 0;
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

    /** @return the program key of the recorded launches */
    String key() {
        StringBuilder sb = new StringBuilder();
        for (Op op : ops) {
            sb.append(op.key()).append(';');
        }
        return sb.toString();
    }

    void clear() {
        ops.clear();
        touched.clear();
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
