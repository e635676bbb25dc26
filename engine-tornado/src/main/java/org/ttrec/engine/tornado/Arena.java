package org.ttrec.engine.tornado;

import java.util.Map;
import java.util.TreeMap;

/**
 * Hands out regions of one device array (the float or the int heap of a {@link Device}): every
 * buffer of the backend is a region of one of two TornadoVM arrays, because TornadoVM shares a
 * device array between task graphs only when every graph declares it, and a graph per program
 * cannot declare buffers that did not exist when it was built. First fit over a free list kept
 * sorted by offset, neighbours merged on release; regions start on {@link #ALIGN}-element
 * boundaries so device loads of a region's start are aligned.
 */
final class Arena {
    /** Region alignment in elements (64 bytes). */
    static final int ALIGN = 16;

    private final TreeMap<Long, Long> free = new TreeMap<>();
    private long capacity;
    private long used;

    /** @param capacity elements of the array the regions live in */
    Arena(long capacity) {
        this.capacity = capacity;
        free.put(0L, capacity);
    }

    /** @return elements of the array */
    long capacity() {
        return capacity;
    }

    /** @return elements handed out (aligned sizes) */
    long used() {
        return used;
    }

    /**
     * @param n elements (0 gets a region of {@link #ALIGN} so that every buffer has its own offset)
     * @return the region's offset, or -1 if no free run is long enough
     */
    long allocate(long n) {
        long size = align(Math.max(n, 1));
        long off = -1;
        long run = 0;
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            if (e.getValue() >= size) {
                // copied out first: TreeMap.remove may reuse this entry for the successor
                off = e.getKey();
                run = e.getValue();
                break;
            }
        }
        if (off < 0) {
            return -1;
        }
        free.remove(off);
        if (run > size) {
            free.put(off + size, run - size);
        }
        used += size;
        return off;
    }

    /** Returns a region of {@code n} elements at {@code off} (as allocated). */
    void release(long off, long n) {
        long size = align(Math.max(n, 1));
        used -= size;
        long start = off;
        long end = off + size;
        Map.Entry<Long, Long> before = free.floorEntry(off);
        if (before != null && before.getKey() + before.getValue() == off) {
            start = before.getKey();
            free.remove(before.getKey());
        }
        Long after = free.get(end);
        if (after != null) {
            free.remove(end);
            end += after;
        }
        free.put(start, end - start);
    }

    /** Extends the array to {@code newCapacity} elements (the array itself is replaced by the caller). */
    void grow(long newCapacity) {
        if (newCapacity <= capacity) {
            return;
        }
        release(capacity, newCapacity - capacity);
        used += newCapacity - capacity; // release() counted the new tail as handed back
        capacity = newCapacity;
    }

    /** @return the end of the last region in use: elements a copy of the array must keep */
    long highWater() {
        Map.Entry<Long, Long> last = free.lastEntry();
        return last != null && last.getKey() + last.getValue() == capacity ? last.getKey() : capacity;
    }

    private static long align(long n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }
}
