package org.ttrec.dlrm.data;

/**
 * One mini-batch of Criteo-shaped samples, ready for the model.
 *
 * @param size    number of samples B
 * @param dense   B x denseFeatures values, row-major, already transformed with log(1 + max(x, 0))
 * @param labels  B labels in {0, 1}
 * @param indices per table t, the lookups of all B samples (CSR values)
 * @param offsets per table t, B+1 CSR offsets into {@code indices[t]}
 */
public record Batch(int size, float[] dense, float[] labels, int[][] indices, int[][] offsets) {

    /** Checks that the arrays agree with each other. */
    public Batch {
        if (size < 0 || labels.length < size) {
            throw new IllegalArgumentException("batch: " + labels.length + " labels for size " + size);
        }
        if (indices.length != offsets.length) {
            throw new IllegalArgumentException("batch: " + indices.length + " index arrays but " + offsets.length + " offset arrays");
        }
        for (int t = 0; t < offsets.length; t++) {
            if (offsets[t].length < size + 1) {
                throw new IllegalArgumentException("batch: table " + t + " has " + offsets[t].length
                        + " offsets, needs " + (size + 1));
            }
        }
    }

    /** @return number of embedding tables */
    public int tables() {
        return indices.length;
    }

    /** @return number of dense features per sample */
    public int denseFeatures() {
        return size == 0 ? 0 : dense.length / size;
    }
}
