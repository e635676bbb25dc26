package org.ttrec.spark.preprocess;

import java.io.Serial;
import java.io.Serializable;

/**
 * The first pass's result for one partition: its {@link PartitionSummary} and, per categorical
 * feature, the distinct values of its good rows (after the modulo) in the order they first appear
 * in the partition, with how often each appears there. Merged across partitions in input order,
 * the first appearances give the single-machine dictionary order.
 */
final class PartitionScan implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Counts and failure. */
    final PartitionSummary summary;
    /** Per feature, distinct values in local first-appearance order. */
    final int[][] values;
    /** Per feature, occurrences of each value (saturated at 2^31-1). */
    final int[][] counts;

    PartitionScan(PartitionSummary summary, int[][] values, int[][] counts) {
        this.summary = summary;
        this.values = values;
        this.counts = counts;
    }
}
