package org.ttrec.dlrm.data;

import java.io.IOException;

/**
 * A Criteo-shaped data set with train, validation and test splits: synthetic, raw Criteo
 * files, our binary shards or MLPerf .bin files. The trainer only sees this interface.
 */
public interface Dataset extends AutoCloseable {
    /** @return dense features per sample (13 for Criteo) */
    int denseFeatures();

    /** @return rows of each embedding table (26 for Criteo), i.e. the index ranges */
    int[] cardinalities();

    /**
     * @param split which split
     * @return number of samples in it, or -1 if unknown before reading
     */
    long size(Split split);

    /**
     * Streams one split in mini-batches.
     *
     * @param split     which split
     * @param batchSize samples per batch (the last batch may be smaller)
     * @param shuffle   whether to shuffle the order of samples (seeded, deterministic)
     * @param seed      shuffle seed
     * @return the stream
     * @throws IOException if the data cannot be opened
     */
    BatchStream batches(Split split, int batchSize, boolean shuffle, long seed) throws IOException;

    /**
     * The dictionaries that mapped this data set's raw categorical values to table indices, when
     * they were built in memory with it (raw text files) and exist nowhere else; a training run
     * saves them beside its checkpoints so that a model can later score raw values exactly as
     * training mapped them. A preprocessed folder keeps its own ({@code dictionaries.ttrd}) and
     * returns null here, as do data sets whose values are indices already.
     *
     * @return the dictionaries, or null
     */
    default Dictionaries dictionaries() {
        return null;
    }

    /** @return one line saying where the data comes from */
    String describe();

    @Override
    default void close() throws IOException {}
}
