package org.ttrec.engine.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Elementwise kernels, one work-item per element, each written as the scalar reference writes
 * its loop body (same operations in the same order, so with contraction into fma disabled the
 * results are bit-identical). Runtime parameters are read at args[base ..] (offsets into the
 * float heap {@code f} unless said otherwise) and scalars at fargs[fbase ..].
 */
public final class Elementwise {
    private Elementwise() {}

    /** f[x + e] = v for e < n. args: n, x; fargs: v. */
    public static void fill(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                            int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        if (e < a.get(base)) {
            f.set(a.get(base + 1) + e, fa.get(fbase));
        }
    }

    /** f[dst + e] = f[src + e]; the regions must not overlap (the engine copies through scratch otherwise). args: n, src, dst. */
    public static void copy(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                            int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        if (e < a.get(base)) {
            f.set(a.get(base + 2) + e, f.get(a.get(base + 1) + e));
        }
    }

    /** A rows x cols block. args: rows, cols, src, srcLd, dst, dstLd. */
    public static void copy2d(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                              int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        int cols = a.get(base + 1);
        if (e < a.get(base) * cols) {
            int r = e / cols;
            int c = e - r * cols;
            f.set(a.get(base + 4) + r * a.get(base + 5) + c, f.get(a.get(base + 2) + r * a.get(base + 3) + c));
        }
    }

    /** y += alpha x. args: n, x, y; fargs: alpha. */
    public static void axpy(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                            int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        if (e < a.get(base)) {
            int y = a.get(base + 2) + e;
            float p = fa.get(fbase) * f.get(a.get(base + 1) + e);
            f.set(y, f.get(y) + p);
        }
    }

    /** x *= alpha. args: n, x; fargs: alpha. */
    public static void scale(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                             int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        if (e < a.get(base)) {
            int x = a.get(base + 1) + e;
            f.set(x, f.get(x) * fa.get(fbase));
        }
    }

    /** x[r, c] += bias[c]. args: rows, cols, bias, x, ldx. */
    public static void addBias(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                               int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        int cols = a.get(base + 1);
        if (e < a.get(base) * cols) {
            int r = e / cols;
            int c = e - r * cols;
            int x = a.get(base + 3) + r * a.get(base + 4) + c;
            f.set(x, f.get(x) + f.get(a.get(base + 2) + c));
        }
    }

    /**
     * Column sums, one work-item per column, rows in order: y[c] = beta y[c] + s, or s when beta
     * is 0 (y not read). args: rows, cols, x, ldx, y; fargs: beta.
     */
    public static void sumRows(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                               int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int c = kc.globalIdx;
        if (c < a.get(base + 1)) {
            int rows = a.get(base);
            int x = a.get(base + 2) + c;
            int ld = a.get(base + 3);
            float s = 0f;
            for (int r = 0; r < rows; r++) {
                s += f.get(x + r * ld);
            }
            int y = a.get(base + 4) + c;
            float beta = fa.get(fbase);
            if (beta == 0f) {
                f.set(y, s);
            } else {
                float p = beta * f.get(y);
                f.set(y, p + s);
            }
        }
    }

    /** y = max(x, 0) (x > 0 ? x : 0, as the reference). args: n, x, y. */
    public static void relu(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                            int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        if (e < a.get(base)) {
            float v = f.get(a.get(base + 1) + e);
            f.set(a.get(base + 2) + e, v > 0f ? v : 0f);
        }
    }

    /** dx = y > 0 ? dy : 0. args: n, y, dy, dx. */
    public static void reluBackward(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa,
                                    IntArray done, int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        if (e < a.get(base)) {
            float d = f.get(a.get(base + 2) + e);
            f.set(a.get(base + 3) + e, f.get(a.get(base + 1) + e) > 0f ? d : 0f);
        }
    }

    /** y = 1 / (1 + exp(-x)) in double, rounded once, as the reference. args: n, x, y. */
    public static void sigmoid(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                               int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        if (e < a.get(base)) {
            float v = -f.get(a.get(base + 1) + e);
            double d = 1.0 / (1.0 + Math.exp(v));
            f.set(a.get(base + 2) + e, (float) d);
        }
    }

    /** dz = scale (p - y). args: n, p, labels, dz; fargs: scale. */
    public static void bceSigmoidBackward(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa,
                                          IntArray done, int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        if (e < a.get(base)) {
            float d = f.get(a.get(base + 1) + e) - f.get(a.get(base + 2) + e);
            f.set(a.get(base + 3) + e, fa.get(fbase) * d);
        }
    }

    /** s += g^2; w -= lr g / (sqrt(s) + eps), sqrt in double as the reference. args: n, g, s, w; fargs: lr, eps. */
    public static void adagrad(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                               int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        if (e < a.get(base)) {
            float g = f.get(a.get(base + 1) + e);
            int s = a.get(base + 2) + e;
            int w = a.get(base + 3) + e;
            float sq = g * g;
            float sv = f.get(s) + sq;
            f.set(s, sv);
            float num = fa.get(fbase) * g;
            float step = num / ((float) Math.sqrt(sv) + fa.get(fbase + 1));
            f.set(w, f.get(w) - step);
        }
    }

    /** dst[r, j] = src[r, cols[j]]. args: rows, count, cols (int heap), src, srcLd, dst, dstLd. */
    public static void gatherColumns(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa,
                                     IntArray done, int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        int count = a.get(base + 1);
        if (e < a.get(base) * count) {
            int r = e / count;
            int j = e - r * count;
            int col = i.get(a.get(base + 2) + j);
            f.set(a.get(base + 5) + r * a.get(base + 6) + j, f.get(a.get(base + 3) + r * a.get(base + 4) + col));
        }
    }

    /**
     * dst[r, c] += src[r, j] for every j with cols[j] = c, in increasing j (the reference's
     * order), one work-item per (row, distinct column). The host inverts the column list: the
     * distinct columns, and for each the positions j that name it.
     * args: rows, distinct, columns (int heap), starts (distinct + 1, int heap), positions (int
     * heap), src, srcLd, dst, dstLd.
     */
    public static void scatterAddColumns(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa,
                                         IntArray done, int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int e = kc.globalIdx;
        int distinct = a.get(base + 1);
        if (e < a.get(base) * distinct) {
            int r = e / distinct;
            int u = e - r * distinct;
            int starts = a.get(base + 3);
            int pos = a.get(base + 4);
            int src = a.get(base + 5) + r * a.get(base + 6);
            int d = a.get(base + 7) + r * a.get(base + 8) + i.get(a.get(base + 2) + u);
            float v = f.get(d);
            for (int k = i.get(starts + u); k < i.get(starts + u + 1); k++) {
                v = v + f.get(src + i.get(pos + k));
            }
            f.set(d, v);
        }
    }
}
