package org.ttrec.engine.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The kernels every embedding table shares: pooling rows into bags, summing each distinct row's
 * gradient over the batch, and the fused optimiser. Each output element is owned by one
 * work-item that sums in an order fixed by the host's sort; nothing is atomic. Sums are written
 * as the scalar reference writes them, so an uncompressed table gives the reference's bits.
 */
public final class Lookups {
    private Lookups() {}

    /** Optimiser kinds, in {@code SparseOptimizer.Kind} order. */
    public static final int ACCUMULATE = 0;
    public static final int SGD = 1;
    public static final int ADAGRAD = 2;
    public static final int ROWWISE_ADAGRAD = 3;

    /**
     * out[b, c] (+)= sum over the bag's lookups j, in batch order, of scale_j * src[row_j, c],
     * one work-item per output element. scale_j = weight_j (1 without weights), divided by the
     * bag's length for mean pooling. Lookup j of bag b is in [off[b], off[b+1]); its row index
     * is rowIdx[j] (a table row, or a TT table's distinct-row number) and its weight f[w + j].
     * args: bags, dim, out, ldOut, accumulate, mean, weighted, w, off (int heap), rowIdx (int heap), src.
     */
    public static void pool(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                            int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int g = kc.globalIdx;
        int dim = a.get(base + 1);
        if (g < a.get(base) * dim) {
            int b = g / dim;
            int c = g - b * dim;
            int o = a.get(base + 2) + b * a.get(base + 3) + c;
            int mean = a.get(base + 5);
            int weighted = a.get(base + 6);
            int w = a.get(base + 7);
            int off = a.get(base + 8);
            int rowIdx = a.get(base + 9);
            int src = a.get(base + 10);
            int start = i.get(off + b);
            int end = i.get(off + b + 1);
            float v = a.get(base + 4) != 0 ? f.get(o) : 0f;
            for (int j = start; j < end; j++) {
                float s = weighted != 0 ? f.get(w + j) : 1f;
                if (mean != 0) {
                    s = s / (end - start);
                }
                float p = s * f.get(src + i.get(rowIdx + j) * dim + c);
                v = v + p;
            }
            f.set(o, v);
        }
    }

    /**
     * gRow[u, c] = sum over the lookups of distinct row u (batch order) of scale_j *
     * grad[bag_j, c]. Lookups of row u are [rlk[u], rlk[u+1]) of the row-sorted lists lkBag and
     * lkPerm (batch position); off gives bag lengths for mean pooling.
     * args: distinct, dim, rlk, lkBag, lkPerm, off (int heap), weighted, w, mean, grad, ldGrad, gRow.
     */
    public static void rowGrad(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                               int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int g = kc.globalIdx;
        int dim = a.get(base + 1);
        if (g < a.get(base) * dim) {
            int u = g / dim;
            int c = g - u * dim;
            int rlk = a.get(base + 2);
            int lkBag = a.get(base + 3);
            int lkPerm = a.get(base + 4);
            int off = a.get(base + 5);
            int weighted = a.get(base + 6);
            int w = a.get(base + 7);
            int mean = a.get(base + 8);
            int grad = a.get(base + 9);
            int ld = a.get(base + 10);
            float v = 0f;
            for (int k = i.get(rlk + u); k < i.get(rlk + u + 1); k++) {
                int bag = i.get(lkBag + k);
                float s = weighted != 0 ? f.get(w + i.get(lkPerm + k)) : 1f;
                if (mean != 0) {
                    s = s / (i.get(off + bag + 1) - i.get(off + bag));
                }
                float p = s * f.get(grad + bag * ld + c);
                v = v + p;
            }
            f.set(a.get(base + 11) + g, v);
        }
    }

    /**
     * Applies the optimiser to the touched rows (or TT core slices): item t of the list names a
     * block of rowsK x cols weights at list[t] * rowsK * cols whose summed gradient is at
     * g + t * rowsK * cols. Elementwise kinds: one work-item per weight. Row-wise Adagrad: one
     * work-item per block row, which owns the row's state (at list[t] * rowsK + row), first sums
     * the squares of the row's gradient, then updates it, columns in order.
     * args: count, list (int heap), rowsK, cols, g, weights, state, kind; fargs: lr, eps.
     */
    public static void update(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                              int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int g = kc.globalIdx;
        int count = a.get(base);
        int list = a.get(base + 1);
        int rowsK = a.get(base + 2);
        int cols = a.get(base + 3);
        int grad = a.get(base + 4);
        int wts = a.get(base + 5);
        int state = a.get(base + 6);
        int kind = a.get(base + 7);
        float lr = fa.get(fbase);
        float eps = fa.get(fbase + 1);
        int block = rowsK * cols;
        if (kind == ROWWISE_ADAGRAD) {
            if (g < count * rowsK) {
                int t = g / rowsK;
                int r = g - t * rowsK;
                int item = i.get(list + t);
                int gb = grad + t * block + r * cols;
                int wb = wts + item * block + r * cols;
                float sq = 0f;
                for (int c = 0; c < cols; c++) {
                    float v = f.get(gb + c);
                    float v2 = v * v;
                    sq = sq + v2;
                }
                int si = state + item * rowsK + r;
                float sv = f.get(si) + sq / cols;
                f.set(si, sv);
                float step = lr / ((float) Math.sqrt(sv) + eps);
                for (int c = 0; c < cols; c++) {
                    float d = step * f.get(gb + c);
                    f.set(wb + c, f.get(wb + c) - d);
                }
            }
        } else if (g < count * block) {
            int t = g / block;
            int e = g - t * block;
            int wi = i.get(list + t) * block + e;
            float gv = f.get(grad + g);
            if (kind == ACCUMULATE) {
                f.set(state + wi, f.get(state + wi) + gv);
            } else if (kind == SGD) {
                float d = lr * gv;
                f.set(wts + wi, f.get(wts + wi) - d);
            } else {
                float sq = gv * gv;
                float sv = f.get(state + wi) + sq;
                f.set(state + wi, sv);
                float num = lr * gv;
                float d = num / ((float) Math.sqrt(sv) + eps);
                f.set(wts + wi, f.get(wts + wi) - d);
            }
        }
    }
}
