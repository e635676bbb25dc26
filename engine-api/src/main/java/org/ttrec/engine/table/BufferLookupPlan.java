package org.ttrec.engine.table;

import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.EmbeddingTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.LookupPlan;

/**
 * A {@link LookupPlan} that holds its batch in buffers of the table's backend: indices, offsets
 * rebased to start at 0, and the per-sample weights. They grow (by half again) only when a batch
 * is larger than any before it, so a steady stream of batches allocates nothing.
 */
public class BufferLookupPlan implements LookupPlan {
    private final EmbeddingTable table;
    private final ComputeBackend be;
    private IntBuf indices;
    private IntBuf offsets;
    private FloatBuf weights;
    /** Host scratch for offsets rebased to 0 (the caller's may start anywhere). */
    private int[] rebased = new int[1];
    private int bags;
    private int lookups;
    private boolean weighted;
    private long version;
    private boolean closed;

    /** @param table the table whose lookups this plan holds */
    public BufferLookupPlan(EmbeddingTable table) {
        this.table = table;
        this.be = table.backend();
        this.indices = be.allocInts(16);
        this.offsets = be.allocInts(17);
    }

    @Override
    public void set(int[] indices, int[] offsets, int bags, float[] perSampleWeights) {
        open();
        Checks.batch(table.name(), table.rows(), indices, offsets, bags, perSampleWeights);
        int from = offsets[0], n = offsets[bags] - from;
        reserve(n, bags);
        for (int b = 0; b <= bags; b++) {
            rebased[b] = offsets[b] - from;
        }
        this.indices.write(0, indices, from, n);
        this.offsets.write(0, rebased, 0, bags + 1);
        weighted = perSampleWeights != null;
        if (weighted) {
            if (weights == null || weights.length() < n) {
                if (weights != null) {
                    weights.close();
                }
                weights = be.allocFloats(grow(weights == null ? 0 : weights.length(), Math.max(n, this.indices.length())));
            }
            weights.write(0, perSampleWeights, from, n);
        }
        this.bags = bags;
        this.lookups = n;
        version++;
    }

    @Override
    public void reserve(int lookups, int bags) {
        open();
        Checks.nonNegative(table.name(), ": lookups to reserve", lookups);
        Checks.nonNegative(table.name(), ": bags to reserve", bags);
        if (indices.length() < lookups) {
            indices.close();
            indices = be.allocInts(grow(indices.length(), lookups));
        }
        if (offsets.length() < bags + 1) {
            offsets.close();
            offsets = be.allocInts(grow(offsets.length(), bags + 1));
        }
        if (rebased.length < bags + 1) {
            rebased = new int[grow(rebased.length, bags + 1)];
        }
    }

    private static int grow(int have, int need) {
        return (int) Math.min(Integer.MAX_VALUE - 16, Math.max(need, have + (long) (have >> 1)));
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException(table.name() + ": lookup plan used after close()");
        }
    }

    /**
     * Checks that this plan belongs to {@code t} and holds a batch.
     *
     * @param t    the table the plan is used with
     * @param plan the plan
     * @return the plan as a buffer plan
     * @throws IllegalArgumentException if the plan is another table's or was never set
     */
    public static BufferLookupPlan of(EmbeddingTable t, LookupPlan plan) {
        Checks.notNull(t.name(), ": lookup plan", plan);
        if (!(plan instanceof BufferLookupPlan p) || p.table != t) {
            throw new IllegalArgumentException(t.name() + ": the lookup plan belongs to another table");
        }
        p.open();
        return p;
    }

    /** @return the table this plan belongs to */
    public EmbeddingTable table() {
        return table;
    }

    /** @return the batch's indices (lookups() of them, from 0) */
    public IntBuf indices() {
        return indices;
    }

    /** @return the batch's offsets, bags()+1 of them, starting at 0 */
    public IntBuf offsets() {
        return offsets;
    }

    /** @return the batch's weights, or null when it has none */
    public FloatBuf weights() {
        return weighted ? weights : null;
    }

    /** @return a number that changes with every {@link #set}: kernels that keep work per batch compare it */
    public long version() {
        return version;
    }

    @Override
    public int bags() {
        return bags;
    }

    @Override
    public int lookups() {
        return lookups;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            indices.close();
            offsets.close();
            if (weights != null) {
                weights.close();
            }
        }
    }
}
