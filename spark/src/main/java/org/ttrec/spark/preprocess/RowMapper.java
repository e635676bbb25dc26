package org.ttrec.spark.preprocess;

import org.apache.spark.TaskContext;
import org.apache.spark.util.TaskCompletionListener;
import org.ttrec.dlrm.data.BadRowPolicy;
import org.ttrec.dlrm.data.CriteoRowParser;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.data.ShardFormat;
import scala.Tuple2;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The second pass over one partition: re-reads its rows, maps categorical values to their final
 * indices and hands them out as runs of shard payload (little-endian rows, {@link ShardFormat}),
 * each keyed by its first global row number and never crossing a shard boundary. Runs are made
 * one at a time as the iterator is consumed, so a task holds one run, not its partition.
 *
 * <p>The first pass counted this partition's good rows and where they start globally; a different
 * count now means the input changed between the passes, which is an error, not a silent shift.
 */
final class RowMapper implements Iterator<Tuple2<Long, byte[]>> {
    /** Rows per run at most: big enough to make shuffle records cheap, small enough to not matter in memory. */
    static final int RUN_ROWS = 4096;

    private final int partition;
    private final String file;
    private final RowCursor cursor;
    private final BadRowPolicy policy;
    private final Dictionaries dicts;
    private final long end;
    private final long rowsPerShard;
    private long next;

    /**
     * @param partition    the partition's index among all partitions of all inputs
     * @param chunks       its chunks (closed by the caller)
     * @param plan         the inputs
     * @param policy       what to do with bad rows
     * @param dicts        the finished dictionaries
     * @param firstRow     global number of the partition's first good row (from the first pass)
     * @param rows         its good rows (from the first pass)
     * @param rowsPerShard rows per shard
     */
    RowMapper(int partition, LineChunkReader chunks, InputPlan plan, BadRowPolicy policy, Dictionaries dicts,
              long firstRow, long rows, long rowsPerShard) {
        this.partition = partition;
        this.file = plan.name(plan.fileOf(partition));
        this.cursor = new RowCursor(chunks, plan.format(plan.fileOf(partition)));
        this.policy = policy;
        this.dicts = dicts;
        this.next = firstRow;
        this.end = firstRow + rows;
        this.rowsPerShard = rowsPerShard;
    }

    /**
     * Opens a partition's split for the second pass; the file is closed when the task ends.
     *
     * @return the partition's runs of mapped rows
     * @throws IOException if the file cannot be opened or the dictionaries not read
     * @see #RowMapper
     */
    static Iterator<Tuple2<Long, byte[]>> open(int partition, TextSplit split, InputPlan plan, HadoopConf conf,
                                               BadRowPolicy policy, String dictionaries, long firstRow, long rows,
                                               long rowsPerShard) throws IOException {
        Dictionaries dicts = DictionaryCache.get(dictionaries, conf);
        LineChunkReader chunks = new LineChunkReader(split, conf.get(), LineChunkReader.DEFAULT_CHUNK_BYTES);
        // Spark consumes the iterator after this returns: close at the task's end, failed or not.
        TaskContext.get().addTaskCompletionListener((TaskCompletionListener) ctx -> {
            try {
                chunks.close();
            } catch (IOException e) {
                throw new UncheckedIOException("closing " + split, e);
            }
        });
        return new RowMapper(partition, chunks, plan, policy, dicts, firstRow, rows, rowsPerShard);
    }

    @Override
    public boolean hasNext() {
        if (next < end) {
            return true;
        }
        while (advance()) {
            if (cursor.good() || policy == BadRowPolicy.FAIL) {
                throw changed("more rows than in the first pass");
            }
        }
        return false;
    }

    private boolean advance() {
        try {
            return cursor.next();
        } catch (IOException e) {
            // Iterator methods cannot throw IOException; Spark reports the cause of a failed task.
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Tuple2<Long, byte[]> next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        final int sparse = CriteoRowParser.SPARSE;
        final int off = 1 + CriteoRowParser.DENSE;
        int n = (int) Math.min(RUN_ROWS, Math.min(end - next, rowsPerShard - next % rowsPerShard));
        byte[] run = new byte[n * ShardFormat.rowBytes(CriteoRowParser.DENSE, sparse)];
        ByteBuffer b = ByteBuffer.wrap(run).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            int[] r = nextGoodRow();
            for (int j = 0; j < off; j++) {
                b.putInt(r[j]);
            }
            for (int t = 0; t < sparse; t++) {
                int idx = dicts.lookup(t, r[off + t]);
                if (idx < 0) {
                    throw changed("row " + (next + i) + " holds a value of C" + (t + 1) + " that the first pass did not see");
                }
                b.putInt(idx);
            }
        }
        Tuple2<Long, byte[]> out = new Tuple2<>(next, run);
        next += n;
        return out;
    }

    private int[] nextGoodRow() {
        while (advance()) {
            if (cursor.good()) {
                return cursor.row();
            }
            if (policy == BadRowPolicy.FAIL) {
                throw changed("a bad row the first pass did not see at byte " + cursor.lineByte());
            }
        }
        throw changed("fewer rows than in the first pass");
    }

    private IllegalStateException changed(String what) {
        return new IllegalStateException(file + " changed while it was preprocessed (partition " + partition + ": "
                + what + ")");
    }
}
