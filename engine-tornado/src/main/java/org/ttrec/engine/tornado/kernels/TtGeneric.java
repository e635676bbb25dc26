package org.ttrec.engine.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * TT-EmbeddingBag kernels for any number of cores d >= 2: simpler and slower than
 * {@link TtFast}, deterministic the same way (host-sorted lists, one owner per output, no
 * atomics). The shape is read at run time from a descriptor in the int heap, so one compiled
 * program serves every shape:
 * {@code desc = [d, D, leftSize, rightSize, then per core k at 4 + 10k: p, q, R_k, R_k+1, core,
 * slice, M (columns before k), N (columns after k), left offset of P_k, right offset of S_k]}.
 *
 * <p>Per distinct row u the backward keeps, in scratch, the left products P_k = G_0[i_0] ..
 * G_k[i_k] ((q_0..q_k) x R_k+1) and the right products S_k = G_k[i_k] .. G_d-1[i_d-1]
 * (R_k x (q_k..q_d-1)); a slice gradient of core k is then sum over the rows u of its digit,
 * over the column digits before (m) and after (n) k, of P_k-1[m, a] gRow[u, (m, j, n)] S_k+1[b, n].
 * Row values follow the reference's chain (the same sums in the same order).
 */
public final class TtGeneric {
    private TtGeneric() {}

    /** Largest rank the private vectors of {@link #rows} hold. */
    public static final int MAX_RANK = 64;
    /** First per-core field of the descriptor and the fields per core. */
    public static final int CORE0 = 4;
    public static final int FIELDS = 10;
    /** Section of digit k of each distinct row (PlanLayout.dig(0)). */
    private static final int DIG = 7;

    /**
     * rows[u, c] = the TT row of distinct row u, column c, one work-item per element: a chain of
     * vector-matrix products along the column's digits. args: P, S, distinct, desc, rows.
     */
    public static void rows(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                            int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        float[] v = new float[MAX_RANK];
        float[] w = new float[MAX_RANK];
        int desc = a.get(base + 3);
        int d = i.get(desc);
        int dim = i.get(desc + 1);
        int g = kc.globalIdx;
        if (g < a.get(base + 2) * dim) {
            int pl0 = a.get(base);
            int st = a.get(base + 1);
            int u = g / dim;
            int c = g - u * dim;
            // v = the slice row of core 0 for the column's first digit
            int k0 = desc + CORE0;
            int n0 = i.get(k0 + 7);
            int c0 = c / n0;
            int r1 = i.get(k0 + 3);
            int src = i.get(k0 + 4) + i.get(pl0 + DIG * st + u) * i.get(k0 + 5) + c0 * r1;
            for (int y = 0; y < r1; y++) {
                v[y] = f.get(src + y);
            }
            for (int k = 1; k < d; k++) {
                int kd = desc + CORE0 + FIELDS * k;
                int q = i.get(kd + 1);
                int rk = i.get(kd + 2);
                int rk1 = i.get(kd + 3);
                int nk = i.get(kd + 7);
                int ck = (c / nk) % q;
                int sb = i.get(kd + 4) + i.get(pl0 + (DIG + k) * st + u) * i.get(kd + 5) + ck * rk1;
                for (int y = 0; y < rk1; y++) {
                    float s = 0f;
                    for (int x = 0; x < rk; x++) {
                        s += v[x] * f.get(sb + x * q * rk1 + y);
                    }
                    w[y] = s;
                }
                for (int y = 0; y < rk1; y++) {
                    v[y] = w[y];
                }
            }
            f.set(a.get(base + 4) + u * dim + c, v[0]);
        }
    }

    /** The left products P_0 .. P_d-2 of each distinct row, one work-item per row. args: P, S, distinct, desc, left. */
    public static void left(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                            int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int u = kc.globalIdx;
        if (u < a.get(base + 2)) {
            int pl0 = a.get(base);
            int st = a.get(base + 1);
            int desc = a.get(base + 3);
            int d = i.get(desc);
            int out = a.get(base + 4) + u * i.get(desc + 2);
            int k0 = desc + CORE0;
            int s0 = i.get(k0 + 4) + i.get(pl0 + DIG * st + u) * i.get(k0 + 5);
            int p0 = out + i.get(k0 + 8);
            for (int e = 0; e < i.get(k0 + 5); e++) {
                f.set(p0 + e, f.get(s0 + e));
            }
            for (int k = 1; k < d - 1; k++) {
                int kd = desc + CORE0 + FIELDS * k;
                int q = i.get(kd + 1);
                int rk = i.get(kd + 2);
                int rk1 = i.get(kd + 3);
                int rows = i.get(kd + 6);
                int prev = out + i.get(kd - FIELDS + 8);
                int cur = out + i.get(kd + 8);
                int sb = i.get(kd + 4) + i.get(pl0 + (DIG + k) * st + u) * i.get(kd + 5);
                int cols = q * rk1;
                for (int m = 0; m < rows; m++) {
                    for (int cc = 0; cc < cols; cc++) {
                        float s = 0f;
                        for (int x = 0; x < rk; x++) {
                            s += f.get(prev + m * rk + x) * f.get(sb + x * cols + cc);
                        }
                        f.set(cur + m * cols + cc, s);
                    }
                }
            }
        }
    }

