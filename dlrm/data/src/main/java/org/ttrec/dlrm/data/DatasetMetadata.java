package org.ttrec.dlrm.data;

import org.ttrec.dlrm.io.AtomicFiles;
import org.ttrec.dlrm.io.StrictUtf8;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code metadata.json} of a preprocessed folder (see {@link ShardFormat}): what is in it and how
 * it was made. Written last, so its presence marks a complete folder.
 *
 * @param format         always {@value #FORMAT}
 * @param version        format version
 * @param rows           all rows
 * @param denseFeatures  D
 * @param sparseFeatures S
 * @param cardinalities  table sizes
 * @param shards         shard files in row order
 * @param splits         split name (train, validation, test) -> [start, end) row range
 * @param sources        the input files and their good rows
 * @param maxIndRange    modulo applied to raw values, 0 for none
 * @param minCount       frequency threshold, 1 for none
 * @param splitRule      rule used
 * @param skipped        skipped rows by reason (with --on-bad-row=skip)
 */
public record DatasetMetadata(String format, int version, long rows, int denseFeatures, int sparseFeatures,
                              int[] cardinalities, List<Entry> shards, Map<String, long[]> splits,
                              List<Entry> sources, int maxIndRange, int minCount, String splitRule,
                              Map<String, Long> skipped) {
    /** The format tag. */
    public static final String FORMAT = "ttrec-criteo-shards";

    /**
     * A file and its rows.
     *
     * @param file name (shards: relative to the folder)
     * @param rows rows
     */
    public record Entry(String file, long rows) {}

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * The metadata of a preprocessed folder, as every preprocessor (single machine or distributed)
     * states it, so that the same input gives the same {@code metadata.json}.
     *
     * @param sources       the input files as the user named them, in order
     * @param fileRows      good rows of each input file
     * @param skipped       rows skipped as malformed
     * @param cardinalities final table sizes
     * @param shards        shard files in row order, with their rows
     * @param o             the options used (split rule, modulo, threshold)
     * @return the metadata
     */
    public static DatasetMetadata of(List<String> sources, long[] fileRows, BadRowCounts skipped, int[] cardinalities,
                                     List<Entry> shards, PreprocessOptions o) {
        if (sources.size() != fileRows.length) {
            throw new IllegalArgumentException(sources.size() + " sources but rows of " + fileRows.length + " files");
        }
        List<Entry> src = new java.util.ArrayList<>();
        long total = 0;
        for (int i = 0; i < fileRows.length; i++) {
            src.add(new Entry(sources.get(i), fileRows[i]));
            total += fileRows[i];
        }
        Map<String, long[]> splits = new java.util.LinkedHashMap<>();
        for (var e : o.splitRule().ranges(fileRows).entrySet()) {
            splits.put(splitKey(e.getKey()), e.getValue());
        }
        Map<String, Long> skips = new java.util.LinkedHashMap<>();
        for (BadRowReason r : BadRowReason.values()) {
            if (skipped.get(r) > 0) {
                skips.put(r.name().toLowerCase(java.util.Locale.ROOT), skipped.get(r));
            }
        }
        SplitRule used = o.splitRule() == SplitRule.AUTO
                ? (fileRows.length > 1 ? SplitRule.TERABYTE : SplitRule.KAGGLE) : o.splitRule();
        return new DatasetMetadata(FORMAT, ShardFormat.VERSION, total, CriteoRowParser.DENSE, CriteoRowParser.SPARSE,
                cardinalities, shards, splits, src, o.maxIndRange(), o.minCount(),
                used.name().toLowerCase(java.util.Locale.ROOT), skips);
    }

    /** Writes atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, this::writeTo);
    }

    /**
     * Writes the JSON to a stream, for targets that are not a local path (a Hadoop file system).
     *
     * @param out where to write (flushed, not closed)
     * @throws IOException if writing fails
     */
    public void writeTo(java.io.OutputStream out) throws IOException {
        JSON.writeValue(new java.io.FilterOutputStream(out) {
            @Override
            public void close() throws IOException {
                flush(); // the caller closes the real stream (after the rename bookkeeping, for files)
            }
        }, this);
    }

    /**
     * @param file metadata.json
     * @return its contents
     * @throws IOException if missing or unreadable
     */
    public static DatasetMetadata read(Path file) throws IOException {
        DatasetMetadata m;
        byte[] bytes = java.nio.file.Files.readAllBytes(file);
        String text;
        try {
            text = StrictUtf8.decode(bytes, file.toString());
        } catch (IOException e) {
            throw new CriteoFormatException(BadRowReason.BAD_HEADER, file.toString(), -1, -1, -1, null,
                    "unreadable metadata: " + e.getMessage());
        }
        try {
            m = JSON.readValue(text, DatasetMetadata.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new CriteoFormatException(BadRowReason.BAD_HEADER, file.toString(), -1, -1, -1, null,
                    "unreadable metadata: " + e.getOriginalMessage());
        }
        if (!FORMAT.equals(m.format) || m.version != ShardFormat.VERSION || m.cardinalities == null || m.shards == null
                || m.splits == null) {
            throw new CriteoFormatException(BadRowReason.BAD_HEADER, file.toString(), -1, -1, -1, m.format,
                    "not a ttrec " + FORMAT + " version " + ShardFormat.VERSION + " metadata file");
        }
        return m;
    }

    /** @return the [start, end) range of a split */
    public long[] range(Split s) {
        long[] r = splits.get(splitKey(s));
        if (r == null || r.length != 2) {
            throw new IllegalStateException("metadata has no range for split " + splitKey(s));
        }
        return r;
    }

    static String splitKey(Split s) {
        return s.name().toLowerCase(java.util.Locale.ROOT);
    }
}
