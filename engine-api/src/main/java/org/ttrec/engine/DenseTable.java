package org.ttrec.engine;

/**
 * An uncompressed N x D embedding table owned by a backend ({@link ComputeBackend#newDenseTable}).
 */
public interface DenseTable extends EmbeddingTable {

    /**
     * Replaces rows [firstRow, firstRow + rowCount).
     *
     * @param firstRow first row to write
     * @param src      host data, rowCount x D row-major
     * @param srcOff   first element of src
     * @param rowCount number of rows
     */
    void writeRows(int firstRow, float[] src, int srcOff, int rowCount);

    /**
     * Copies rows [firstRow, firstRow + rowCount) to the host.
     *
     * @param firstRow first row to read
     * @param dst      host array, rowCount x D row-major
     * @param dstOff   first element of dst
     * @param rowCount number of rows
     */
    void readRows(int firstRow, float[] dst, int dstOff, int rowCount);

    /**
     * Replaces the optimiser state (e.g. from a checkpoint).
     *
     * @param kind  the optimiser the state belongs to, or null for none
     * @param state N x D floats for ADAGRAD and ACCUMULATE, N for ROWWISE_ADAGRAD; ignored (may be
     *              null) for SGD and null
     */
    void writeState(SparseOptimizer.Kind kind, float[] state);

    /** @return a host copy of the optimiser state, or null when the table holds none */
    float[] readState();
}
