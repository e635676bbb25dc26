package org.ttrec.engine.scalar;

import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;

import java.util.Map;
import java.util.TreeMap;

/**
 * The scalar reference of the TT-EmbeddingBag (docs/tt-layout.md), written to be obviously
 * correct: every lookup runs its own left-to-right chain of small products, the backward
 * reverses that chain, slice gradients are summed in lookup order, then the optimiser is applied
 * once per touched (core, digit) slice with {@link ScalarBackend#applyRow}'s rules.
 *
 * <p>Callers validate arguments first (see {@link ScalarBackend#ttEmbeddingBagForward}); these
 * methods assume valid input.
 */
public final class ScalarTt {
    private ScalarTt() {}

    /**
     * Runs the forward chain of one row.
     *
     * @param shape  TT shape
     * @param cores  d core arrays
     * @param row    row index in [0, N)
     * @param digits scratch, length >= d; receives the row's digits
     * @return chain[k] = P_k, a (q_0..q_k) x R_{k+1} row-major matrix; chain[d-1] is the row (length D)
     */
    public static float[][] chain(TtShape shape, float[][] cores, int row, int[] digits) {
        int d = shape.cores();
        shape.digits(row, digits);
        float[][] p = new float[d][];
        // P_0 is the first core's slice itself: 1 x (q_0 R_1) read as q_0 x R_1.
        int s0 = shape.sliceSize(0);
        p[0] = new float[s0];
        System.arraycopy(cores[0], digits[0] * s0, p[0], 0, s0);
        int rowsPrev = shape.q(0);
        for (int k = 1; k < d; k++) {
            int rk = shape.rank(k), cols = shape.q(k) * shape.rank(k + 1);
            int base = digits[k] * shape.sliceSize(k);
            float[] g = cores[k];
            float[] next = new float[rowsPrev * cols];
            for (int m = 0; m < rowsPrev; m++) {
                for (int c = 0; c < cols; c++) {
                    float s = 0f;
                    for (int a = 0; a < rk; a++) {
                        s += p[k - 1][m * rk + a] * g[base + a * cols + c];
                    }
                    next[m * cols + c] = s;
                }
            }
            p[k] = next;
            rowsPrev *= shape.q(k);
        }
        return p;
    }

    /**
     * Materialises one row.
     *
     * @return the D values of row {@code row}
     */
    public static float[] row(TtShape shape, float[][] cores, int row) {
        float[][] p = chain(shape, cores, row, new int[shape.cores()]);
        return p[shape.cores() - 1];
    }

    /** Forward pass; see {@link org.ttrec.engine.ComputeBackend#ttEmbeddingBagForward}. */
    public static void forward(TtShape shape, float[][] cores, int[] idx, int[] off, int bags, float[] w,
                               Pooling pooling, boolean accumulate, float[] out, int outOff, int ldOut) {
        int dim = shape.dim();
        for (int b = 0; b < bags; b++) {
            int ob = outOff + b * ldOut;
            if (!accumulate) {
                java.util.Arrays.fill(out, ob, ob + dim, 0f);
            }
            for (int j = off[b]; j < off[b + 1]; j++) {
                float s = ScalarBackend.lookupScale(w, j, off[b], off[b + 1], pooling);
                float[] r = row(shape, cores, idx[j]);
                for (int c = 0; c < dim; c++) {
                    out[ob + c] += s * r[c];
                }
            }
        }
    }

    /** Backward pass with the fused optimiser; see {@link org.ttrec.engine.ComputeBackend#ttEmbeddingBagBackward}. */
    public static void backward(TtShape shape, float[][] cores, float[][] states, int[] idx, int[] off, int bags,
                                float[] w, Pooling pooling, float[] gradOut, int gradOff, int ldGrad,
                                SparseOptimizer opt) {
        int d = shape.cores();
        int dim = shape.dim();
        int[] digits = new int[d];
        // key = core * 2^32 + digit; TreeMap gives a fixed update order.
        Map<Long, float[]> sliceGrad = new TreeMap<>();
        for (int b = 0; b < bags; b++) {
            for (int j = off[b]; j < off[b + 1]; j++) {
                float s = ScalarBackend.lookupScale(w, j, off[b], off[b + 1], pooling);
                float[][] p = chain(shape, cores, idx[j], digits);
                // gradient with respect to P_{d-1}: the scaled output gradient
                float[] gp = new float[dim];
                for (int c = 0; c < dim; c++) {
                    gp[c] = s * gradOut[gradOff + b * ldGrad + c];
                }
                int rowsPrev = dim;
                for (int k = d - 1; k >= 0; k--) {
                    int rk = shape.rank(k), cols = shape.q(k) * shape.rank(k + 1);
                    rowsPrev /= shape.q(k); // rows of P_{k-1}: q_0..q_{k-1}
                    int sliceSize = shape.sliceSize(k);
                    float[] acc = sliceGrad.computeIfAbsent(((long) k << 32) | digits[k],
                            key -> new float[sliceSize]);
                    if (k == 0) {
                        for (int c = 0; c < cols; c++) {
                            acc[c] += gp[c];
                        }
                        break;
                    }
                    float[] prev = p[k - 1];
                    // slice gradient: P_{k-1}^T (R_k x rowsPrev) @ gp (rowsPrev x cols)
                    for (int a = 0; a < rk; a++) {
                        for (int c = 0; c < cols; c++) {
                            float t = 0f;
                            for (int m = 0; m < rowsPrev; m++) {
                                t += prev[m * rk + a] * gp[m * cols + c];
                            }
                            acc[a * cols + c] += t;
                        }
                    }
                    // gradient passed back: gp (rowsPrev x cols) @ G^T (cols x R_k)
                    float[] g = cores[k];
                    int base = digits[k] * shape.sliceSize(k);
                    float[] back = new float[rowsPrev * rk];
                    for (int m = 0; m < rowsPrev; m++) {
                        for (int a = 0; a < rk; a++) {
                            float t = 0f;
                            for (int c = 0; c < cols; c++) {
                                t += gp[m * cols + c] * g[base + a * cols + c];
                            }
                            back[m * rk + a] = t;
                        }
                    }
                    gp = back;
                }
            }
        }
        for (Map.Entry<Long, float[]> e : sliceGrad.entrySet()) {
            int k = (int) (e.getKey() >>> 32);
            int digit = (int) (long) e.getKey();
            applySlice(shape, k, digit, e.getValue(), cores[k], states == null ? null : states[k], opt);
        }
    }

    /**
     * Applies the optimiser to one (core, digit) slice with summed gradient {@code g}: row-wise
     * Adagrad keeps one state per slice row (state index digit * R_k + row).
     */
    static void applySlice(TtShape shape, int k, int digit, float[] g, float[] core, float[] state,
                           SparseOptimizer opt) {
        int rk = shape.rank(k), cols = shape.q(k) * shape.rank(k + 1);
        int base = digit * shape.sliceSize(k);
        for (int a = 0; a < rk; a++) {
            ScalarBackend.applyRow(opt, g, a * cols, cols, core, base + a * cols, state, digit * rk + a);
        }
    }
}
