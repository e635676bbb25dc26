package org.ttrec.dlrm.data;

import java.util.Arrays;

/**
 * Maps the raw 32-bit values of one categorical feature to dense table indices in order of first
 * appearance (as facebookresearch/dlrm numbers them), counting how often each value was seen.
 *
 * <p>An open-addressing hash map of ints (two parallel arrays, linear probing) rather than a
 * {@code HashMap<Integer,Integer>}: a Terabyte feature can hold tens of millions of values, and
 * boxed entries would cost ~10x the memory. Not thread-safe; one feature is only ever mapped by
 * one thread at a time.
 */
public final class CategoryDictionary {
    // One long per slot, key in the high half and index + 1 in the low half (0 = empty): a probe
    // touches one cache line instead of two parallel arrays.
    private long[] table;
    private int mask;
    private int size;
    private int[] byIndex = new int[16];
    private int[] counts;

    /** Creates an empty dictionary that counts occurrences. */
    public CategoryDictionary() {
        this(true);
    }

    /**
     * @param counting whether to count occurrences (needed for a frequency threshold; costs one
     *                 more random memory write per value)
     */
    public CategoryDictionary(boolean counting) {
        table = new long[64];
        mask = 63;
        counts = counting ? new int[16] : null;
    }

    /** The murmur3 32-bit finaliser: a cheap full-avalanche mix of an int. */
    static int mix(int x) {
        x ^= x >>> 16;
        x *= 0x85ebca6b;
        x ^= x >>> 13;
        x *= 0xc2b2ae35;
        x ^= x >>> 16;
        return x;
    }

    /**
     * Returns the index of {@code raw}, adding it with the next free index if new, and counts one
     * occurrence.
     *
     * @param raw the raw value (after any modulo)
     * @return its index
     */
    public int add(int raw) {
        final long[] tab = table;
        final int m = mask;
        int i = mix(raw) & m;
        while (true) {
            long e = tab[i];
            if (e == 0) {
                break;
            }
            if ((int) (e >>> 32) == raw) {
                int idx = (int) e - 1;
                if (counts != null && counts[idx] != Integer.MAX_VALUE) {
                    counts[idx]++;
                }
                return idx;
            }
            i = (i + 1) & m;
        }
        int idx = size;
        if (idx == Integer.MAX_VALUE - 1) {
            throw new IllegalStateException("more than 2^31 distinct values in one feature");
        }
        tab[i] = ((long) raw << 32) | (idx + 1L);
        if (idx == byIndex.length) {
            byIndex = Arrays.copyOf(byIndex, idx * 2);
            if (counts != null) {
                counts = Arrays.copyOf(counts, idx * 2);
            }
        }
        byIndex[idx] = raw;
        if (counts != null) {
            counts[idx] = 1;
        }
        size++;
        // Load factor 0.5 keeps probe sequences short on the skewed Criteo distributions.
        if (size * 2L > tab.length) {
            rehash();
        }
        return idx;
    }

    /**
     * Like {@link #add(int)}, counting {@code times} occurrences at once (saturating at 2^31-1 as
     * single adds do): for merging counts made elsewhere.
     *
     * @param raw   the raw value (after any modulo)
     * @param times occurrences, >= 1
     * @return its index
     */
    public int add(int raw, int times) {
        if (times < 1) {
            throw new IllegalArgumentException("occurrences must be >= 1, got " + times);
        }
        int idx = add(raw);
        if (counts != null) {
            counts[idx] = (int) Math.min(Integer.MAX_VALUE, counts[idx] + (times - 1L));
        }
        return idx;
    }

    /**
     * @param raw a raw value
     * @return its index, or -1 if it was never added
     */
    public int get(int raw) {
        int i = mix(raw) & mask;
        while (true) {
            long e = table[i];
            if (e == 0) {
                return -1;
            }
            if ((int) (e >>> 32) == raw) {
                return (int) e - 1;
            }
            i = (i + 1) & mask;
        }
    }

    private void rehash() {
        long[] old = table;
        if (old.length >= 1 << 30) {
            throw new IllegalStateException("dictionary too large");
        }
        table = new long[old.length * 2];
        mask = table.length - 1;
        for (long e : old) {
            if (e != 0) {
                int i = mix((int) (e >>> 32)) & mask;
                while (table[i] != 0) {
                    i = (i + 1) & mask;
                }
                table[i] = e;
            }
        }
    }

    /** @return number of distinct values */
    public int size() {
        return size;
    }

    /** @return the raw value with index {@code index} */
    public int rawValue(int index) {
        Checks0.index(index, size, "dictionary index");
        return byIndex[index];
    }

    /** @return how often the value with index {@code index} was added (saturates at 2^31-1; 0 if not counting) */
    public int count(int index) {
        Checks0.index(index, size, "dictionary index");
        return counts == null ? 0 : counts[index];
    }

    /**
     * Builds the index remapping of a frequency threshold: values seen at least {@code minCount}
     * times keep their order of first appearance and get indices 1, 2, ...; all rarer values share
     * index 0. (dlrm calls the same idea a "frequency threshold"; index 0 is the shared bucket so
     * that the frequent values' indices do not depend on how many rare values there are.)
     *
     * @param minCount the threshold, >= 2
     * @return old index -> new index, of length {@link #size()}
     */
    public int[] minCountRemap(int minCount) {
        if (counts == null) {
            throw new IllegalStateException("this dictionary does not count occurrences");
        }
        int[] remap = new int[size];
        int next = 1;
        for (int i = 0; i < size; i++) {
            remap[i] = counts[i] >= minCount ? next++ : 0;
        }
        return remap;
    }

    /** Tiny argument checks shared by the data classes. */
    static final class Checks0 {
        private Checks0() {}

        static void index(long i, long n, String what) {
            if (i < 0 || i >= n) {
                throw new IndexOutOfBoundsException(what + " " + i + " out of range [0, " + n + ")");
            }
        }
    }
}
