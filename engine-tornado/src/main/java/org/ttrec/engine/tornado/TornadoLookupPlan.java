package org.ttrec.engine.tornado;

import org.ttrec.engine.Checks;
import org.ttrec.engine.EmbeddingTable;
import org.ttrec.engine.LookupPlan;

/**
 * A lookup plan of a tornado table: {@link #set} checks the batch, sorts it on the host
 * ({@link HostPlan}) and stages the sorted lists (and weights) for the device once; the table's
 * forward and backward of that batch both use them. Its device regions grow only when a batch
 * is larger than any before it.
 */
final class TornadoLookupPlan implements LookupPlan {
    private final EmbeddingTable table;
    private final TornadoBackend be;
    private final HostPlan host;
    private TornadoIntBuf lists;
    private TornadoFloatBuf weights;
    private boolean weighted;
    private boolean closed;

    /**
     * @param table the table
     * @param be    its backend
     * @param p     TT row factors, or null for an uncompressed table
     */
    TornadoLookupPlan(EmbeddingTable table, TornadoBackend be, int[] p) {
        this.table = table;
        this.be = be;
        this.host = new HostPlan(p);
        reserve(16, 16);
    }

    @Override
    public void set(int[] indices, int[] offsets, int bags, float[] perSampleWeights) {
        open();
        Checks.batch(table.name(), table.rows(), indices, offsets, bags, perSampleWeights);
        int from = offsets[0], n = offsets[bags] - from;
        reserve(n, bags);
        host.set(indices, offsets, bags);
        lists.write(0, host.data, 0, host.data.length);
        weighted = perSampleWeights != null;
        if (weighted && n > 0) {
            weights.write(0, perSampleWeights, from, n);
        }
    }

    @Override
    public void reserve(int lookups, int bags) {
        open();
        Checks.nonNegative(table.name(), ": lookups to reserve", lookups);
        Checks.nonNegative(table.name(), ": bags to reserve", bags);
        host.reserve(lookups, bags);
        if (lists == null || lists.length() < host.data.length) {
            if (lists != null) {
                lists.close();
            }
            lists = be.intBuf(host.data.length);
        }
        if (weights == null || weights.length() < host.stride) {
            if (weights != null) {
                weights.close();
            }
            weights = be.floatBuf(host.stride);
        }
    }

    /** @return the batch as the kernels see it */
    DevicePlan device() {
        return new DevicePlan(host, lists.region, weighted ? weights.region : null,
                weighted ? TornadoBackend.off(weights.region) : 0);
    }

    @Override
    public int bags() {
        return host.bags;
    }

    @Override
    public int lookups() {
        return host.lookups;
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException(table.name() + ": lookup plan used after close()");
        }
    }

    /**
     * @return the plan as a tornado plan of table {@code t}
     * @throws IllegalArgumentException if it is another table's
     */
    static TornadoLookupPlan of(EmbeddingTable t, LookupPlan plan) {
        Checks.notNull(t.name(), ": lookup plan", plan);
        if (!(plan instanceof TornadoLookupPlan p) || p.table != t) {
            throw new IllegalArgumentException(t.name() + ": the lookup plan belongs to another table");
        }
        p.open();
        return p;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            lists.close();
            weights.close();
        }
    }
}
