package org.ttrec.engine.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Reductions into one float, in double, by one work-group of {@link #GROUP} work-items: item l
 * adds elements l, l + GROUP, ... in order, then a fixed tree adds the partial sums, so the
 * result is the same bits every run. Also the non-finite check, the same shape with OR.
 */
public final class Reduce {
    private Reduce() {}

    /** Work-items of the one work-group. */
    public static final int GROUP = 256;
    /** Modes of {@link #reduce}. */
    public static final int SUM = 0;
    public static final int DOT = 1;
    public static final int BCE = 2;

    /** Clamp of the probabilities in BCE, as the reference's. */
    private static final float EPS = 1e-7f;

    /**
     * out = (float) the double sum of x (SUM), of x y (DOT), or the mean clamped binary
     * cross-entropy of probabilities x against labels y (BCE; 0 for n = 0).
     * args: n, x, y, out, mode.
     */
    public static void reduce(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa, IntArray done,
                              int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        double[] part = kc.allocateDoubleLocalArray(GROUP);
        int l = kc.localIdx;
        int n = a.get(base);
        int x = a.get(base + 1);
        int y = a.get(base + 2);
        int mode = a.get(base + 4);
        double s = 0;
        for (int e = l; e < n; e += GROUP) {
            if (mode == SUM) {
                s += f.get(x + e);
            } else if (mode == DOT) {
                s += (double) f.get(x + e) * f.get(y + e);
            } else {
                float pf = Math.min(Math.max(f.get(x + e), EPS), 1f - EPS);
                double pv = pf;
                double lab = f.get(y + e);
                s -= lab * Math.log(pv) + (1 - lab) * Math.log(1 - pv);
            }
        }
        part[l] = s;
        kc.localBarrier();
        for (int half = GROUP / 2; half > 0; half /= 2) {
            if (l < half) {
                part[l] = part[l] + part[l + half];
            }
            kc.localBarrier();
        }
        if (l == 0) {
            double total = part[0];
            if (mode == BCE) {
                total = n == 0 ? 0 : total / n;
            }
            f.set(a.get(base + 3), (float) total);
        }
    }

    /**
     * Raises a backend's non-finite flag: if any of x[0 .. n) is NaN or infinite and the flag
     * (int heap: set, tag high, tag low) is down, it goes up with the tag.
     * args: n, x, flag, tag high, tag low.
     */
    public static void checkFinite(KernelContext kc, FloatArray f, IntArray i, IntArray a, FloatArray fa,
                                   IntArray done, int slot, int base, int fbase) {
        Marks.ran(kc, a, done, slot);
        int[] bad = kc.allocateIntLocalArray(GROUP);
        int l = kc.localIdx;
        int n = a.get(base);
        int x = a.get(base + 1);
        int found = 0;
        for (int e = l; e < n; e += GROUP) {
            float v = f.get(x + e);
            // v - v is 0 for every finite v, NaN for NaN and for infinities
            float z = v - v;
            if (!(z == 0f)) {
                found = 1;
            }
        }
        bad[l] = found;
        kc.localBarrier();
        for (int half = GROUP / 2; half > 0; half /= 2) {
            if (l < half) {
                bad[l] = bad[l] | bad[l + half];
            }
            kc.localBarrier();
        }
        if (l == 0 && bad[0] != 0) {
            int flag = a.get(base + 2);
            if (i.get(flag) == 0) {
                i.set(flag, 1);
                i.set(flag + 1, a.get(base + 3));
                i.set(flag + 2, a.get(base + 4));
            }
        }
    }
}
