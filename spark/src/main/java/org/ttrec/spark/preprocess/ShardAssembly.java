package org.ttrec.spark.preprocess;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.ttrec.dlrm.data.CriteoRowParser;
import org.ttrec.dlrm.data.ShardFormat;
import scala.Tuple2;

import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Turns the second pass's runs of rows, partitioned by shard and sorted by first row, into shard
 * files. A shard's header holds the payload's CRC32C and comes before the payload, and files on
 * HDFS or object stores cannot be patched after writing, so this takes two jobs over the same
 * shuffle output (Spark computes the map side once): the first sums up rows and checksums, the
 * second writes header and payload in one sequential stream.
 */
final class ShardAssembly {
    private ShardAssembly() {}

    /** One shard's row count and payload checksum. */
    static final class ShardSum implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;

        final int shard;
        final long rows;
        final int crc;

        ShardSum(int shard, long rows, int crc) {
            this.shard = shard;
            this.rows = rows;
            this.crc = crc;
        }
    }

    /**
     * @param sorted       runs keyed by first global row, one partition per shard, sorted
     * @param rowsPerShard rows per shard
     * @return each shard's rows and payload CRC32C, in shard order
     */
    static List<ShardSum> checksums(JavaPairRDD<Long, byte[]> sorted, long rowsPerShard) {
        return sorted.mapPartitionsWithIndex((k, runs) -> {
            CRC32C crc = new CRC32C();
            long rows = forEachRun(k, runs, rowsPerShard, crc, null);
            return List.of(new ShardSum(k, rows, (int) crc.getValue())).iterator();
        }, true).collect();
    }

    /**
     * Writes each shard to a hidden temporary file next to its final name; the driver renames them
     * once all are written.
     *
     * @param sorted        the same runs as given to {@link #checksums}
     * @param outDir        the output folder
     * @param run           the run id, part of temporary names
     * @param conf          Hadoop settings
     * @param cardinalities final table sizes
     * @param sums          what {@link #checksums} found, in shard order
     * @param rowsPerShard  rows per shard
     * @return the temporary file of each shard, in shard order
     */
    static List<String> write(JavaPairRDD<Long, byte[]> sorted, String outDir, String run, HadoopConf conf,
                              int[] cardinalities, ShardSum[] sums, long rowsPerShard) {
        return sorted.mapPartitionsWithIndex((k, runs) -> {
            Path target = new Path(outDir, ShardFormat.shardName(k));
            // the attempt id keeps a retried or speculative attempt off a file another one still writes
            Path tmp = HadoopFiles.temporary(target, run, String.valueOf(TaskContext.get().taskAttemptId()));
            FileSystem fs = FileSystems.of(tmp, conf.get());
            ShardSum sum = sums[k];
            HadoopFiles.write(fs, tmp, out -> {
                out.write(ShardFormat.header(sum.rows, CriteoRowParser.DENSE, cardinalities, sum.crc));
                CRC32C crc = new CRC32C();
                long rows = forEachRun(k, runs, rowsPerShard, crc, out);
                if (rows != sum.rows || (int) crc.getValue() != sum.crc) {
                    throw new IllegalStateException("shard " + k + ": " + rows + " rows with CRC32C "
                            + Integer.toHexString((int) crc.getValue()) + " on writing, " + sum.rows + " with "
                            + Integer.toHexString(sum.crc) + " before");
                }
            });
            return List.of(tmp.toString()).iterator();
        }, true).collect();
    }

    /**
     * Goes through one shard's runs in order, checking that they are contiguous from the shard's
     * first row, adding them to a checksum and, if given, writing them.
     *
     * @return the shard's rows
     */
    private static long forEachRun(int shard, Iterator<Tuple2<Long, byte[]>> runs, long rowsPerShard, CRC32C crc,
                                   java.io.OutputStream out) throws IOException {
        final int rowBytes = ShardFormat.rowBytes(CriteoRowParser.DENSE, CriteoRowParser.SPARSE);
        long first = shard * rowsPerShard;
        long expected = first;
        while (runs.hasNext()) {
            Tuple2<Long, byte[]> r = runs.next();
            if (r._1() != expected) {
                throw new IllegalStateException("shard " + shard + ": rows " + expected + " to " + r._1()
                        + " are missing or repeated");
            }
            crc.update(r._2());
            if (out != null) {
                out.write(r._2());
            }
            expected += r._2().length / rowBytes;
        }
        return expected - first;
    }
}
