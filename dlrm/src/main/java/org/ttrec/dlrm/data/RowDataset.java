package org.ttrec.dlrm.data;

import java.io.IOException;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A {@link Dataset} over a {@link RowStore} whose splits are row ranges. Builds batches (dense
 * transform, one lookup per sample per table) and checks every label and index it hands out, so
 * a corrupt file is reported with its position instead of failing inside an embedding kernel.
 *
 * <p>Shuffling is two-level so that it works for billions of rows with bounded memory: the split
 * is cut into blocks of {@code blockRows} consecutive rows, the blocks are put in a seeded random
 * order, and rows are shuffled within windows of {@value #WINDOW_BLOCKS} consecutive blocks of
 * that order. A batch thus mixes rows from up to 64 places spread over the whole split, while the
 * reads stay in runs that the page cache likes. Same seed, same order, on any machine.
 */
class RowDataset implements Dataset {
    static final int WINDOW_BLOCKS = 64;

    private final RowStore store;
    private final int dense;
    private final int[] cardinalities;
    private final Map<Split, long[]> ranges;
    private final String description;

    RowDataset(RowStore store, int dense, int[] cardinalities, Map<Split, long[]> ranges, String description) {
        this.store = store;
        this.dense = dense;
        this.cardinalities = cardinalities.clone();
        this.ranges = ranges;
        this.description = description;
        if (store.rowInts() != 1 + dense + cardinalities.length) {
            throw new IllegalArgumentException("row store has " + store.rowInts() + " ints per row, expected "
                    + (1 + dense + cardinalities.length));
        }
        for (var e : ranges.entrySet()) {
            long[] r = e.getValue();
            if (r[0] < 0 || r[1] < r[0] || r[1] > store.rows()) {
                throw new IllegalArgumentException("split " + e.getKey() + " range [" + r[0] + ", " + r[1]
                        + ") outside the " + store.rows() + " rows of " + description);
            }
        }
    }

    @Override
    public int denseFeatures() {
        return dense;
    }

    @Override
    public int[] cardinalities() {
        return cardinalities.clone();
    }

    @Override
    public long size(Split split) {
        long[] r = ranges.get(split);
        return r[1] - r[0];
    }

    @Override
    public String describe() {
        return description;
    }

    RowStore store() {
        return store;
    }

    long[] range(Split s) {
        return ranges.get(s).clone();
    }

    @Override
    public BatchStream batches(Split split, int batchSize, boolean shuffle, long seed) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        long[] r = ranges.get(split);
        return new Stream(r[0], r[1], batchSize, shuffle ? new ShuffledOrder(r[0], r[1], seed) : null);
    }

    @Override
    public void close() throws IOException {
        store.close();
    }

    /** Seeded two-level shuffle of [start, end) (see the class comment). */
    static final class ShuffledOrder {
        private final long start;
        private final long n;
        private final int blockRows;
        private final int[] blockOrder;
        private final long seed;
        private long[] window = new long[0];
        private int windowLen;
        private int pos;
        private int nextBlock;

        ShuffledOrder(long start, long end, long seed) {
            this.start = start;
            this.n = end - start;
            this.seed = seed;
            // 256-row blocks, larger when needed to keep the block count an int.
            this.blockRows = (int) Math.max(256, (n + (1L << 30) - 1) >>> 30);
            int blocks = (int) ((n + blockRows - 1) / blockRows);
            blockOrder = new int[blocks];
            for (int i = 0; i < blocks; i++) {
                blockOrder[i] = i;
            }
            shuffle(blockOrder, new SplittableRandom(seed));
        }

        private static void shuffle(int[] a, SplittableRandom rnd) {
            for (int i = a.length - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int t = a[i];
                a[i] = a[j];
                a[j] = t;
            }
        }

        /** @return the next row, or -1 at the end */
        long next() {
            if (pos == windowLen) {
                if (nextBlock >= blockOrder.length) {
                    return -1;
                }
                fill();
            }
            return window[pos++];
        }

        private void fill() {
            int w = nextBlock / WINDOW_BLOCKS;
            int last = Math.min(blockOrder.length, nextBlock + WINDOW_BLOCKS);
            int len = 0;
            if (window.length < WINDOW_BLOCKS * blockRows) {
                window = new long[(int) Math.min(n, (long) WINDOW_BLOCKS * blockRows)];
            }
            for (int b = nextBlock; b < last; b++) {
                long first = (long) blockOrder[b] * blockRows;
                long stop = Math.min(n, first + blockRows);
                for (long x = first; x < stop; x++) {
                    window[len++] = start + x;
                }
            }
            SplittableRandom rnd = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (w + 1)));
            for (int i = len - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                long t = window[i];
                window[i] = window[j];
                window[j] = t;
            }
            nextBlock = last;
            windowLen = len;
            pos = 0;
        }
    }

    private final class Stream implements BatchStream {
        private long next;
        private final long end;
        private final int batchSize;
        private final ShuffledOrder order;
        private final int rowInts = store.rowInts();
        private int[] rows;
        private final long[] rowIds;

        Stream(long start, long end, int batchSize, ShuffledOrder order) {
            this.next = start;
            this.end = end;
            this.batchSize = batchSize;
            this.order = order;
            this.rowIds = order == null ? null : new long[batchSize];
        }

        @Override
        public Batch next() throws IOException {
            int b = (int) Math.min(batchSize, end - next);
            if (b <= 0) {
                return null;
            }
            if (rows == null) {
                rows = new int[batchSize * rowInts];
            }
            if (order == null) {
                store.read(next, b, rows, 0);
            } else {
                for (int i = 0; i < b; i++) {
                    long r = order.next();
                    rowIds[i] = r;
                    store.read(r, 1, rows, i * rowInts);
                }
            }
            Batch batch = assemble(b);
            next += b; // with shuffling, 'next' only counts rows handed out
            return batch;
        }

        private long rowOf(int i) {
            return order == null ? next + i : rowIds[i]; // called before 'next' advances
        }

        private Batch assemble(int b) throws CriteoFormatException {
            final int tables = cardinalities.length;
            final int[] rs = rows;
            float[] d = new float[b * dense];
            float[] labels = new float[b];
            int[][] idx = new int[tables][b];
            int[][] off = new int[tables][];
            int[] identity = new int[b + 1];
            for (int i = 0; i <= b; i++) {
                identity[i] = i;
            }
            for (int i = 0; i < b; i++) {
                int p = i * rowInts;
                int label = rs[p];
                if ((label & ~1) != 0) {
                    long row = rowOf(i);
                    throw new CriteoFormatException(BadRowReason.BAD_LABEL, store.fileOf(row), -1,
                            store.byteOffsetOf(row), 0, String.valueOf(label), "row " + row + ": expected 0 or 1");
                }
                labels[i] = label;
                for (int j = 0; j < dense; j++) {
                    d[i * dense + j] = DenseTransform.apply(rs[p + 1 + j]);
                }
                int q = p + 1 + dense;
                for (int t = 0; t < tables; t++) {
                    int v = rs[q + t];
                    if (v < 0 || v >= cardinalities[t]) {
                        long row = rowOf(i);
                        throw new CriteoFormatException(BadRowReason.INDEX_OUT_OF_RANGE, store.fileOf(row), -1,
                                store.byteOffsetOf(row), 1 + dense + t, String.valueOf(v),
                                "row " + row + ": table " + t + " has " + cardinalities[t] + " rows");
                    }
                    idx[t][i] = v;
                }
            }
            for (int t = 0; t < tables; t++) {
                // Separate arrays per table: the trainer may keep or modify them.
                off[t] = t == 0 ? identity : identity.clone();
            }
            return new Batch(b, d, labels, idx, off);
        }

        @Override
        public void close() {
            rows = null;
        }
    }
}
