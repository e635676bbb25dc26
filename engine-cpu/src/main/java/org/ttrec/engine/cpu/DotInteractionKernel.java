package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

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
