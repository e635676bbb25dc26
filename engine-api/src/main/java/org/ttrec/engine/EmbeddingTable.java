package org.ttrec.engine;

/**
 * An embedding table owned by a {@link ComputeBackend}: its parameters, optimiser state and
 * scratch live with the backend for the whole run, and lookups go through a {@link LookupPlan}
 * set once per batch and shared by the forward and the backward of that batch.
 *
 * <p>Optimiser state is allocated by the first {@link #backward} whose optimiser needs one and
 * kept while the optimiser kind stays the same; a different kind starts from a zero state.
 * A table serves one call at a time; different tables may be used at the same time.
 */
public interface EmbeddingTable extends AutoCloseable {

    /** @return the name messages use, e.g. "table 3" */
    String name();

    /** @return the backend that owns this table */
    ComputeBackend backend();

    /** @return N, the number of rows */
    int rows();

    /** @return D, the embedding dimension */
    int dim();

    /** @return floats of trainable parameters held (cores, or the full table) */
    long parameterCount();

    /**
     * A plan for this table's batches. Plans are reused batch after batch: {@link LookupPlan#set}
     * copies a batch to the backend into buffers that grow only when a batch is larger than any
     * before it.
     *
     * @return a new, empty plan
     */
    LookupPlan newPlan();

    /**
     * Pools the rows of each bag of the plan's batch: out[b, :] (+)= pool over its lookups j of
     * weight_j * row(indices[j]).
     *
     * @param plan       a plan of this table, set to the batch
     * @param pooling    sum or mean (mean divides by the bag's lookup count)
     * @param accumulate add into out instead of overwriting it
     * @param out        output buffer of this backend, one row of D per bag
     * @param outOff     offset of bag 0's row
     * @param ldOut      distance between output rows (>= D)
     */
    void forward(LookupPlan plan, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut);

    /**
     * Backward of the plan's batch with the optimiser fused: the gradient of every touched row
     * (or core slice) is summed over the batch deterministically, then {@code opt} is applied once
     * per touched row (slice). {@link SparseOptimizer.Kind#ACCUMULATE} adds the gradient into the
     * state, which then has the parameters' shape.
     *
     * @param plan    the plan of the forward
     * @param pooling the forward's pooling
     * @param gradOut gradient of the loss with respect to the pooled rows
     * @param gradOff offset of bag 0's gradient row
     * @param ldGrad  distance between gradient rows
     * @param opt     the update
     */
    void backward(LookupPlan plan, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt);

    /** @return the kind of optimiser state held, or null when none is */
    SparseOptimizer.Kind stateKind();

    /**
     * Reads rows of the table into a host array (e.g. for export or tests): for a TT table the
     * rows are computed from the cores.
     *
     * @param rowIds rows to read, each in [0, N)
     * @return rowIds.length x D values, row-major
     */
    float[] materialize(int[] rowIds);

    /** Releases the table's memory; the table must not be used afterwards. */
    @Override
    void close();
}
