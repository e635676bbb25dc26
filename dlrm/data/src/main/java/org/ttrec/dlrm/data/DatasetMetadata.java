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

    /** Writes atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, out -> JSON.writeValue(new java.io.FilterOutputStream(out) {
            @Override
            public void close() throws IOException {
                flush(); // the caller closes the real stream after the rename bookkeeping
            }
        }, this));
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
