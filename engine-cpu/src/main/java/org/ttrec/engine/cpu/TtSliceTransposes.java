package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * One partition's transposed core slices (q_k R_{k+1} x R_k), built once per call on first use:
 * narrow slices are multiplied along the rank, and the backward's dP_{k-1} = dP_k @ G_k^T runs as
 * a plain product on the transposed slice.
 */
final class TtSliceTransposes {
    private static final VectorSpecies<Float> SP = VectorWidth.FLOAT;
    private static final int L = VectorWidth.LANES;
    private static final boolean SCALAR = VectorWidth.SCALAR;

    private final TtBatchPlan plan;
    private final TtCall call;
    private final TtScratch scratch;
    /** The array that the last {@link #of} returned an offset into. */
    float[] array;
    /** Per level k >= 1: transposed slices at digit * sliceSize, valid where the stamp is the call's. */
    private float[][] wholeCore = new float[0][];
    private int[][] stamp = new int[0][];
    /** Per level: i * q_k R_{k+1} for i < L, the offsets of a column's entries (a gather). */
    private int[][] columnGather = new int[0][];
    /** Level 1 in (i_1, i_0, ...) row order: the current transposed slice, its digit and call. */
    private float[] level1Slice = new float[0];
    private int level1Digit = -1, level1Call = -1;

    TtSliceTransposes(TtBatchPlan plan, TtCall call, TtScratch scratch) {
        this.plan = plan;
        this.call = call;
        this.scratch = scratch;
    }

    /** Grows the scratch to the plan's table. */
    void ensure() {
        int d = plan.levels;
        if (columnGather.length < d) {
            wholeCore = Arrays.copyOf(wholeCore, d);
            stamp = Arrays.copyOf(stamp, d);
            columnGather = Arrays.copyOf(columnGather, d);
        }
        for (int k = 0; k < d; k++) {
            if (columnGather[k] == null) {
                columnGather[k] = new int[L];
            }
            for (int i = 0; i < L; i++) {
                columnGather[k][i] = i * plan.sliceCols[k];
            }
            // (level 1 in (i_1, i_0, ...) row order transposes into level1Slice, one slice)
            if (k > 0 && !(k == 1 && plan.swapped) && (plan.narrow[k] || !SCALAR)) {
                if (wholeCore[k] == null || wholeCore[k].length < plan.shape.coreSize(k)) {
                    wholeCore[k] = new float[plan.shape.coreSize(k)];
                }
                if (stamp[k] == null || stamp[k].length < plan.shape.p(k)) {
                    stamp[k] = new int[plan.shape.p(k)];
                }
            }
        }
    }

    /** Forgets every transpose (the call stamps wrapped). */
    void resetStamps() {
        level1Call = -1;
        for (int[] s : stamp) {
            if (s != null) {
                Arrays.fill(s, 0);
            }
        }
    }

    /**
     * The transposed slice of core k for a digit, in {@link #array} at the returned offset. Level 1
     * under the (i_1, i_0, ...) row order uses its slices one run of rows at a time, so it keeps
     * just the current slice, which stays in L1: a transposed copy of the whole core (1.8 MB for
     * Kaggle's largest table at D16 R32) was written and read back through the cache on every
     * backward.
     */
    int of(int k, int digit) {
        int ss = plan.shape.sliceSize(k);
        int now = scratch.call;
        if (k == 1 && plan.swapped) {
            if (level1Slice.length < ss) {
                level1Slice = new float[ss];
            }
            array = level1Slice;
            if (level1Call != now || level1Digit != digit) {
                level1Call = now;
                level1Digit = digit;
                transpose(k, digit * ss, level1Slice, 0);
            }
            return 0;
        }
        int base = digit * ss;
        array = wholeCore[k];
        if (stamp[k][digit] != now) {
            stamp[k][digit] = now;
            transpose(k, base, wholeCore[k], base);
        }
        return base;
    }

    /** to[at + c * R_k + a] = core k [from + a * cols + c]: one slice transposed. */
    private void transpose(int k, int from, float[] to, int at) {
        float[] g = call.cores[k];
        int rank = plan.rank[k], cols = plan.sliceCols[k];
        if (VectorWidth.SIXTEEN && (rank & 15) == 0 && (cols & 15) == 0) {
            // 16 x 16 blocks transposed in registers: a gather costs about a load per lane
            // (JFR: these transposes were a sixth of the backward's chain at 2048 lookups)
            for (int a = 0; a < rank; a += 16) {
                for (int c = 0; c < cols; c += 16) {
                    Sgemm.transpose16(g, from + a * cols + c, cols, 16, to, at + c * rank + a, rank);
                }
            }
        } else if (!SCALAR && rank >= L) {
            // gather a column (stride cols), store it as a contiguous row: one vector op per
            // L entries instead of a scalar load and a strided store each
            int[] ix = columnGather[k];
            for (int c = 0; c < cols; c++) {
                int a = 0;
                for (; a + L <= rank; a += L) {
                    FloatVector.fromArray(SP, g, from + a * cols + c, ix, 0).intoArray(to, at + c * rank + a);
                }
                for (; a < rank; a++) {
                    to[at + c * rank + a] = g[from + a * cols + c];
                }
            }
        } else {
            for (int a = 0; a < rank; a++) {
                for (int c = 0; c < cols; c++) {
                    to[at + c * rank + a] = g[from + a * cols + c];
                }
            }
        }
    }
}
