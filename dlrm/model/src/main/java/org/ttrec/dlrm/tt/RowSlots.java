package org.ttrec.dlrm.tt;

/**
 * The hot-row cache's index: cached row id -> cache slot, by open addressing with linear
 * probing in a table at most half full. A lookup is one or two probes into an array that fits
 * in L2, where a binary search over the sorted cached rows took about log2(k) dependent loads
 * (14 for 10,000 cached rows) for every lookup of every batch.
 */
final class RowSlots {
    private final int[] keys; // row ids, -1 = empty
    private final int[] slots;
    private final int mask;

    /** @param rows distinct, non-negative row ids; row {@code rows[i]} gets slot i */
    RowSlots(int[] rows) {
        int cap = Integer.highestOneBit(Math.max(2, rows.length) * 2 - 1) << 1; // >= 2 * rows, power of two
        keys = new int[cap];
        slots = new int[cap];
        mask = cap - 1;
        java.util.Arrays.fill(keys, -1);
        for (int i = 0; i < rows.length; i++) {
            int h = hash(rows[i]) & mask;
            while (keys[h] >= 0) {
                if (keys[h] == rows[i]) {
                    throw new IllegalArgumentException("row " + rows[i] + " listed twice");
                }
                h = (h + 1) & mask;
            }
            keys[h] = rows[i];
            slots[h] = i;
        }
    }

    /** @return the slot of {@code row}, or -1 when it is not cached */
    int slot(int row) {
        int h = hash(row) & mask;
        while (true) {
            int k = keys[h];
            if (k == row) {
                return slots[h];
            }
            if (k < 0) {
                return -1;
            }
            h = (h + 1) & mask;
        }
    }

    /** Fibonacci hashing: the high bits of row * 2^32 / phi, folded down (row ids are often clustered). */
    private static int hash(int row) {
        int x = row * 0x9E3779B9;
        return x ^ (x >>> 16);
    }
}
