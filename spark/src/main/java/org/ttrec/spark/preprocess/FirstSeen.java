package org.ttrec.spark.preprocess;

import java.io.Serial;
import java.io.Serializable;

/**
 * Where a categorical value first appears and how often it appears, merged across partitions.
 * {@link #first} orders appearances in input order: the partition's index in the high 32 bits and
 * the value's rank among the partition's distinct values (in its first-appearance order) in the
 * low 32 bits, so the smallest {@code first} over all partitions is the value's first appearance
 * in the concatenated input.
 */
final class FirstSeen implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Position of the first appearance: partition << 32 | local rank. */
    final long first;
    /** Occurrences, saturated at 2^31-1 as {@code CategoryDictionary} counts them. */
    final int count;

    FirstSeen(long first, int count) {
        this.first = first;
        this.count = count;
    }

    /** @return the earlier first appearance and the (saturated) sum of the counts */
    static FirstSeen merge(FirstSeen a, FirstSeen b) {
        return new FirstSeen(Math.min(a.first, b.first), (int) Math.min(Integer.MAX_VALUE, (long) a.count + b.count));
    }
}
