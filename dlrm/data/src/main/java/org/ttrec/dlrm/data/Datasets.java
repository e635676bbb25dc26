package org.ttrec.dlrm.data;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Opens Criteo-shaped data sets by what the path looks like:
 * <ul>
 *   <li>a folder with {@code metadata.json}: our preprocessed shards ({@link ShardFormat});</li>
 *   <li>a {@code .bin} file, or a folder with {@code train.bin}: MLPerf binary rows (train.bin,
 *       val.bin, test.bin next to each other);</li>
 *   <li>{@code .tsv}, {@code .txt}, {@code .csv}, {@code .gz} or Terabyte {@code day_N} files, several
 *       separated by commas: raw Criteo text, parsed and mapped in memory (small files only; use
 *       {@code ttrec preprocess} for Kaggle/Terabyte) with dlrm's split.</li>
 * </ul>
 * and {@code synthetic[:rows=..,scale=..,zipf=..,seed=..,auc=..,ctr=..]} or
 * {@link #synthetic(SyntheticConfig)} makes a generated one.
 *
 * <p>All of them hand out {@link Batch}es with dense values already transformed
 * ({@code log(1 + max(x, 0))}), one lookup per sample per table, and one offsets array
 * {@code 0..B} shared by all tables of a batch: treat batches as read-only. Every label and
 * index is range-checked as batches are built. See {@code docs/data-format.md}.
 */
public final class Datasets {
    private Datasets() {}

    /** Rows a raw in-memory data set may hold (the int array limit). */
    static final long MAX_IN_MEMORY_ROWS = (Integer.MAX_VALUE - 64) / CriteoRowParser.ROW_INTS;

    /**
     * @param spec    a path, or comma-separated raw text files
     * @param options reading options
     * @return the data set
     * @throws IOException if it cannot be opened or is malformed
     */
    public static Dataset open(String spec, DatasetOptions options) throws IOException {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("empty data set path");
        }
        if (spec.equals("synthetic") || spec.startsWith("synthetic:")) {
            return synthetic(parseSynthetic(spec));
        }
        String[] parts = spec.split(",");
        if (parts.length > 1) {
            List<Path> files = new ArrayList<>();
            for (String p : parts) {
                files.add(Path.of(p.trim()));
            }
            return openRaw(files, options.raw());
        }
        Path p = Path.of(spec);
        if (Files.isDirectory(p)) {
            if (Files.isRegularFile(p.resolve(ShardFormat.METADATA))) {
                return openShards(p, options.verifyChecksums());
            }
            if (Files.isRegularFile(p.resolve("train.bin"))) {
                return openMlperf(p.resolve("train.bin"), options.binCardinalities());
            }
            throw new NoSuchFileException(p.toString(), null,
                    "folder has neither " + ShardFormat.METADATA + " (ttrec preprocess) nor train.bin (MLPerf)");
        }
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p.toString(), null, "data set not found");
        }
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".bin")) {
            return openMlperf(p, options.binCardinalities());
        }
        if (name.endsWith(ShardFormat.EXTENSION)) {
            throw new IllegalArgumentException(p + ": open the folder that holds the shards and metadata.json, not one shard");
        }
        if (name.endsWith(".tsv") || name.endsWith(".txt") || name.endsWith(".csv") || name.endsWith(".gz")
                || name.startsWith("day_")) {
            return openRaw(List.of(p), options.raw());
        }
        throw new IllegalArgumentException(p + ": unknown data format (expected a shard folder, .bin, .tsv, .txt, .csv or .gz)");
    }

    /**
     * Parses {@code synthetic[:key=value,...]} with keys rows (default 1,000,000), scale (divide
     * Kaggle's table sizes, default 1000), zipf (1.05), seed (1), auc (0.8), ctr (0.25).
     *
     * @param spec e.g. {@code synthetic:rows=700000,scale=100,seed=7}
     * @return the config
     */
    public static SyntheticConfig parseSynthetic(String spec) {
        long rows = 1_000_000;
        double scale = 1000;
        double zipf = 1.05;
        long seed = 1;
        double auc = 0.8;
        double ctr = 0.25;
        String rest = spec.equals("synthetic") ? "" : spec.startsWith("synthetic:") ? spec.substring(10) : null;
        if (rest == null) {
            throw new IllegalArgumentException("synthetic spec must be 'synthetic' or 'synthetic:key=value,...', got '" + spec + "'");
        }
        for (String kv : rest.isEmpty() ? new String[0] : rest.split(",")) {
            String[] p = kv.split("=", 2);
            if (p.length != 2) {
                throw new IllegalArgumentException("synthetic spec: expected key=value, got '" + kv + "'");
            }
            String v = p[1].trim().replace("_", "");
            try {
                switch (p[0].trim()) {
                    case "rows" -> rows = Long.parseLong(v);
                    case "scale" -> scale = Double.parseDouble(v);
                    case "zipf" -> zipf = Double.parseDouble(v);
                    case "seed" -> seed = Long.parseLong(v);
                    case "auc" -> auc = Double.parseDouble(v);
                    case "ctr" -> ctr = Double.parseDouble(v);
                    default -> throw new IllegalArgumentException("synthetic spec: unknown key '" + p[0]
                            + "' (rows, scale, zipf, seed, auc, ctr)");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("synthetic spec: bad number '" + p[1] + "' for " + p[0]);
            }
        }
        return SyntheticConfig.kaggleScaled(rows, scale, seed).withZipf(zipf).withTeacher(auc, ctr);
    }

    /**
     * @param config generator settings
     * @return the synthetic data set (in memory up to {@link SyntheticCriteo#IN_MEMORY_ROWS} rows,
     *         else generated on the fly)
     */
    public static Dataset synthetic(SyntheticConfig config) {
        return new SyntheticCriteo(config).dataset();
    }

    /**
     * Opens a folder written by {@link Preprocessor}.
     *
     * @param dir    the folder
     * @param verify whether to verify payload checksums now
     * @return the data set
     * @throws IOException if a shard is missing, truncated or corrupt
     */
    public static Dataset openShards(Path dir, boolean verify) throws IOException {
        DatasetMetadata m = DatasetMetadata.read(dir.resolve(ShardFormat.METADATA));
        SegmentRowStore store = new SegmentRowStore(1 + m.denseFeatures() + m.sparseFeatures());
        try {
            for (DatasetMetadata.Entry e : m.shards()) {
                Path sp = dir.resolve(e.file());
                ShardFile sf = ShardFile.open(sp);
                if (sf.rows() != e.rows() || sf.dense() != m.denseFeatures() || sf.sparse() != m.sparseFeatures()
                        || !Arrays.equals(sf.cardinalities(), m.cardinalities())) {
                    throw new CriteoFormatException(BadRowReason.BAD_HEADER, sp.toString(), -1, 0, -1, null,
                            "shard header (" + sf.rows() + " rows, " + sf.dense() + "+" + sf.sparse()
                                    + " features) does not match metadata.json (" + e.rows() + " rows)");
                }
                MemorySegment seg = store.map(sp);
                if (verify) {
                    sf.verifyPayload(seg);
                }
                store.add(sp.toString(), seg, sf.headerBytes(), sf.rows());
            }
            if (store.rows() != m.rows()) {
                throw new CriteoFormatException(BadRowReason.BAD_HEADER, dir.toString(), -1, -1, -1, null,
                        "shards hold " + store.rows() + " rows, metadata says " + m.rows());
            }
            Map<Split, long[]> ranges = new EnumMap<>(Split.class);
            for (Split s : Split.values()) {
                ranges.put(s, m.range(s));
            }
            return new RowDataset(store, m.denseFeatures(), m.cardinalities(), ranges,
                    "ttrec shards " + dir + " (" + m.rows() + " rows, " + m.shards().size() + " shards, "
                            + m.splitRule() + " split)");
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /**
     * Opens MLPerf binary files: {@code file} is the training file; {@code test.bin} and
     * {@code val.bin} (or {@code validation.bin}) next to it are test and validation if present.
     *
     * @param file          train.bin (or any .bin, used as the training split)
     * @param cardinalities table sizes, or null to scan the files for the largest index
     * @return the data set
     * @throws IOException if a file is truncated or unreadable
     */
    public static Dataset openMlperf(Path file, int[] cardinalities) throws IOException {
        final int rowInts = CriteoRowParser.ROW_INTS;
        final int rowBytes = rowInts * 4;
        SegmentRowStore store = new SegmentRowStore(rowInts);
        try {
            Path dir = file.toAbsolutePath().getParent();
            Path[] parts = {file, firstExisting(dir, "test.bin"), firstExisting(dir, "val.bin", "validation.bin")};
            if (parts[1] != null && Files.isSameFile(parts[1], file)) {
                parts[1] = null;
            }
            if (parts[2] != null && Files.isSameFile(parts[2], file)) {
                parts[2] = null;
            }
            long[] counts = new long[3];
            for (int i = 0; i < 3; i++) {
                if (parts[i] == null) {
                    continue;
                }
                MemorySegment seg = store.map(parts[i]);
                long size = seg.byteSize();
                if (size % rowBytes != 0) {
                    throw new CriteoFormatException(BadRowReason.TRUNCATED, parts[i].toString(), -1,
                            size - size % rowBytes, -1, null, size + " bytes is not a whole number of "
                            + rowBytes + "-byte rows; the last row is cut short");
                }
                counts[i] = size / rowBytes;
                store.add(parts[i].toString(), seg, 0, counts[i]);
            }
            Map<Split, long[]> ranges = new EnumMap<>(Split.class);
            ranges.put(Split.TRAIN, new long[] {0, counts[0]});
            ranges.put(Split.TEST, new long[] {counts[0], counts[0] + counts[1]});
            ranges.put(Split.VALIDATION, new long[] {counts[0] + counts[1], counts[0] + counts[1] + counts[2]});
            int[] card = cardinalities != null ? cardinalities : scanCardinalities(store);
            if (card.length != CriteoRowParser.SPARSE) {
                throw new IllegalArgumentException("MLPerf data has " + CriteoRowParser.SPARSE + " tables, got "
                        + card.length + " cardinalities");
            }
            return new RowDataset(store, CriteoRowParser.DENSE, card, ranges,
                    "MLPerf binary " + file + " (" + counts[0] + " train, " + counts[1] + " test, " + counts[2] + " validation rows)");
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    private static Path firstExisting(Path dir, String... names) {
        for (String n : names) {
            Path p = dir.resolve(n);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** Table sizes = largest index + 1 over all rows (negative indices are reported). */
    private static int[] scanCardinalities(SegmentRowStore store) throws CriteoFormatException {
        final int rowInts = store.rowInts();
        final int chunk = 16384;
        int[] buf = new int[chunk * rowInts];
        int[] max = new int[CriteoRowParser.SPARSE];
        long n = store.rows();
        for (long r = 0; r < n; r += chunk) {
            int k = (int) Math.min(chunk, n - r);
            store.read(r, k, buf, 0);
            for (int i = 0; i < k; i++) {
                int p = i * rowInts + 1 + CriteoRowParser.DENSE;
                for (int t = 0; t < max.length; t++) {
                    int v = buf[p + t];
                    if (v < 0 || v == Integer.MAX_VALUE) {
                        // MAX_VALUE would make a table of 2^31 rows, which no int count can hold
                        throw new CriteoFormatException(BadRowReason.INDEX_OUT_OF_RANGE, store.fileOf(r + i), -1,
                                store.byteOffsetOf(r + i), 1 + CriteoRowParser.DENSE + t, String.valueOf(v),
                                v < 0 ? "negative index" : "index too large for a table");
                    }
                    if (v > max[t]) {
                        max[t] = v;
                    }
                }
            }
        }
        for (int t = 0; t < max.length; t++) {
            max[t] = max[t] + 1;
        }
        return max;
    }

    /**
     * Parses raw text files into memory with fresh dictionaries and applies the split rule.
     *
     * @param files raw Criteo files (one: Kaggle split; several: Terabyte split)
     * @param o     options
     * @return the data set
     * @throws IOException on bad input
     */
    public static Dataset openRaw(List<Path> files, PreprocessOptions o) throws IOException {
        final int rowInts = CriteoRowParser.ROW_INTS;
        int[][] data = {new int[1 << 16]};
        long[] rows = {0};
        String first = files.get(0).toString();
        Preprocessor.Ingested in = Preprocessor.ingest(files, o, (block, n) -> {
            if (rows[0] + n > MAX_IN_MEMORY_ROWS) {
                throw new IllegalArgumentException(first + ": more than " + MAX_IN_MEMORY_ROWS
                        + " rows do not fit in memory; run 'ttrec preprocess' and open the shard folder");
            }
            int need = (int) ((rows[0] + n) * rowInts);
            if (need > data[0].length) {
                data[0] = Arrays.copyOf(data[0], (int) Math.min(Integer.MAX_VALUE - 8, Math.max(need, 2L * data[0].length)));
            }
            System.arraycopy(block, 0, data[0], (int) (rows[0] * rowInts), n * rowInts);
            rows[0] += n;
        });
        in.dictionaries().remapRows(data[0], (int) rows[0]);
        Map<Split, long[]> ranges = new EnumMap<>(o.splitRule().ranges(in.fileRows()));
        StringBuilder name = new StringBuilder();
        for (Path f : files) {
            name.append(name.isEmpty() ? "" : ",").append(f);
        }
        return new RowDataset(new ArrayRowStore(data[0], rows[0], rowInts, name.toString()), CriteoRowParser.DENSE,
                in.dictionaries().cardinalities(), ranges,
                "raw Criteo " + name + " (" + rows[0] + " rows, in memory" + (in.skipped().total() > 0
                        ? ", " + in.skipped() : "") + ")").withDictionaries(in.dictionaries());
    }
}
