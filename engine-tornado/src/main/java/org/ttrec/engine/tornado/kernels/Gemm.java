package org.ttrec.engine.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * GEMM kernels.
 *
 * <p>{@link #tiled}: C = alpha op(A) op(B) + beta C, or the fused linear layer Y = X W^T + b
 * (+ ReLU). A work-group of 16 x 16 work-items computes a 64 x 64 block of C, each work-item a
 * 4 x 4 sub-block in registers; A and B tiles (64 x 16, 16 x 64) pass through local memory,
 * loaded with consecutive work-items on consecutive addresses for either transposition. Each C
 * element sums its k products in increasing k, as the reference does. Edges are zero-padded on
 * load and masked on store, so any m, n, k work. Launch: 2-D, local (16, 16), global
 * (16 ceil(n / 64), 16 ceil(m / 64)).
 *
 * <p>{@link #batched}: many small products (TT-shaped, the dot interaction), one work-item per
 * element of every C.
 */
public final class Gemm {
    private Gemm() {}

    /** Block edge (C rows and columns per work-group). */
    public static final int BT = 64;
    /** k step. */
    public static final int KT = 16;
    /** Work-group edge. */
    public static final int WG = 16;

    /**
     * args: transA, transB, m, n, k, a, lda, b, ldb, c, ldc, linear, relu, bias;
     * fargs: alpha, beta. With linear = 1: C = A B^T (alpha 1) + bias[col], then ReLU if relu = 1.
     * Otherwise C = alpha A B (+ beta C, C not read when beta is 0).
     */
    public static void tiled(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                             int slot, int base, int fbase) {
        Marks.ran2(kc, a, done, slot);
        float[] as = kc.allocateFloatLocalArray(KT * BT);
        float[] bs = kc.allocateFloatLocalArray(KT * BT);
        float[] acc = new float[16];
        int transA = a.get(base);
        int transB = a.get(base + 1);
        int m = a.get(base + 2);
        int n = a.get(base + 3);
        int k = a.get(base + 4);
        int aOff = a.get(base + 5);
        int lda = a.get(base + 6);
        int bOff = a.get(base + 7);
        int ldb = a.get(base + 8);
        int tx = kc.localIdx;
        int ty = kc.localIdy;
        int tid = ty * WG + tx;
        int row0 = kc.groupIdy * BT;
        int col0 = kc.groupIdx * BT;
        for (int q = 0; q < 16; q++) {
            acc[q] = 0f;
        }
        for (int k0 = 0; k0 < k; k0 += KT) {
            for (int l = 0; l < 4; l++) {
                int e = tid + l * WG * WG;
                int ar;
                int ak;
                if (transA == 0) {
                    ar = e / KT;
                    ak = e - ar * KT;
                } else {
                    ak = e / BT;
                    ar = e - ak * BT;
                }
                int gr = row0 + ar;
                int gk = k0 + ak;
                float av = 0f;
                if (gr < m && gk < k) {
                    av = transA == 0 ? f.get(aOff + gr * lda + gk) : f.get(aOff + gk * lda + gr);
                }
                as[ak * BT + ar] = av;
                int bk;
                int bc;
                if (transB == 0) {
                    bk = e / BT;
                    bc = e - bk * BT;
                } else {
                    bc = e / KT;
                    bk = e - bc * KT;
                }
                int gbk = k0 + bk;
                int gc = col0 + bc;
                float bv = 0f;
                if (gbk < k && gc < n) {
                    bv = transB == 0 ? f.get(bOff + gbk * ldb + gc) : f.get(bOff + gc * ldb + gbk);
                }
                bs[bk * BT + bc] = bv;
            }
            kc.localBarrier();
            int kEnd = Math.min(KT, k - k0);
            for (int kk = 0; kk < kEnd; kk++) {
                float a0 = as[kk * BT + ty];
                float a1 = as[kk * BT + ty + 16];
                float a2 = as[kk * BT + ty + 32];
                float a3 = as[kk * BT + ty + 48];
                float b0 = bs[kk * BT + tx];
                float b1 = bs[kk * BT + tx + 16];
                float b2 = bs[kk * BT + tx + 32];
                float b3 = bs[kk * BT + tx + 48];
                acc[0] += a0 * b0;
                acc[1] += a0 * b1;
                acc[2] += a0 * b2;
                acc[3] += a0 * b3;
                acc[4] += a1 * b0;
                acc[5] += a1 * b1;
                acc[6] += a1 * b2;
                acc[7] += a1 * b3;
                acc[8] += a2 * b0;
                acc[9] += a2 * b1;
                acc[10] += a2 * b2;
                acc[11] += a2 * b3;
                acc[12] += a3 * b0;
                acc[13] += a3 * b1;
                acc[14] += a3 * b2;
                acc[15] += a3 * b3;
            }
            kc.localBarrier();
        }
        int cOff = a.get(base + 9);
        int ldc = a.get(base + 10);
        int linear = a.get(base + 11);
        int relu = a.get(base + 12);
        int bias = a.get(base + 13);
        float alpha = fa.get(fbase);
        float beta = fa.get(fbase + 1);
        for (int p = 0; p < 4; p++) {
            int gr = row0 + ty + 16 * p;
            for (int q = 0; q < 4; q++) {
                int gc = col0 + tx + 16 * q;
                if (gr < m && gc < n) {
                    int ci = cOff + gr * ldc + gc;
                    float v = alpha * acc[p * 4 + q];
                    if (linear != 0) {
                        v = v + f.get(bias + gc);
                        if (relu != 0) {
                            v = v > 0f ? v : 0f;
                        }
                    } else if (beta != 0f) {
                        float old = beta * f.get(ci);
                        v = v + old;
                    }
                    f.set(ci, v);
                }
            }
        }
    }

    /**
     * {@code batch} small products C_x = alpha op(A_x) op(B_x) (+ beta C_x), one work-item per C
     * element, k in order. Operands at a + x sA, ... (strided), or at the offsets listed in the
     * int heap at aList + x, ... (listed = 1).
     * args: transA, transB, m, n, k, lda, ldb, ldc, batch, a, sA, b, sB, c, sC, listed, aList, bList, cList;
     * fargs: alpha, beta.
     */
    public static void batched(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                               int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        int m = a.get(base + 2);
        int n = a.get(base + 3);
        int mn = m * n;
        if (e < a.get(base + 8) * mn) {
            int x = e / mn;
            int rc = e - x * mn;
            int r = rc / n;
            int col = rc - r * n;
            int transA = a.get(base);
            int transB = a.get(base + 1);
            int k = a.get(base + 4);
            int lda = a.get(base + 5);
            int ldb = a.get(base + 6);
            int ldc = a.get(base + 7);
            int ao;
            int bo;
            int co;
            if (a.get(base + 15) != 0) {
                ao = i.get(a.get(base + 16) + x);
                bo = i.get(a.get(base + 17) + x);
                co = i.get(a.get(base + 18) + x);
            } else {
                ao = a.get(base + 9) + x * a.get(base + 10);
                bo = a.get(base + 11) + x * a.get(base + 12);
                co = a.get(base + 13) + x * a.get(base + 14);
            }
            float s = 0f;
            for (int t = 0; t < k; t++) {
                float av = transA == 0 ? f.get(ao + r * lda + t) : f.get(ao + t * lda + r);
                float bv = transB == 0 ? f.get(bo + t * ldb + col) : f.get(bo + col * ldb + t);
                s += av * bv;
            }
            int ci = co + r * ldc + col;
            float alpha = fa.get(fbase);
            float beta = fa.get(fbase + 1);
            float v = alpha * s;
            if (beta != 0f) {
                float old = beta * f.get(ci);
                v = v + old;
            }
            f.set(ci, v);
        }
    }
}
