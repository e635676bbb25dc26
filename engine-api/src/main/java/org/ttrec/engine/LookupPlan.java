package org.ttrec.engine;

/**
 * One batch of bag lookups on one {@link EmbeddingTable}, copied to the backend once and used by
 * the forward and the backward of that batch. Backends build what their kernels need here, once
 * per batch: the cpu backend sorts a TT table's lookups (distinct rows, digit groups) so the
 * forward and the backward share the sort.
 */
public interface LookupPlan extends AutoCloseable {

    /**
     * Sets the plan to a batch, replacing the previous one. The arrays are copied; the caller may
     * reuse them at once. Checks everything before copying: offsets non-decreasing and within the
     * indices, every index in [0, rows), enough weights.
     *
     * @param indices          lookups; those of the batch are indices[offsets[0] .. offsets[bags])
     * @param offsets          bags+1 CSR offsets into indices
     * @param bags             number of bags B
     * @param perSampleWeights one weight per lookup (indexed like indices), or null for 1
     * @throws IllegalArgumentException naming the bag, position and value of the first bad entry
     */
    void set(int[] indices, int[] offsets, int bags, float[] perSampleWeights);

    /**
     * Makes room for batches of up to this many lookups and bags, so that later {@link #set}s of
     * batches that size allocate nothing (e.g. a table whose batches are split between two plans
     * reserves the whole batch for each).
     *
     * @param lookups lookups per batch
     * @param bags    bags per batch
     */
    void reserve(int lookups, int bags);

    /** @return bags of the current batch (0 before the first {@link #set}) */
    int bags();

    /** @return lookups of the current batch */
    int lookups();

    /** Releases the plan's buffers. */
    @Override
    void close();
}
