package org.ttrec.spark.preprocess;

import org.ttrec.dlrm.data.BadRowPolicy;
import org.ttrec.dlrm.data.BadRowReason;
import org.ttrec.dlrm.data.CategoryDictionary;
import org.ttrec.dlrm.data.CriteoFormatException;
import org.ttrec.dlrm.data.CriteoRowParser;

import java.io.IOException;

/**
 * The first pass over one partition: counts lines, good rows and skipped rows, notes the first
 * failure, and collects each feature's distinct values in local first-appearance order with
 * counts. Under {@link BadRowPolicy#FAIL} a bad row ends the scan and is reported, not thrown: the
 * driver decides which partition's failure comes first in file order.
 */
final class PartitionScanner {
    private PartitionScanner() {}

    /**
     * @param partition   the partition's index among all partitions of all inputs
     * @param split       its part of the input
     * @param plan        the inputs
     * @param conf        Hadoop settings
     * @param policy      what to do with bad rows
     * @param maxIndRange modulo applied to raw values first, 0 for none
     * @return the scan
     * @throws IOException if the input cannot be read
     */
    static PartitionScan scan(int partition, TextSplit split, InputPlan plan, HadoopConf conf, BadRowPolicy policy,
                              int maxIndRange) throws IOException {
        try (LineChunkReader chunks = new LineChunkReader(split, conf.get(), LineChunkReader.DEFAULT_CHUNK_BYTES)) {
            return scan(partition, new RowCursor(chunks, plan.format(split.file)), policy, maxIndRange);
        }
    }

    private static PartitionScan scan(int partition, RowCursor c, BadRowPolicy policy, int maxIndRange)
            throws IOException {
        final int sparse = CriteoRowParser.SPARSE;
        final int off = 1 + CriteoRowParser.DENSE;
        CategoryDictionary[] seen = new CategoryDictionary[sparse];
        for (int t = 0; t < sparse; t++) {
            seen[t] = new CategoryDictionary(true);
        }
        long lines = 0;
        long rows = 0;
        long[] skipped = new long[BadRowReason.values().length];
        long firstByte = -1;
        ScanFailure failure = null;
        try {
            while (c.next()) {
                if (firstByte < 0) {
                    firstByte = c.lineByte();
                }
                lines++;
                if (c.good()) {
                    rows++;
                    int[] r = c.row();
                    for (int t = 0; t < sparse; t++) {
                        int v = r[off + t];
                        seen[t].add(maxIndRange > 0 ? Integer.remainderUnsigned(v, maxIndRange) : v);
                    }
                } else if (policy == BadRowPolicy.SKIP) {
                    skipped[c.reason().ordinal()]++;
                } else {
                    failure = c.failure();
                    break;
                }
            }
        } catch (CriteoFormatException e) {
            // A line without a line break within 16 MiB: fatal under either policy, and reported like
            // a bad row so that the driver can tell whether an earlier bad row comes first.
            failure = ScanFailure.of(e);
        }
        int[][] values = new int[sparse][];
        int[][] counts = new int[sparse][];
        for (int t = 0; t < sparse; t++) {
            int n = seen[t].size();
            values[t] = new int[n];
            counts[t] = new int[n];
            for (int i = 0; i < n; i++) {
                values[t][i] = seen[t].rawValue(i);
                counts[t][i] = seen[t].count(i);
            }
        }
        return new PartitionScan(new PartitionSummary(partition, lines, rows, skipped, firstByte, failure), values, counts);
    }
}
