package org.ttrec.engine.cpu;

/**
 * Grow-once work arrays of one thread: packed GEMM panels, row accumulators and the sort keys
 * of the embedding backward. Kernels never allocate on the hot path beyond the first call that
 * needs a bigger array. Contents carry nothing between calls.
 */
final class Scratch {
    private float[] packA, packB, tile, row, smallB, grad;
    private long[] keys;
    private int[] ints, ints2;

    float[] packA() {
        if (packA == null) {
            packA = new float[Sgemm.packASize()];
        }
        return packA;
    }

    float[] packB() {
        if (packB == null) {
            packB = new float[Sgemm.packBSize()];
        }
        return packB;
    }

    float[] tile() {
        if (tile == null) {
            tile = new float[Sgemm.MR * Sgemm.NR];
        }
        return tile;
    }

    float[] row(int n) {
        if (row == null || row.length < n) {
            row = new float[Math.max(n, 64)];
        }
        return row;
    }

    float[] smallB(int n) {
        if (smallB == null || smallB.length < n) {
            smallB = new float[Math.max(n, 1024)];
        }
        return smallB;
    }

    float[] grad(int n) {
        if (grad == null || grad.length < n) {
            grad = new float[Math.max(n, 64)];
        }
        return grad;
    }

    long[] keys(int n) {
        if (keys == null || keys.length < n) {
            keys = new long[Math.max(n, 1024)];
        }
        return keys;
    }

    int[] ints(int n) {
        if (ints == null || ints.length < n) {
            ints = new int[Math.max(n, 1024)];
        }
        return ints;
    }

    int[] ints2(int n) {
        if (ints2 == null || ints2.length < n) {
            ints2 = new int[Math.max(n, 1024)];
        }
        return ints2;
    }
}
