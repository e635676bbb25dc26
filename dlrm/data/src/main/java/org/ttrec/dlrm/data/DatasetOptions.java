package org.ttrec.dlrm.data;

/**
 * How {@link Datasets#open} reads a data source.
 *
 * @param raw              parsing and mapping options for raw text files (threads, bad rows, min-count, max-ind-range, split)
 * @param verifyChecksums  whether shard payload checksums are verified when a shard folder is opened
 * @param binCardinalities table sizes for MLPerf .bin files (which carry none); null = find them by scanning the files
 */
public record DatasetOptions(PreprocessOptions raw, boolean verifyChecksums, int[] binCardinalities) {
    /** Validates. */
    public DatasetOptions {
        if (raw == null) {
            throw new IllegalArgumentException("raw options must be given");
        }
        if (binCardinalities != null) {
            for (int c : binCardinalities) {
                if (c < 1) {
                    throw new IllegalArgumentException("cardinalities must be >= 1, got " + c);
                }
            }
            binCardinalities = binCardinalities.clone();
        }
    }

    /** @return defaults: {@link PreprocessOptions#defaults()}, verify checksums, scan .bin files */
    public static DatasetOptions defaults() {
        return new DatasetOptions(PreprocessOptions.defaults(), true, null);
    }
}
