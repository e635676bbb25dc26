package org.ttrec.engine;

/**
 * A TT-compressed embedding table owned by a backend ({@link ComputeBackend#newTtTable}):
 * d cores laid out as docs/tt-layout.md describes. The table is the only writer of its cores:
 * its backward, {@link #writeCore} and {@link #writeStates}. That is what lets a backend keep a
 * forward's partial products for the backward of the same plan without checking them.
 */
public interface TtTable extends EmbeddingTable {

    /** @return the TT shape */
    TtShape shape();

    /**
     * Replaces core k (e.g. initialisation, a checkpoint).
     *
     * @param k      core index in [0, d)
     * @param values {@link TtShape#coreSize(int)} floats
     */
    void writeCore(int k, float[] values);

    /**
     * @param k core index in [0, d)
     * @return a host copy of core k
     */
    float[] readCore(int k);

    /**
     * Replaces the optimiser state (e.g. from a checkpoint).
     *
     * @param kind   the optimiser the state belongs to, or null for none
     * @param states one array per core: the core's size for ADAGRAD and ACCUMULATE, p_k * R_k
     *               (one per slice row) for ROWWISE_ADAGRAD; ignored (may be null) for SGD and null
     */
    void writeStates(SparseOptimizer.Kind kind, float[][] states);

    /**
     * @param k core index in [0, d)
     * @return a host copy of core k's optimiser state, or null when the table holds none
     */
    float[] readState(int k);
}
