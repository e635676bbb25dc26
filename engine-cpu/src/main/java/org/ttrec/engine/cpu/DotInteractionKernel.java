package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * DLRM's dot interaction forward computed straight from T, pair by pair: only the entries the
 * output keeps (the lower triangle, F(F-1)/2 of F^2: 351 of 729 at Kaggle's F = 27), with no F x F
 * product in memory and no column gather. The composed reference (one small GEMM per sample, then
 * a gather) spent most of its time in per-sample GEMM set-up: it was 18% of 512-row scoring in JFR.
 *
 * <p>Per sample, T (F x D) is first transposed into {@code tt} (D x Fp, Fp = F rounded up to whole
 * vectors), so that output row i, the dots of T_i with T_0..T_{n-1} (n = i, or i + 1 with the
 * diagonal), is a vector along j: the sum over d of T[i][d] broadcast times row d of {@code tt}.
 * Each output is summed over d = 0..D-1 in that order by one lane, so the bits are the same at
 * every thread count and in every JIT tier; they differ from the composed reference's (another
 * order of the same sum), well within the conformance tolerance.
 *
 * <p>The backward builds each sample's symmetric F x F gradient G + G^T in a scratch that stays in
 * L1, copied row by row from dR (the reference zeroes a B x F x F matrix, scatters dR into it
 * twice, then runs one small GEMM per sample: about 6% of a batch-128 training step in JFR, mostly
 * the scatters) and multiplies it by T in registers. Its sums are the reference's in its order
 * (dT an fma chain over j = 0..F-1 from zero, dBottom = dR + dT_0), so its bits are the
 * reference's.
 */
final class DotInteractionKernel {
    private static final VectorSpecies<Float> SP = VectorWidth.FLOAT;
    private static final int L = VectorWidth.LANES;
    private static final boolean SCALAR = VectorWidth.SCALAR;

    private DotInteractionKernel() {
    }

    /** Floats of transposed-T scratch one call needs for F vectors of dimension D. */
    static int scratchFloats(int f, int dim) {
        return dim * paddedVectors(f);
    }

    private static int paddedVectors(int f) {
        return (f + L - 1) / L * L;
    }

    /**
     * Samples [lo, hi) of {@code ComputeBackend.dotInteractionForward}: writes the bottom output
     * into vector 0 of each sample's T and into the first D outputs, then the pairs, ordered by i
     * then j.
     *
     * @param tt scratch of at least {@link #scratchFloats} floats
     */
    static void forward(int lo, int hi, int f, int dim, boolean self, float[] bottom, int bOff, float[] t, int tOff,
                        float[] r, int rOff, int width, float[] tt) {
        int fd = f * dim, fp = paddedVectors(f);
        for (int s = lo; s < hi; s++) {
            int ts = tOff + s * fd, rs = rOff + s * width;
            System.arraycopy(bottom, bOff + s * dim, t, ts, dim);
            System.arraycopy(bottom, bOff + s * dim, r, rs, dim);
            if (SCALAR) {
                scalarPairs(f, dim, self, t, ts, r, rs + dim);
                continue;
            }
            for (int v = 0; v < f; v++) { // tt[d][v] = T[v][d]; columns v >= f stay as they are (never stored)
                for (int d = 0; d < dim; d++) {
                    tt[d * fp + v] = t[ts + v * dim + d];
                }
            }
            int out = rs + dim;
            for (int i = self ? 0 : 1; i < f; i++) {
                int n = self ? i + 1 : i;
                int ti = ts + i * dim;
                for (int j0 = 0; j0 < n; j0 += L) {
                    FloatVector acc = FloatVector.zero(SP);
                    for (int d = 0; d < dim; d++) {
                        acc = FloatVector.broadcast(SP, t[ti + d]).fma(FloatVector.fromArray(SP, tt, d * fp + j0), acc);
                    }
                    if (j0 + L <= n) {
                        acc.intoArray(r, out + j0);
                    } else {
                        VectorMask<Float> m = SP.indexInRange(j0, n);
                        acc.intoArray(r, out + j0, m);
                    }
                }
                out += n;
            }
        }
    }

    /** Floats of gradient scratch one backward call needs for F vectors (3 zero rows pad the last block). */
    static int backwardScratchFloats(int f) {
        return (f + 3) * f;
    }

