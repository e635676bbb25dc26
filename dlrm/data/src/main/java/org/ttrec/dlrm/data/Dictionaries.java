package org.ttrec.dlrm.data;

import org.ttrec.dlrm.io.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;

/**
 * The per-feature categorical dictionaries of a preprocessed data set: raw 32-bit value (after the
 * optional {@code max-ind-range} modulo) -> table index in order of first appearance, with an
 * optional frequency threshold that sends rare values to a shared bucket at index 0.
 *
 * <p>File format ({@code dictionaries.ttrd}, all little-endian): magic {@code "TTRECDC1"}, int32
 * version (1), int32 features F, int32 maxIndRange (0 = none), int32 minCount (1 = none); then per
 * feature: int32 cardinality, int32 kept values K, int32 rare bucket (1 if index 0 is the shared
 * bucket of rare values, else 0), then K pairs (int32 raw value, int32 count, 0 when not counted, i.e. minCount = 1) in index order
 * (indices start at 1 with a rare bucket, else 0); finally int32 CRC32C of all preceding bytes.
 */
public final class Dictionaries {
    static final byte[] MAGIC = {'T', 'T', 'R', 'E', 'C', 'D', 'C', '1'};

    private final CategoryDictionary[] dicts;
    private final int maxIndRange;
    private final int minCount;
    private int[][] remaps; // set by applyMinCount
    // After loading or finishing: kept raw values per feature, in final index order, for lookups.
    private CategoryDictionary[] finalLookup;
    private boolean[] rareBucket;
    private int[] cardinalities;

    /**
     * @param features    number of categorical features
     * @param maxIndRange M > 0 to take raw values modulo M first; 0 for none
     * @param minCount    values seen fewer times share one bucket; 1 for none
     */
    public Dictionaries(int features, int maxIndRange, int minCount) {
        if (features < 1 || maxIndRange < 0 || minCount < 1) {
            throw new IllegalArgumentException("dictionaries: features " + features + ", max-ind-range "
                    + maxIndRange + ", min-count " + minCount + " (need >= 1, >= 0, >= 1)");
        }
        this.dicts = new CategoryDictionary[features];
        for (int t = 0; t < features; t++) {
            dicts[t] = new CategoryDictionary(minCount > 1);
        }
        this.maxIndRange = maxIndRange;
        this.minCount = minCount;
    }

    /**
     * Builds finished dictionaries from values already counted elsewhere, e.g. by a distributed
     * job that merged per-partition first appearances: the result (file, cardinalities, lookups)
     * is the same as adding the rows one by one in file order and calling {@link #finish()}.
     *
     * @param maxIndRange the modulo the values were taken with, 0 for none
     * @param minCount    the frequency threshold, 1 for none
     * @param values      per feature, the distinct values (after the modulo) in order of first
     *                    appearance; with {@code minCount > 1} values seen fewer than
     *                    {@code minCount} times may be left out, as they share bucket 0 anyway
     * @param counts      per feature, how often each value was seen (saturated at 2^31-1), same
     *                    shape as {@code values}; ignored when {@code minCount} is 1
     * @return finished dictionaries
     * @throws IllegalArgumentException if the arrays do not match or a value is listed twice
     */
    public static Dictionaries fromFirstAppearance(int maxIndRange, int minCount, int[][] values, int[][] counts) {
        if (values.length != counts.length) {
            throw new IllegalArgumentException("dictionaries: values of " + values.length + " features, counts of "
                    + counts.length);
        }
        Dictionaries d = new Dictionaries(values.length, maxIndRange, minCount);
        for (int t = 0; t < values.length; t++) {
            if (values[t].length != counts[t].length) {
                throw new IllegalArgumentException("feature " + t + ": " + values[t].length + " values, "
                        + counts[t].length + " counts");
            }
            CategoryDictionary dict = d.dicts[t];
            for (int i = 0; i < values[t].length; i++) {
                if (counts[t][i] < 1) {
                    throw new IllegalArgumentException("feature " + t + ", value " + i + ": count " + counts[t][i]);
                }
                if (dict.add(values[t][i], counts[t][i]) != i) {
                    throw new IllegalArgumentException("feature " + t + ": value " + Integer.toHexString(values[t][i])
                            + " listed twice");
                }
            }
        }
        d.finish();
        return d;
    }

    /** @return number of features */
    public int features() {
        return dicts.length;
    }

    /** @return the modulo applied to raw values first, 0 for none */
    public int maxIndRange() {
        return maxIndRange;
    }

    /** @return the frequency threshold, 1 for none */
    public int minCount() {
        return minCount;
    }

    /** @return the growing dictionary of feature t (first-appearance indices, before any threshold) */
    public CategoryDictionary feature(int t) {
        return dicts[t];
    }

    int reduce(int raw) {
        return maxIndRange > 0 ? Integer.remainderUnsigned(raw, maxIndRange) : raw;
    }

