package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Products vectorised along the shared dimension k, one dot product per output entry: for
 * slices too narrow to vectorise along their columns (the forward of a narrow core on its
 * transposed slice), and the backward's dP = dP_next @ G^T read straight from an untransposed
 * slice when transposing it would not pay.
 *
 * <p>Horizontal sums run in a fixed order, never {@code reduceLanes(ADD)}, whose float summation
 * order differs between the interpreter and C2: results would depend on JIT timing.
 */
final class TtDotKernels {
    private static final VectorSpecies<Float> SP = VectorWidth.FLOAT;
    private static final int L = VectorWidth.LANES;
    private static final boolean SCALAR = VectorWidth.SCALAR;
    private static final VectorMask<Float> M8 = VectorWidth.BIT8, M4 = VectorWidth.BIT4, M2 = VectorWidth.BIT2,
            M1 = VectorWidth.BIT1;
    private static final VectorShuffle<Float> S8 = VectorWidth.XOR8, S4 = VectorWidth.XOR4, S2 = VectorWidth.XOR2,
            S1 = VectorWidth.XOR1;

    private TtDotKernels() {
    }

    /** C[r, j] = dot(A[r, :], Bt[j, :]) with A m x k and Bt n x k (vectorised along k). */
    static void dotsT(int m, int k, int n, float[] a, int ao, float[] bt, int bo, float[] c, int co, float[] red) {
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                c[co + r * n + j] = dot(k, a, ao + r * k, bt, bo + j * k, red);
            }
        }
    }

    /** C[r, j] += dot(A[r, :], B[j, :]) with A m x k and B n x k (vectorised along k). */
    static void dotsAdd(int m, int k, int n, float[] a, int ao, float[] b, int bo, float[] c, int co, float[] red) {
        int j0 = 0;
        if (VectorWidth.SIXTEEN && n >= 16) {
            for (int r = 0; r < m; r++) {
                dotsAdd16(k, n, a, ao + r * k, b, bo, c, co + r * n);
            }
            j0 = n & ~15;
        }
        for (int r = 0; r < m; r++) {
            for (int j = j0; j < n; j++) {
                c[co + r * n + j] += dot(k, a, ao + r * k, b, bo + j * k, red);
            }
        }
    }

    /**
     * C[j] += dot(A, B[j, :]) for j < n rounded down to 16, with A of length k at a[ar] and B
     * (n x k, row-major) at b[bo]: sixteen dot products at a time, vectorised along k, for 16-lane
     * vectors only. Their sixteen horizontal sums come out of one transpose-and-add tree: two
     * vectors u, v become u.blend(v, M) + v.blend(u, M).rearrange(i -> i ^ h), which adds lane
     * pairs (i, i ^ h) of u into the lanes where bit h is clear and those of v where it is set;
     * four levels (h = 8, 4, 2, 1) leave lane l holding the whole sum of accumulator bitrev4(l),
     * so accumulator x_i takes B row bitrev4(i) and the result lands in natural order. That is
     * 15 shuffles for 16 sums instead of a horizontal reduction each (those took a third of
     * TT forward + backward at 128 bags in JFR); the order of additions is fixed, so results are the same in
     * every JIT tier.
     */
    static void dotsAdd16(int k, int n, float[] a, int ar, float[] b, int bo, float[] c, int cr) {
        // whole vectors only, the rest of k in dotsTail: masked loads made this method too big
        // for C1's register allocator, and a method C1 gives up on never reaches C2
        int kv = k & ~15;
        for (int j0 = 0; j0 + 16 <= n; j0 += 16) {
            int r0 = bo + j0 * k;
            FloatVector x0 = FloatVector.zero(SP), x1 = FloatVector.zero(SP), x2 = FloatVector.zero(SP);
            FloatVector x3 = FloatVector.zero(SP), x4 = FloatVector.zero(SP), x5 = FloatVector.zero(SP);
            FloatVector x6 = FloatVector.zero(SP), x7 = FloatVector.zero(SP), x8 = FloatVector.zero(SP);
            FloatVector x9 = FloatVector.zero(SP), x10 = FloatVector.zero(SP), x11 = FloatVector.zero(SP);
            FloatVector x12 = FloatVector.zero(SP), x13 = FloatVector.zero(SP), x14 = FloatVector.zero(SP);
            FloatVector x15 = FloatVector.zero(SP);
            for (int t = 0; t < kv; t += 16) {
                FloatVector av = FloatVector.fromArray(SP, a, ar + t);
                int bt = r0 + t;
                x0 = FloatVector.fromArray(SP, b, bt).fma(av, x0);
                x1 = FloatVector.fromArray(SP, b, bt + 8 * k).fma(av, x1);
                x2 = FloatVector.fromArray(SP, b, bt + 4 * k).fma(av, x2);
                x3 = FloatVector.fromArray(SP, b, bt + 12 * k).fma(av, x3);
                x4 = FloatVector.fromArray(SP, b, bt + 2 * k).fma(av, x4);
                x5 = FloatVector.fromArray(SP, b, bt + 10 * k).fma(av, x5);
                x6 = FloatVector.fromArray(SP, b, bt + 6 * k).fma(av, x6);
                x7 = FloatVector.fromArray(SP, b, bt + 14 * k).fma(av, x7);
                x8 = FloatVector.fromArray(SP, b, bt + k).fma(av, x8);
                x9 = FloatVector.fromArray(SP, b, bt + 9 * k).fma(av, x9);
                x10 = FloatVector.fromArray(SP, b, bt + 5 * k).fma(av, x10);
                x11 = FloatVector.fromArray(SP, b, bt + 13 * k).fma(av, x11);
                x12 = FloatVector.fromArray(SP, b, bt + 3 * k).fma(av, x12);
                x13 = FloatVector.fromArray(SP, b, bt + 11 * k).fma(av, x13);
                x14 = FloatVector.fromArray(SP, b, bt + 7 * k).fma(av, x14);
                x15 = FloatVector.fromArray(SP, b, bt + 15 * k).fma(av, x15);
            }
            x0 = x0.blend(x1, M8).add(x1.blend(x0, M8).rearrange(S8));
            x2 = x2.blend(x3, M8).add(x3.blend(x2, M8).rearrange(S8));
            x4 = x4.blend(x5, M8).add(x5.blend(x4, M8).rearrange(S8));
            x6 = x6.blend(x7, M8).add(x7.blend(x6, M8).rearrange(S8));
            x8 = x8.blend(x9, M8).add(x9.blend(x8, M8).rearrange(S8));
            x10 = x10.blend(x11, M8).add(x11.blend(x10, M8).rearrange(S8));
            x12 = x12.blend(x13, M8).add(x13.blend(x12, M8).rearrange(S8));
            x14 = x14.blend(x15, M8).add(x15.blend(x14, M8).rearrange(S8));
            x0 = x0.blend(x2, M4).add(x2.blend(x0, M4).rearrange(S4));
            x4 = x4.blend(x6, M4).add(x6.blend(x4, M4).rearrange(S4));
            x8 = x8.blend(x10, M4).add(x10.blend(x8, M4).rearrange(S4));
            x12 = x12.blend(x14, M4).add(x14.blend(x12, M4).rearrange(S4));
            x0 = x0.blend(x4, M2).add(x4.blend(x0, M2).rearrange(S2));
            x8 = x8.blend(x12, M2).add(x12.blend(x8, M2).rearrange(S2));
            x0 = x0.blend(x8, M1).add(x8.blend(x0, M1).rearrange(S1));
            int cj = cr + j0;
            FloatVector.fromArray(SP, c, cj).add(x0).intoArray(c, cj);
        }
        if (kv < k) {
            dotsTail(kv, k, n & ~15, a, ar, b, bo, c, cr);
        }
    }

    /** C[j] += A[kv..k) . B[j, kv..k) for j < n: the tail of {@link #dotsAdd16}'s dot products. */
    private static void dotsTail(int kv, int k, int n, float[] a, int ar, float[] b, int bo, float[] c, int cr) {
        for (int j = 0; j < n; j++) {
            float s = 0f;
            for (int t = kv; t < k; t++) {
                s += a[ar + t] * b[bo + j * k + t];
            }
            c[cr + j] += s;
        }
    }

    /**
     * x . y over k entries, vectorised along k. The horizontal sum stores the accumulator's lanes
     * to {@code red} (L floats) and adds them in a fixed order. Not reduceLanes(ADD): its float
     * summation order differs between the interpreter and C2, so results would depend on JIT
     * timing. Not lane(i) either: extracting lanes one by one was a fifth of the TT forward's time
     * (JFR), the store and four scalar loads per half are much cheaper.
     */
    static float dot(int k, float[] x, int xo, float[] y, int yo, float[] red) {
        int t = 0;
        float s = 0f;
        if (!SCALAR) {
            FloatVector acc = FloatVector.zero(SP);
            for (; t <= k - L; t += L) {
                acc = FloatVector.fromArray(SP, x, xo + t).fma(FloatVector.fromArray(SP, y, yo + t), acc);
            }
            if (t < k) {
                VectorMask<Float> mk = SP.indexInRange(t, k);
                acc = FloatVector.fromArray(SP, x, xo + t, mk).fma(FloatVector.fromArray(SP, y, yo + t, mk), acc);
            }
            acc.intoArray(red, 0);
            return sumLanes(red);
        }
        for (; t < k; t++) {
            s += x[xo + t] * y[yo + t];
        }
        return s;
    }

    /** The L floats of {@code red} added as a balanced tree in a fixed order. */
    private static float sumLanes(float[] red) {
        if (L == 16) {
            return (((red[0] + red[8]) + (red[4] + red[12])) + ((red[2] + red[10]) + (red[6] + red[14])))
                    + (((red[1] + red[9]) + (red[5] + red[13])) + ((red[3] + red[11]) + (red[7] + red[15])));
        }
        if (L == 8) {
            return ((red[0] + red[4]) + (red[2] + red[6])) + ((red[1] + red[5]) + (red[3] + red[7]));
        }
        if (L == 4) {
            return (red[0] + red[2]) + (red[1] + red[3]);
        }
        float s = 0f;
        for (int i = 0; i < L; i++) { // 2 lanes, or wider than AVX-512 (long SVE)
            s += red[i];
        }
        return s;
    }

}