    /**
     * Samples [lo, hi) of {@code ComputeBackend.dotInteractionBackward}: dT (B x F x D) from dR's
     * pair columns and T, and dBottom = dR[:, :D] + dT[:, 0, :].
     *
     * @param g scratch of at least {@link #backwardScratchFloats} floats
     */
    static void backward(int lo, int hi, int f, int dim, boolean self, float[] t, int tOff, float[] dr, int drOff,
                         int width, float[] dt, int dtOff, float[] dBottom, int dbOff, float[] g) {
        int fd = f * dim;
        Arrays.fill(g, f * f, (f + 3) * f, 0f); // the zero rows that pad the last four-row block
        for (int s = lo; s < hi; s++) {
            int ts = tOff + s * fd, ds = dtOff + s * fd, rs = drOff + s * width;
            gradient(f, self, dr, rs + dim, g);
            int c = 0;
            if (!SCALAR) {
                for (; c + L <= dim; c += L) {
                    gradientColumns(f, dim, c, g, t, ts, dt, ds);
                }
            }
            for (; c < dim; c++) {
                for (int i = 0; i < f; i++) {
                    float acc = 0f;
                    for (int j = 0; j < f; j++) {
                        acc = Math.fma(g[i * f + j], t[ts + j * dim + c], acc);
                    }
                    dt[ds + i * dim + c] = acc;
                }
            }
            for (int d = 0; d < dim; d++) {
                dBottom[dbOff + s * dim + d] = dr[rs + d] + dt[ds + d];
            }
        }
    }

    /**
     * g = G + G^T (F x F) for one sample, G holding the pair gradients (pairs at {@code pairs},
     * row i's at pairs + i(i-1)/2, or i(i+1)/2 with the diagonal). The reference adds each into a
     * zero, which gives the same bits in the fma chains that use them (a -0 that 0 + v would
     * make +0 adds nothing to an accumulator that starts at +0), and a diagonal entry v + v.
     */
    private static void gradient(int f, boolean self, float[] dr, int pairs, float[] g) {
        for (int i = 0, pi = pairs; i < f; i++) {
            int row = i * f;
            System.arraycopy(dr, pi, g, row, i); // j < i: row i's own pairs, contiguous
            g[row + i] = self ? dr[pi + i] + dr[pi + i] : 0f;
            pi += self ? i + 1 : i;
            // j > i: entry i of row j's pairs
            for (int j = i + 1, pj = pi; j < f; j++) {
                g[row + j] = dr[pj + i];
                pj += self ? j + 1 : j;
            }
        }
    }

    /**
     * dT_i[c, c + L) = sum over j of g[i][j] T_j[c, c + L) for every i, four rows i at a time so
     * that four fma chains hide the fma latency (the last block's missing rows read g's zero
     * padding and are not stored).
     */
    private static void gradientColumns(int f, int dim, int c, float[] g, float[] t, int ts, float[] dt, int ds) {
        for (int i = 0; i < f; i += 4) {
            FloatVector a0 = FloatVector.zero(SP), a1 = FloatVector.zero(SP), a2 = FloatVector.zero(SP),
                    a3 = FloatVector.zero(SP);
            int g0 = i * f;
            for (int j = 0; j < f; j++) {
                FloatVector tj = FloatVector.fromArray(SP, t, ts + j * dim + c);
                a0 = FloatVector.broadcast(SP, g[g0 + j]).fma(tj, a0);
                a1 = FloatVector.broadcast(SP, g[g0 + f + j]).fma(tj, a1);
                a2 = FloatVector.broadcast(SP, g[g0 + 2 * f + j]).fma(tj, a2);
                a3 = FloatVector.broadcast(SP, g[g0 + 3 * f + j]).fma(tj, a3);
            }
            a0.intoArray(dt, ds + i * dim + c);
            if (i + 1 < f) {
                a1.intoArray(dt, ds + (i + 1) * dim + c);
            }
            if (i + 2 < f) {
                a2.intoArray(dt, ds + (i + 2) * dim + c);
            }
            if (i + 3 < f) {
                a3.intoArray(dt, ds + (i + 3) * dim + c);
            }
        }
    }

    /** The same sums, in the same order, without vectors ({@code ttrec.vector.bits=0}). */
    private static void scalarPairs(int f, int dim, boolean self, float[] t, int ts, float[] r, int out) {
        for (int i = self ? 0 : 1; i < f; i++) {
            int n = self ? i + 1 : i;
            for (int j = 0; j < n; j++) {
                float acc = 0f;
                for (int d = 0; d < dim; d++) {
                    acc = Math.fma(t[ts + i * dim + d], t[ts + j * dim + d], acc);
                }
                r[out++] = acc;
            }
        }
    }
}
