package org.ttrec.spark.preprocess;

import java.io.Serial;
import java.io.Serializable;

/**
 * What the first pass found in one partition (one split of one input file), without the
 * categorical values: enough for the driver to number lines and rows across partitions, to add up
 * skipped rows and to find the first malformed line in file order.
 */
final class PartitionSummary implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Index of the partition among all partitions of all inputs, in input order. */
    final int partition;
    /** Data lines that start in the partition (good and bad; up to the failure, if any). */
    final long lines;
    /** Good rows. */
    final long rows;
    /** Rows skipped, per {@code BadRowReason} ordinal. */
    final long[] skipped;
    /** Byte offset of the partition's first line, -1 if it has none. */
    final long firstByte;
    /** The first failure, or null. */
    final ScanFailure failure;

    PartitionSummary(int partition, long lines, long rows, long[] skipped, long firstByte, ScanFailure failure) {
        this.partition = partition;
        this.lines = lines;
        this.rows = rows;
        this.skipped = skipped;
        this.firstByte = firstByte;
        this.failure = failure;
    }
}
