package org.ttrec.engine.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * TT-EmbeddingBag kernels for d = 3 cores (docs/tt-layout.md): core k holds, per digit i_k, an
 * R_k x (q_k R_{k+1}) row-major slice. Here r1 = R_1, r2 = R_2; s0 = q0 r1, s1 = r1 q1 r2,
 * s2 = r2 q2 are slice sizes; pw = q0 q1 r2 is the size of a prefix product P_1 = G0[i0] G1[i1]
 * (a (q0 q1) x r2 matrix); D = q0 q1 q2.
 *
 * <p>The shape (chunk, q0, q1, q2, r1, r2) is compiled in (one program per table shape: loops
 * unroll, the local array is sized); the batch's counts and every offset come from args. The
 * host's sort ({@code HostPlan}, sections at P + k S of the int heap) groups distinct rows by
 * prefix (i0, i1), so a prefix shared by several rows is computed once per batch, and lists
 * every sum a kernel makes in a fixed order: no atomics, the same bits every run. The forward is
 * {@link #prefixRows} then {@link Lookups#pool}; the backward is {@link Lookups#rowGrad}, the
 * kernels below from {@link #prefixProducts} on, and {@link Lookups#update} per core, after all
 * gradients were computed from the forward's weights.
 */
public final class TtFast {
    private TtFast() {}

    /** Section offsets of the d = 3 plan (must match PlanLayout). */
    private static final int UI2 = 7;
    private static final int UPREF = 8;
    private static final int PI0 = 9;
    private static final int PI1 = 10;
    private static final int PRS = 11;
    private static final int R2BY = 12;
    private static final int T2S = 14;
    private static final int P1BY = 15;
    private static final int T1S = 17;
    private static final int T0S = 19;

    /**
     * Every distinct row of the batch: one work-group per {@code chunk} consecutive prefixes
     * first builds their P_1 in local memory, then computes the distinct rows under them as
     * P_1 G2[i2]. Stage 1 walks G1 with consecutive work-items on consecutive (j1, b), stage 2
     * writes consecutive columns of a row: coalesced. Every work-item reaches the barrier.
     * args: P, S, prefixes, g0, g1, g2, rows.
     */
    public static void prefixRows(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                                  int slot, int base, int fbase, int chunk, int q0, int q1, int q2, int r1, int r2) {
        Marks.ran(kc, a, done, slot);
        float[] p1loc = kc.allocateFloatLocalArray(chunk * q0 * q1 * r2);
        int lid = kc.localIdx;
        int wg = kc.localGroupSizeX;
        int pl0 = a.get(base);
        int st = a.get(base + 1);
        int prefixes = a.get(base + 2);
        int g0 = a.get(base + 3);
        int g1 = a.get(base + 4);
        int g2 = a.get(base + 5);
        int rows = a.get(base + 6);
        int pw = q0 * q1 * r2;
        int s0 = q0 * r1;
        int s1 = r1 * q1 * r2;
        int s2 = r2 * q2;
        int dim = q0 * q1 * q2;
        int pBase = kc.groupIdx * chunk;
        int pCount = Math.max(0, Math.min(chunk, prefixes - pBase));
        for (int e = lid; e < pCount * pw; e += wg) {
            int pl = e / pw;
            int rem = e - pl * pw;
            int m = rem / r2;
            int bb = rem - m * r2;
            int j0 = m / q1;
            int j1 = m - j0 * q1;
            int p = pBase + pl;
            int i0 = i.get(pl0 + PI0 * st + p);
            int i1 = i.get(pl0 + PI1 * st + p);
            float acc = 0f;
            for (int x = 0; x < r1; x++) {
                acc += f.get(g0 + i0 * s0 + j0 * r1 + x) * f.get(g1 + i1 * s1 + x * q1 * r2 + j1 * r2 + bb);
            }
            p1loc[e] = acc;
        }
        kc.localBarrier();
        int prs = pl0 + PRS * st;
        int rowStart = i.get(prs + pBase);
        int rowEnd = pCount > 0 ? i.get(prs + pBase + pCount) : rowStart;
        int n = (rowEnd - rowStart) * dim;
        for (int e = lid; e < n; e += wg) {
            int rl = e / dim;
            int c = e - rl * dim;
            int u = rowStart + rl;
            int m = c / q2;
            int j2 = c - m * q2;
            int pl = i.get(pl0 + UPREF * st + u) - pBase;
            int i2 = i.get(pl0 + UI2 * st + u);
            float acc = 0f;
            for (int bb = 0; bb < r2; bb++) {
                acc += p1loc[pl * pw + m * r2 + bb] * f.get(g2 + i2 * s2 + bb * q2 + j2);
            }
            f.set(rows + u * dim + c, acc);
        }
    }

    /** P_1 of every prefix into p1 (the backward needs all of them at once). args: P, S, prefixes, g0, g1, p1. */
    public static void prefixProducts(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa,
                                      IntArray done, int slot, int base, int fbase, int chunk, int q0, int q1, int q2,
                                      int r1, int r2) {
        Marks.ran(kc, a, done, slot);
        int g = kc.globalIdx;
        int pw = q0 * q1 * r2;
        int st = a.get(base + 1);
        if (g < a.get(base + 2) * pw) {
            int pl0 = a.get(base);
            int g0 = a.get(base + 3);
            int g1 = a.get(base + 4);
            int p = g / pw;
            int rem = g - p * pw;
            int m = rem / r2;
            int bb = rem - m * r2;
            int j0 = m / q1;
            int j1 = m - j0 * q1;
            int i0 = i.get(pl0 + PI0 * st + p);
            int i1 = i.get(pl0 + PI1 * st + p);
            float acc = 0f;
            for (int x = 0; x < r1; x++) {
                acc += f.get(g0 + i0 * q0 * r1 + j0 * r1 + x) * f.get(g1 + i1 * r1 * q1 * r2 + x * q1 * r2 + j1 * r2 + bb);
            }
            f.set(a.get(base + 5) + g, acc);
        }
    }

    /**
     * Gradient into P_1, summed over the distinct rows of each prefix (it is linear in the row
     * gradient): gp1[p, m, b] = sum over rows u of p, j2 of gRow[u, m q2 + j2] G2[i2_u][b, j2].
     * args: P, S, prefixes, g2, gRow, gp1.
     */
    public static void prefixGrad(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                                  int slot, int base, int fbase, int chunk, int q0, int q1, int q2, int r1, int r2) {
        Marks.ran(kc, a, done, slot);
        int g = kc.globalIdx;
        int pw = q0 * q1 * r2;
        int dim = q0 * q1 * q2;
        if (g < a.get(base + 2) * pw) {
            int pl0 = a.get(base);
            int st = a.get(base + 1);
            int g2 = a.get(base + 3);
            int gRow = a.get(base + 4);
            int p = g / pw;
            int rem = g - p * pw;
            int m = rem / r2;
            int bb = rem - m * r2;
            int prs = pl0 + PRS * st;
            float acc = 0f;
            for (int u = i.get(prs + p); u < i.get(prs + p + 1); u++) {
                int i2 = i.get(pl0 + UI2 * st + u);
                for (int j2 = 0; j2 < q2; j2++) {
                    acc += f.get(gRow + u * dim + m * q2 + j2) * f.get(g2 + i2 * r2 * q2 + bb * q2 + j2);
                }
            }
            f.set(a.get(base + 5) + g, acc);
        }
    }

    /**
     * Slice gradient of core 2 per touched digit t: sum over rows u with i2_u = t (stable order)
     * of sum_m P_1[pref_u][m, b] gRow[u, m q2 + j2]. args: P, S, touched2, p1, gRow, sg2.
     */
    public static void core2Grad(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                                 int slot, int base, int fbase, int chunk, int q0, int q1, int q2, int r1, int r2) {
        Marks.ran(kc, a, done, slot);
        int g = kc.globalIdx;
        int s2 = r2 * q2;
        int pw = q0 * q1 * r2;
        int dim = q0 * q1 * q2;
        if (g < a.get(base + 2) * s2) {
            int pl0 = a.get(base);
            int st = a.get(base + 1);
            int p1 = a.get(base + 3);
            int gRow = a.get(base + 4);
            int t = g / s2;
            int e = g - t * s2;
            int bb = e / q2;
            int j2 = e - bb * q2;
            int t2s = pl0 + T2S * st;
            float acc = 0f;
            for (int k = i.get(t2s + t); k < i.get(t2s + t + 1); k++) {
                int u = i.get(pl0 + R2BY * st + k);
                int p = i.get(pl0 + UPREF * st + u);
                for (int m = 0; m < q0 * q1; m++) {
                    acc += f.get(p1 + p * pw + m * r2 + bb) * f.get(gRow + u * dim + m * q2 + j2);
                }
            }
            f.set(a.get(base + 5) + g, acc);
        }
    }

    /**
     * Slice gradient of core 1 per touched digit t: sum over prefixes p with i1_p = t (stable
     * order) of sum_j0 G0[i0_p][j0, a] gp1[p, j0 q1 + j1, b]. args: P, S, touched1, g0, gp1, sg1.
     */
    public static void core1Grad(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                                 int slot, int base, int fbase, int chunk, int q0, int q1, int q2, int r1, int r2) {
        Marks.ran(kc, a, done, slot);
        int g = kc.globalIdx;
        int s1 = r1 * q1 * r2;
        int pw = q0 * q1 * r2;
        if (g < a.get(base + 2) * s1) {
            int pl0 = a.get(base);
            int st = a.get(base + 1);
            int g0 = a.get(base + 3);
            int gp1 = a.get(base + 4);
            int t = g / s1;
            int e = g - t * s1;
            int x = e / (q1 * r2);
            int rem = e - x * (q1 * r2);
            int j1 = rem / r2;
            int bb = rem - j1 * r2;
            int t1s = pl0 + T1S * st;
            float acc = 0f;
            for (int k = i.get(t1s + t); k < i.get(t1s + t + 1); k++) {
                int p = i.get(pl0 + P1BY * st + k);
                int i0 = i.get(pl0 + PI0 * st + p);
                for (int j0 = 0; j0 < q0; j0++) {
                    acc += f.get(g0 + i0 * q0 * r1 + j0 * r1 + x) * f.get(gp1 + p * pw + (j0 * q1 + j1) * r2 + bb);
                }
            }
            f.set(a.get(base + 5) + g, acc);
        }
    }

    /**
     * Gradient into P_0 = G0[i0] per prefix: gp0[p, j0, a] = sum_{j1, b} gp1[p, j0 q1 + j1, b]
     * G1[i1_p][a, j1, b]. args: P, S, prefixes, g1, gp1, gp0.
     */
    public static void prefixGrad0(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                                   int slot, int base, int fbase, int chunk, int q0, int q1, int q2, int r1, int r2) {
        Marks.ran(kc, a, done, slot);
        int g = kc.globalIdx;
        int s0 = q0 * r1;
        int s1 = r1 * q1 * r2;
        int pw = q0 * q1 * r2;
        if (g < a.get(base + 2) * s0) {
            int pl0 = a.get(base);
            int st = a.get(base + 1);
            int g1 = a.get(base + 3);
            int gp1 = a.get(base + 4);
            int p = g / s0;
            int e = g - p * s0;
            int j0 = e / r1;
            int x = e - j0 * r1;
            int i1 = i.get(pl0 + PI1 * st + p);
            float acc = 0f;
            for (int j1 = 0; j1 < q1; j1++) {
                for (int bb = 0; bb < r2; bb++) {
                    acc += f.get(gp1 + p * pw + (j0 * q1 + j1) * r2 + bb) * f.get(g1 + i1 * s1 + x * q1 * r2 + j1 * r2 + bb);
                }
            }
            f.set(a.get(base + 5) + g, acc);
        }
    }

    /** Slice gradient of core 0: the sum over the (consecutive) prefixes with i0 = t of gp0. args: P, S, touched0, gp0, sg0. */
    public static void core0Grad(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                                 int slot, int base, int fbase, int chunk, int q0, int q1, int q2, int r1, int r2) {
        Marks.ran(kc, a, done, slot);
        int g = kc.globalIdx;
        int s0 = q0 * r1;
        if (g < a.get(base + 2) * s0) {
            int pl0 = a.get(base);
            int st = a.get(base + 1);
            int gp0 = a.get(base + 3);
            int t = g / s0;
            int e = g - t * s0;
            int t0s = pl0 + T0S * st;
            float acc = 0f;
            for (int p = i.get(t0s + t); p < i.get(t0s + t + 1); p++) {
                acc += f.get(gp0 + p * s0 + e);
            }
            f.set(a.get(base + 4) + g, acc);
        }
    }
}