    /**
     * Replaces the raw categorical values of a block by first-appearance indices, in row order.
     * With a pool, features are split across threads (each feature still sees rows in file
     * order, so indices do not depend on the thread count).
     *
     * @param b       the block
     * @param pool    threads to use, or null
     * @param threads how many tasks to split the features into
     * @throws IOException if a worker fails
     */
    public void addBlock(RowBlock b, ExecutorService pool, int threads) throws IOException {
        if (pool == null || threads <= 1) {
            addFeatures(b, 0, 1);
            return;
        }
        List<Future<?>> fs = new ArrayList<>(threads);
        for (int k = 0; k < threads; k++) {
            final int first = k;
            fs.add(pool.submit(() -> addFeatures(b, first, threads)));
        }
        for (Future<?> f : fs) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while mapping");
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("mapping failed: " + e.getCause(), e.getCause());
            }
        }
    }

    private void addFeatures(RowBlock b, int first, int step) {
        final int stride = CriteoRowParser.ROW_INTS;
        final int[] d = b.data;
        final int rows = b.rows;
        for (int t = first; t < dicts.length; t += step) {
            CategoryDictionary dict = dicts[t];
            int off = 1 + CriteoRowParser.DENSE + t;
            if (maxIndRange > 0) {
                for (int r = 0; r < rows; r++) {
                    int p = r * stride + off;
                    d[p] = dict.add(Integer.remainderUnsigned(d[p], maxIndRange));
                }
            } else {
                for (int r = 0; r < rows; r++) {
                    int p = r * stride + off;
                    d[p] = dict.add(d[p]);
                }
            }
        }
    }

    /**
     * Fixes the final indices: with {@code minCount > 1}, computes the remapping that
     * {@link #remap(int, int)} applies to first-appearance indices. Call once after all rows were
     * added.
     */
    public void finish() {
        int n = dicts.length;
        remaps = new int[n][];
        rareBucket = new boolean[n];
        cardinalities = new int[n];
        finalLookup = new CategoryDictionary[n];
        for (int t = 0; t < n; t++) {
            CategoryDictionary d = dicts[t];
            CategoryDictionary f = new CategoryDictionary(false);
            if (minCount > 1) {
                remaps[t] = d.minCountRemap(minCount);
                rareBucket[t] = true;
                int kept = 0;
                for (int i = 0; i < d.size(); i++) {
                    if (remaps[t][i] > 0) {
                        f.add(d.rawValue(i));
                        kept++;
                    }
                }
                cardinalities[t] = kept + 1;
            } else {
                for (int i = 0; i < d.size(); i++) {
                    f.add(d.rawValue(i));
                }
                // An empty feature still needs one row so that the table is valid.
                cardinalities[t] = Math.max(1, d.size());
            }
            finalLookup[t] = f;
        }
    }

    /** @return whether {@link #finish()} set up a remapping (i.e. minCount > 1) */
    public boolean needsRemap() {
        return minCount > 1;
    }

    /** @return the final index of first-appearance index {@code idx} of feature t */
    public int remap(int t, int idx) {
        return remaps[t] == null ? idx : remaps[t][idx];
    }

    /** Applies {@link #remap} to all categorical values of rows in {@code data[0, rows*ROW_INTS)}. */
    void remapRows(int[] data, int rows) {
        if (!needsRemap()) {
            return;
        }
        final int stride = CriteoRowParser.ROW_INTS;
        for (int t = 0; t < dicts.length; t++) {
            int[] m = remaps[t];
            int off = 1 + CriteoRowParser.DENSE + t;
            for (int r = 0; r < rows; r++) {
                int p = r * stride + off;
                data[p] = m[data[p]];
            }
        }
    }

    /** @return final table sizes (after {@link #finish()} or {@link #read}) */
    public int[] cardinalities() {
        return cardinalities.clone();
    }

    /**
     * Looks up a raw value of feature t as new data would be mapped at serving time.
     *
     * @return its final index; the rare bucket (0) for unknown values when there is one; -1 if
     *         the value is unknown and there is no bucket
     */
    public int lookup(int t, int raw) {
        int i = finalLookup[t].get(reduce(raw));
        if (rareBucket[t]) {
            return i < 0 ? 0 : i + 1;
        }
        return i;
    }

    /**
     * @param t a feature
     * @return whether index 0 of feature t is the shared bucket of rare values, which is also where
     *         {@link #lookup} sends values it does not know
     */
    public boolean hasRareBucket(int t) {
        return rareBucket[t];
    }

    /**
     * Writes the finished dictionaries atomically.
     *
     * @param file the target
     * @throws IOException if writing fails
     */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, this::writeTo);
    }

    /**
     * Writes the finished dictionaries in the {@code dictionaries.ttrd} format to a stream, for
     * targets that are not a local path (a Hadoop file system, a section of a larger file).
     *
     * @param out where to write (not closed)
     * @throws IOException if writing fails
     */
    public void writeTo(OutputStream out) throws IOException {
        LeWriter w = new LeWriter(out);
        w.bytes(MAGIC);
        w.i32(1);
        w.i32(dicts.length);
        w.i32(maxIndRange);
        w.i32(minCount);
        for (int t = 0; t < dicts.length; t++) {
            CategoryDictionary d = dicts[t];
            w.i32(cardinalities[t]);
            w.i32(finalLookup[t].size());
            w.i32(rareBucket[t] ? 1 : 0);
            for (int i = 0; i < d.size(); i++) {
                if (remaps[t] == null || remaps[t][i] > 0) {
                    w.i32(d.rawValue(i));
                    w.i32(d.count(i));
                }
            }
        }
        w.flush();
        int crc = (int) w.crc.getValue();
        w.i32(crc);
        w.flush();
    }

    /**
     * Reads a dictionaries file written by {@link #write}, checking magic, version and checksum.
     *
     * @param file the file
     * @return the dictionaries, ready for {@link #lookup} and {@link #cardinalities()}
     * @throws IOException if it cannot be read or is corrupt ({@link CriteoFormatException})
     */
    public static Dictionaries read(Path file) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            return read(raw, file.toString(), Files.size(file));
        }
    }

    /**
     * Reads dictionaries written by {@link #write} from a stream, e.g. a section of a model file
     * that embeds them, with the same checks as {@link #read(Path)}.
     *
     * @param raw  the bytes of a dictionaries file (the caller closes the stream)
     * @param name what to call them in messages (a file, or a file and section)
     * @param size their length in bytes
     * @return the dictionaries
     * @throws IOException if they are corrupt ({@link CriteoFormatException})
     */
    public static Dictionaries read(InputStream raw, String name, long size) throws IOException {
        CRC32C crc = new CRC32C();
        try {
            DataInputStream in = new DataInputStream(new java.util.zip.CheckedInputStream(raw, crc));
            byte[] magic = new byte[8];
            in.readFully(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new CriteoFormatException(BadRowReason.BAD_HEADER, name, -1, 0, -1, null, "not a ttrec dictionaries file");
            }
            int version = le(in.readInt());
            int features = le(in.readInt());
            int mir = le(in.readInt());
            int minCount = le(in.readInt());
            if (version != 1 || features < 1 || features > 1 << 16 || features > (size - 28) / 12 || mir < 0
                    || minCount < 1) {
                throw new CriteoFormatException(BadRowReason.BAD_HEADER, name, -1, 8, -1, null,
                        "version " + version + ", features " + features + ", max-ind-range " + mir + ", min-count " + minCount);
            }
            Dictionaries d = new Dictionaries(features, mir, minCount);
            d.cardinalities = new int[features];
            d.rareBucket = new boolean[features];
            d.finalLookup = new CategoryDictionary[features];
            d.remaps = new int[features][];
            for (int t = 0; t < features; t++) {
                int card = le(in.readInt());
                int kept = le(in.readInt());
                int rare = le(in.readInt());
                if (kept < 0 || card != kept + rare && !(kept == 0 && card == 1) || (rare != 0 && rare != 1)) {
                    throw new CriteoFormatException(BadRowReason.BAD_HEADER, name, -1, -1, -1, null,
                            "feature " + t + ": cardinality " + card + ", kept " + kept + ", rare bucket " + rare);
                }
                d.cardinalities[t] = card;
                d.rareBucket[t] = rare == 1;
                CategoryDictionary f = new CategoryDictionary(false);
                if (kept > (size - 8 - 16) / 8) {
                    // each kept value takes 8 bytes: a count beyond the file is corrupt, not a reason to loop
                    throw new CriteoFormatException(BadRowReason.TRUNCATED, name, -1, size, -1, String.valueOf(kept),
                            "feature " + t + " claims " + kept + " values, more than the " + size + "-byte file can hold");
                }
                for (int i = 0; i < kept; i++) {
                    int v = le(in.readInt());
                    int c = le(in.readInt());
                    if (c < 0) {
                        throw new CriteoFormatException(BadRowReason.BAD_HEADER, name, -1, -1, -1, String.valueOf(c),
                                "feature " + t + ", value " + i + ": negative count");
                    }
                    f.add(v);
                    d.dicts[t].add(v);
                }
                d.finalLookup[t] = f;
            }
            int expected = (int) crc.getValue();
            int stored = le(in.readInt());
            if (stored != expected) {
                throw new CriteoFormatException(BadRowReason.CHECKSUM, name, -1, -1, -1, null,
                        String.format("stored CRC32C %08x, computed %08x", stored, expected));
            }
            return d;
        } catch (java.io.EOFException e) {
            throw new CriteoFormatException(BadRowReason.TRUNCATED, name, -1, size, -1, null, "file ends early");
        }
    }

    private static int le(int bigEndian) {
        return Integer.reverseBytes(bigEndian);
    }

    /** Little-endian writer that checksums what it writes. */
    static final class LeWriter {
        final CRC32C crc = new CRC32C();
        private final OutputStream out;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        LeWriter(OutputStream out) {
            this.out = out;
        }

        void bytes(byte[] b) throws IOException {
            if (buf.remaining() < b.length) {
                flush();
            }
            buf.put(b);
        }

        void i32(int v) throws IOException {
            if (buf.remaining() < 4) {
                flush();
            }
            buf.putInt(v);
        }

        void flush() throws IOException {
            crc.update(buf.array(), 0, buf.position());
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }
    }
}
