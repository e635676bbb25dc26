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

    /**
     * A view of this data set whose training split is the {@code part}-th of {@code parts}
     * contiguous pieces of this one's (sizes differ by at most one row; piece 0 of 1 is the whole
     * split), the other splits unchanged: the data of one replica in data-parallel training. The
     * view reads through this data set, which stays open until the view is closed (closing the
     * view closes it).
     *
     * @param part  which piece, 0 <= part < parts
     * @param parts how many pieces, >= 1
     * @return the view
     * @throws UnsupportedOperationException if this data set cannot be cut (data generated on the fly)
     */
    default Dataset trainPart(int part, int parts) {
        throw new UnsupportedOperationException(describe() + " cannot be cut into parts for data-parallel training; "
                + "use shards (ttrec preprocess), raw text or in-memory synthetic data");
    }

    /** @return one line saying where the data comes from */
    String describe();

    @Override
    default void close() throws IOException {}
}