    /** The right products S_1 .. S_d-1 of each distinct row, one work-item per row. args: P, S, distinct, desc, right. */
    public static void right(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                             int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int u = kc.globalIdx;
        if (u < a.get(base + 2)) {
            int pl0 = a.get(base);
            int st = a.get(base + 1);
            int desc = a.get(base + 3);
            int d = i.get(desc);
            int out = a.get(base + 4) + u * i.get(desc + 3);
            int kl = desc + CORE0 + FIELDS * (d - 1);
            int sl = i.get(kl + 4) + i.get(pl0 + (DIG + d - 1) * st + u) * i.get(kl + 5);
            int pl = out + i.get(kl + 9);
            for (int e = 0; e < i.get(kl + 5); e++) {
                f.set(pl + e, f.get(sl + e));
            }
            for (int k = d - 2; k >= 1; k--) {
                int kd = desc + CORE0 + FIELDS * k;
                int q = i.get(kd + 1);
                int rk = i.get(kd + 2);
                int rk1 = i.get(kd + 3);
                int next = out + i.get(kd + FIELDS + 9);
                int nn = i.get(kd + 7);
                int cur = out + i.get(kd + 9);
                int sb = i.get(kd + 4) + i.get(pl0 + (DIG + k) * st + u) * i.get(kd + 5);
                for (int x = 0; x < rk; x++) {
                    for (int j = 0; j < q; j++) {
                        for (int n = 0; n < nn; n++) {
                            float s = 0f;
                            for (int y = 0; y < rk1; y++) {
                                s += f.get(sb + x * q * rk1 + j * rk1 + y) * f.get(next + y * nn + n);
                            }
                            f.set(cur + x * q * nn + j * nn + n, s);
                        }
                    }
                }
            }
        }
    }

    /**
     * Slice gradients of core k, one work-item per element (t, a, j, b) of a touched slice t:
     * the sum over the distinct rows of digit t (stable order) of
     * sum_{m, n} P_k-1[m, a] gRow[u, (m q_k + j) N + n] S_k+1[b, n].
     * args: P, S, k, touched, desc, gRow, left, right, sg.
     */
    public static void slice(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                             int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int g = kc.globalIdx;
        int desc = a.get(base + 4);
        int k = a.get(base + 2);
        int kd = desc + CORE0 + FIELDS * k;
        int slice = i.get(kd + 5);
        if (g < a.get(base + 3) * slice) {
            int pl0 = a.get(base);
            int st = a.get(base + 1);
            int d = i.get(desc);
            int dim = i.get(desc + 1);
            int leftSize = i.get(desc + 2);
            int rightSize = i.get(desc + 3);
            int q = i.get(kd + 1);
            int rk1 = i.get(kd + 3);
            int rk = i.get(kd + 2);
            int mm = i.get(kd + 6);
            int nn = i.get(kd + 7);
            int t = g / slice;
            int e = g - t * slice;
            int x = e / (q * rk1);
            int rem = e - x * (q * rk1);
            int j = rem / rk1;
            int y = rem - j * rk1;
            int gRow = a.get(base + 5);
            int left = a.get(base + 6);
            int right = a.get(base + 7);
            int pOff = k > 0 ? i.get(kd - FIELDS + 8) : 0;
            int sOff = k < d - 1 ? i.get(kd + FIELDS + 9) : 0;
            int by = pl0 + (DIG + d + 3 * k) * st;
            int starts = pl0 + (DIG + d + 3 * k + 2) * st;
            float acc = 0f;
            for (int z = i.get(starts + t); z < i.get(starts + t + 1); z++) {
                int u = i.get(by + z);
                int lb = left + u * leftSize + pOff;
                int rb = right + u * rightSize + sOff;
                for (int m = 0; m < mm; m++) {
                    float lv = k > 0 ? f.get(lb + m * rk + x) : 1f;
                    for (int n = 0; n < nn; n++) {
                        float rv = k < d - 1 ? f.get(rb + y * nn + n) : 1f;
                        acc += lv * f.get(gRow + u * dim + (m * q + j) * nn + n) * rv;
                    }
                }
            }
            f.set(a.get(base + 8) + g, acc);
        }
    }
}
