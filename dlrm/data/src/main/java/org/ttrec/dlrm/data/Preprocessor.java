package org.ttrec.dlrm.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Logger;

/**
 * {@code ttrec preprocess}: raw Criteo text files -> a folder of binary shards, dictionaries and
 * metadata ({@link ShardFormat}).
 *
 * <p>One streaming pass over the text builds the dictionaries (first-appearance order, across all
 * files in the order given) and writes mapped rows straight into shards, so memory holds only the
 * dictionaries and a few chunks, never a whole file. With {@code --min-count} the final indices
 * depend on counts known only at the end, so a second pass rewrites the shards from the shards
 * themselves (the text is read once).
 */
public final class Preprocessor {
    private static final Logger LOG = Logger.getLogger(Preprocessor.class.getName());

    private Preprocessor() {}

    /** Receives mapped rows in file order. */
    interface RowSink {
        void accept(int[] data, int rows) throws IOException;
    }

    /** What one ingest produced. */
    record Ingested(Dictionaries dictionaries, long[] fileRows, BadRowCounts skipped) {}

    /**
     * Parses the inputs in order, maps categorical values through fresh dictionaries and hands
     * rows (with first-appearance indices) to the sink. Calls {@link Dictionaries#finish()}.
     */
    static Ingested ingest(List<Path> inputs, PreprocessOptions o, RowSink sink) throws IOException {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("no input files");
        }
        Dictionaries dicts = new Dictionaries(CriteoRowParser.SPARSE, o.maxIndRange(), o.minCount());
        BadRowCounts counts = new BadRowCounts();
        long[] fileRows = new long[inputs.size()];
        long totalBytes = 0;
        for (Path p : inputs) {
            if (!Files.isRegularFile(p)) {
                throw new java.nio.file.NoSuchFileException(p.toString(), null, "input file not found");
            }
            totalBytes += Files.size(p);
        }
        ExecutorService mapPool = o.threads() > 1 ? Executors.newFixedThreadPool(o.threads(), r -> {
            Thread t = new Thread(r, "criteo-map");
            t.setDaemon(true);
            return t;
        }) : null;
        long doneBytes = 0;
        long rows = 0;
        try (Progress bar = o.progress().start("parse+map", totalBytes)) {
            for (int i = 0; i < inputs.size(); i++) {
                try (CriteoTextReader r = new CriteoTextReader(inputs.get(i), o.threads(), o.badRows(), counts)) {
                    RowBlock b;
                    while ((b = r.next()) != null) {
                        dicts.addBlock(b, mapPool, o.threads());
                        sink.accept(b.data, b.rows);
                        fileRows[i] += b.rows;
                        rows += b.rows;
                        bar.update(doneBytes + r.bytesRead(), rows);
                    }
                    doneBytes += r.fileSize();
                }
            }
            bar.update(doneBytes, rows);
        } finally {
            if (mapPool != null) {
                mapPool.shutdownNow();
            }
        }
        dicts.finish();
        if (counts.total() > 0) {
            LOG.warning(counts.toString());
        }
        return new Ingested(dicts, fileRows, counts);
    }

    /**
     * Preprocesses raw files into {@code outDir}.
     *
     * @param inputs raw Criteo files in order (Kaggle: one train.txt; Terabyte: day_0 .. day_23)
     * @param outDir output folder (created if needed)
     * @param o      options
     * @return the metadata written
     * @throws IOException on bad input ({@link CriteoFormatException}) or I/O errors
     */
    public static DatasetMetadata run(List<Path> inputs, Path outDir, PreprocessOptions o) throws IOException {
        boolean created = !Files.exists(outDir);
        Files.createDirectories(outDir);
        final int rowInts = CriteoRowParser.ROW_INTS;
        List<ShardWriter> shards = new ArrayList<>();
        try {
            RowSink sink = new RowSink() {
                ShardWriter cur;

                @Override
                public void accept(int[] data, int rows) throws IOException {
                    int from = 0;
                    while (from < rows) {
                        if (cur == null || cur.rows() >= o.rowsPerShard()) {
                            if (cur != null) {
                                cur.seal();
                            }
                            cur = new ShardWriter(outDir.resolve(ShardFormat.shardName(shards.size())),
                                    CriteoRowParser.DENSE, CriteoRowParser.SPARSE);
                            shards.add(cur);
                        }
                        int n = (int) Math.min(rows - from, o.rowsPerShard() - cur.rows());
                        cur.write(data, from, n);
                        from += n;
                    }
                }
            };
            Ingested in;
            try {
                in = ingest(inputs, o, sink);
                checkNotEmpty(names(inputs), in.fileRows(), in.skipped(), o.splitRule());
            } catch (IOException | RuntimeException e) {
                for (ShardWriter w : shards) {
                    w.close();
                }
                if (created) {
                    try (var left = Files.list(outDir)) {
                        if (left.findAny().isEmpty()) {
                            Files.deleteIfExists(outDir); // nothing of a failed run stays behind
                        }
                    }
                }
                throw e;
            }
            Dictionaries dicts = in.dictionaries();
            for (ShardWriter w : shards) {
                w.seal();
            }
            if (dicts.needsRemap()) {
                // Second pass over the shards only: first-appearance indices -> thresholded indices.
                try (Progress bar = o.progress().start("min-count", totalRows(shards) * rowInts * 4L)) {
                    long done = 0;
                    for (int i = 0; i < shards.size(); i++) {
                        ShardWriter old = shards.get(i);
                        ShardWriter neu = new ShardWriter(old.target(), CriteoRowParser.DENSE, CriteoRowParser.SPARSE);
                        shards.set(i, neu);
                        remapShard(old, neu, dicts);
                        old.close();
                        done += old.rows();
                        bar.update(done * rowInts * 4L, done);
                    }
                }
            }
            int[] card = dicts.cardinalities();
            List<DatasetMetadata.Entry> shardEntries = new ArrayList<>();
            for (ShardWriter w : shards) {
                w.finish(card);
                shardEntries.add(new DatasetMetadata.Entry(w.target().getFileName().toString(), w.rows()));
            }
            dicts.write(outDir.resolve(ShardFormat.DICTIONARIES));
            DatasetMetadata meta = DatasetMetadata.of(names(inputs), in.fileRows(), in.skipped(), card, shardEntries, o);
            meta.write(outDir.resolve(ShardFormat.METADATA));
            return meta;
        } finally {
            for (ShardWriter w : shards) {
                w.close();
            }
        }
    }

    private static List<String> names(List<Path> inputs) {
        return inputs.stream().map(Path::toString).toList();
    }

    /**
     * A data set without rows, or without training or test rows, is an error, not an empty
     * success: nothing could be trained or evaluated on it. Shared with the distributed
     * preprocessor, so that both refuse the same inputs with the same message.
     *
     * @param inputs   the input files as named by the user, in order
     * @param fileRows good rows per input file
     * @param skipped  rows skipped as malformed
     * @param rule     the split rule
     * @throws IllegalArgumentException if there are no rows, or no training or test rows
     */
    public static void checkNotEmpty(List<String> inputs, long[] fileRows, BadRowCounts skipped, SplitRule rule) {
        long total = 0;
        for (long r : fileRows) {
            total += r;
        }
        String names = inputs.size() == 1 ? inputs.get(0) : inputs.size() + " files (" + inputs.get(0) + ", ...)";
        if (total == 0) {
            throw new IllegalArgumentException(names + " holds no rows (0 rows: an empty file, or only a header line"
                    + (skipped.total() > 0 ? "; skipped as malformed: " + skipped : "") + ")");
        }
        var ranges = rule.ranges(fileRows);
        for (Split s : new Split[] {Split.TRAIN, Split.TEST}) {
            long[] r = ranges.get(s);
            if (r == null || r[1] <= r[0]) {
                throw new IllegalArgumentException(names + ": the " + s.name().toLowerCase(java.util.Locale.ROOT)
                        + " split has 0 rows of " + total + " (split rule " + rule.name().toLowerCase(java.util.Locale.ROOT)
                        + ": one file is cut into 7 parts, 6 train and the 7th test and validation; several files: the "
                        + "last is test and validation)");
            }
        }
    }

    private static long totalRows(List<ShardWriter> shards) {
        long n = 0;
        for (ShardWriter w : shards) {
            n += w.rows();
        }
        return n;
    }

    private static void remapShard(ShardWriter old, ShardWriter neu, Dictionaries dicts) throws IOException {
        final int rowInts = CriteoRowParser.ROW_INTS;
        final int chunkRows = 8192;
        int[] rows = new int[chunkRows * rowInts];
        ByteBuffer buf = ByteBuffer.allocateDirect(chunkRows * rowInts * 4).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(old.temporaryFile(), StandardOpenOption.READ)) {
            long pos = ShardFormat.headerBytes(CriteoRowParser.SPARSE);
            long left = old.rows();
            while (left > 0) {
                int n = (int) Math.min(left, chunkRows);
                buf.clear().limit(n * rowInts * 4);
                while (buf.hasRemaining()) {
                    int k = ch.read(buf, pos + buf.position());
                    if (k < 0) {
                        throw new IOException("temporary shard " + old.temporaryFile() + " ended early");
                    }
                }
                buf.flip();
                buf.asIntBuffer().get(rows, 0, n * rowInts);
                dicts.remapRows(rows, n);
                neu.write(rows, 0, n);
                pos += (long) n * rowInts * 4;
                left -= n;
            }
        }
        neu.seal();
    }
}
