package org.ttrec.dlrm.data;

import java.io.IOException;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A {@link Dataset} over a {@link RowStore} whose splits are row ranges. Builds batches (dense
 * transform, one lookup per sample per table) and checks every label and index it hands out, so
 * a corrupt file is reported with its position instead of failing inside an embedding kernel.
 *
 * <p>Batches hold one lookup per sample per table; the offsets array {@code 0..B} is one
 * instance shared by all tables of a batch (treat batches as read-only).
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
    private Dictionaries dictionaries;

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

    /** Sets what {@link #dictionaries()} returns (the in-memory dictionaries of raw text). */
    RowDataset withDictionaries(Dictionaries d) {
        this.dictionaries = d;
        return this;
    }

    @Override
    public Dictionaries dictionaries() {
        return dictionaries;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public Dataset trainPart(int part, int parts) {
        if (parts < 1 || part < 0 || part >= parts) {
            throw new IllegalArgumentException("part " + part + " of " + parts + ": need 0 <= part < parts");
        }
        long[] r = ranges.get(Split.TRAIN);
        long n = r[1] - r[0];
        Map<Split, long[]> cut = new java.util.EnumMap<>(Split.class);
        cut.putAll(ranges);
        // piece i is [n*i/P, n*(i+1)/P): sizes differ by at most one row
        cut.put(Split.TRAIN, new long[] {r[0] + n * part / parts,
                r[0] + n * (part + 1) / parts});
        return new RowDataset(store, dense, cardinalities, cut,
                description + ", training rows part " + (part + 1) + " of " + parts).withDictionaries(dictionaries);
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

        private int[] perm = new int[0];
        private int[] windowData = new int[0];
        private int rowInts;

        /** @return the next row, or -1 at the end */
        long next() {
            if (pos == windowLen) {
                if (nextBlock >= blockOrder.length) {
                    return -1;
                }
                try {
                    fill(null);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return window[perm[pos++]];
        }

        /**
         * Copies the next row into {@code dst[off..]}: whole blocks are read into a window buffer
         * in runs (cheap sequential copies), and rows are picked from it in shuffled order.
         *
         * @return the row number, or -1 at the end
         */
        long nextInto(RowStore store, int[] dst, int off) throws IOException {
            if (pos == windowLen) {
                if (nextBlock >= blockOrder.length) {
                    return -1;
                }
                fill(store);
            }
            int local = perm[pos++];
            System.arraycopy(windowData, local * rowInts, dst, off, rowInts);
            return window[local];
        }

        /** Passes {@code rows} rows of the order, reading the store only for the window it stops in. */
        void skip(RowStore store, long rows) throws IOException {
            while (rows > 0) {
                if (pos == windowLen) {
                    if (nextBlock >= blockOrder.length) {
                        return;
                    }
                    long len = windowRows(nextBlock);
                    if (rows >= len) {
                        // the whole next window: its shuffle depends only on its number, so skip it unread
                        nextBlock = Math.min(blockOrder.length, nextBlock + WINDOW_BLOCKS);
                        rows -= len;
                        continue;
                    }
                    fill(store);
                }
                int k = (int) Math.min(rows, windowLen - pos);
                pos += k;
                rows -= k;
            }
        }

        /** @return the rows of the window that starts at block {@code first} of the order */
        private long windowRows(int first) {
            int last = Math.min(blockOrder.length, first + WINDOW_BLOCKS);
            long len = 0;
            for (int b = first; b < last; b++) {
                long from = (long) blockOrder[b] * blockRows;
                len += Math.min(n, from + blockRows) - from;
            }
            return len;
        }

        private void fill(RowStore store) throws IOException {
            int w = nextBlock / WINDOW_BLOCKS;
            int last = Math.min(blockOrder.length, nextBlock + WINDOW_BLOCKS);
            int cap = (int) Math.min(n, (long) WINDOW_BLOCKS * blockRows);
            if (window.length < cap) {
                window = new long[cap];
                perm = new int[cap];
            }
            if (store != null && windowData.length < cap * store.rowInts()) {
                rowInts = store.rowInts();
                windowData = new int[cap * rowInts];
            }
            int len = 0;
            for (int b = nextBlock; b < last; b++) {
                long first = (long) blockOrder[b] * blockRows;
                long stop = Math.min(n, first + blockRows);
                if (store != null) {
                    store.read(start + first, (int) (stop - first), windowData, len * rowInts);
                }
                for (long x = first; x < stop; x++) {
                    window[len++] = start + x;
                }
            }
            for (int i = 0; i < len; i++) {
                perm[i] = i;
            }
            SplittableRandom rnd = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (w + 1)));
            for (int i = len - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
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
                    rowIds[i] = order.nextInto(store, rows, i * rowInts);
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
            final int[] card = cardinalities;
            final int[] rs = rows;
            final int dn = dense;
            float[] d = new float[b * dn];
            float[] labels = new float[b];
            int[][] idx = new int[tables][b];
            int[] identity = new int[b + 1];
            for (int i = 0; i <= b; i++) {
                identity[i] = i;
            }
            int bad = 0; // OR of all labels' high bits: one branch per batch instead of per row
            for (int i = 0; i < b; i++) {
                int p = i * rowInts;
                int label = rs[p];
                bad |= label & ~1;
                labels[i] = label;
                for (int j = 0; j < dn; j++) {
                    d[i * dn + j] = DenseTransform.apply(rs[p + 1 + j]);
                }
            }
            if (bad != 0) {
                for (int i = 0; i < b; i++) {
                    int label = rs[i * rowInts];
                    if ((label & ~1) != 0) {
                        long row = rowOf(i);
                        throw new CriteoFormatException(BadRowReason.BAD_LABEL, store.fileOf(row), -1,
                                store.byteOffsetOf(row), 0, String.valueOf(label), "row " + row + ": expected 0 or 1");
                    }
                }
            }
            // Table by table: sequential writes, and the unsigned compare checks v < 0 and v >= card at once.
            for (int t = 0; t < tables; t++) {
                final int[] it = idx[t];
                final int c = card[t];
                int q = 1 + dn + t;
                for (int i = 0; i < b; i++, q += rowInts) {
                    int v = rs[q];
                    if (Integer.compareUnsigned(v, c) >= 0) {
                        long row = rowOf(i);
                        throw new CriteoFormatException(BadRowReason.INDEX_OUT_OF_RANGE, store.fileOf(row), -1,
                                store.byteOffsetOf(row), 1 + dn + t, String.valueOf(v),
                                "row " + row + ": table " + t + " has " + c + " rows");
                    }
                    it[i] = v;
                }
            }
            // One lookup per sample in every table, so all tables share one read-only offsets array.
            int[][] off = new int[tables][];
            java.util.Arrays.fill(off, identity);
            return new Batch(b, d, labels, idx, off);
        }

        /**
         * Jumps: unshuffled, by moving the position; shuffled, by passing whole windows of the
         * order unread and reading only the window it lands in.
         */
        @Override
        public long skip(long batches) throws IOException {
            if (batches < 0) {
                throw new IllegalArgumentException("cannot skip " + batches + " batches");
            }
            long left = end - next;
            long full = Math.min(batches, left / batchSize);
            long rowsToSkip = full * batchSize;
            long passed = full;
            if (full < batches && left > rowsToSkip) {
                rowsToSkip = left; // the last, partial batch
                passed++;
            }
            if (order != null) {
                order.skip(store, rowsToSkip);
            }
            next += rowsToSkip;
            return passed;
        }

        @Override
        public void close() {
            rows = null;
        }
    }
}
