package org.ttrec.engine.tt;

import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.HeapFloatBuf;
import org.ttrec.engine.HeapIntBuf;
import org.ttrec.engine.IntBuf;

import org.ttrec.engine.TtShape;

import java.util.SplittableRandom;

/**
 * Test helpers shared through the engine-api test-jar: an independent double-precision
 * evaluation of TT entries straight from the definition W[i, j] = G_1[i_1][:, j_1, :] ... G_d[i_d][:, j_d, :],
 * random bag structures with the awkward cases (empty bags, repeated indices).
 */
public final class TtTestUtil {
    private TtTestUtil() {}

    /**
     * A host buffer over {@code a} itself (not a copy): for tests of host backends that read the
     * array after a kernel wrote the buffer. Code that should run on any backend uploads instead.
     *
     * @param a the array
     * @return a heap buffer sharing it
     */
    public static FloatBuf heap(float[] a) {
        return new HeapFloatBuf(a);
    }

    /**
     * @param a the array
     * @return a heap buffer sharing it (see {@link #heap(float[])})
     */
    public static IntBuf heap(int[] a) {
        return new HeapIntBuf(a);
    }

    /** W[row, col] in double, from the definition (vector-times-matrix over the rank path). */
    public static double entry(TtShape s, double[][] cores, int row, int col) {
        int d = s.cores();
        int[] di = new int[d], dj = new int[d];
        s.digits(row, di);
        int c = col;
        for (int k = d - 1; k >= 0; k--) {
            dj[k] = c % s.q(k);
            c /= s.q(k);
        }
        double[] v = {1.0};
        for (int k = 0; k < d; k++) {
            int rin = s.rank(k), rout = s.rank(k + 1), qk = s.q(k);
            int base = di[k] * s.sliceSize(k);
            double[] nv = new double[rout];
            for (int a = 0; a < rin; a++) {
                for (int b = 0; b < rout; b++) {
                    nv[b] += v[a] * cores[k][base + a * qk * rout + dj[k] * rout + b];
                }
            }
            v = nv;
        }
        return v[0];
    }

    /** The materialised N x D table in double. */
    public static double[] table(TtShape s, double[][] cores) {
        double[] t = new double[s.rows() * s.dim()];
        for (int i = 0; i < s.rows(); i++) {
            for (int j = 0; j < s.dim(); j++) {
                t[i * s.dim() + j] = entry(s, cores, i, j);
            }
        }
        return t;
    }

    /** Widens float cores to double. */
    public static double[][] toDouble(float[][] cores) {
        double[][] r = new double[cores.length][];
        for (int k = 0; k < cores.length; k++) {
            r[k] = new double[cores[k].length];
            for (int i = 0; i < cores[k].length; i++) {
                r[k][i] = cores[k][i];
            }
        }
        return r;
    }

    /** Deep copy. */
    public static float[][] copy(float[][] a) {
        float[][] r = new float[a.length][];
        for (int k = 0; k < a.length; k++) {
            r[k] = a[k] == null ? null : a[k].clone();
        }
        return r;
    }

    /** Random cores with entries N(0, std^2). */
    public static float[][] randomCores(TtShape s, long seed, double std) {
        return TtInit.normal(std).create(s, seed);
    }

    /**
     * Random bags: sizes in [0, maxBag] (bag 1 is always empty when there are >= 3 bags), and
     * repeated indices (a few lookups copy an earlier one).
     *
     * @return {indices, offsets}
     */
    public static int[][] randomBags(SplittableRandom rnd, int rows, int bags, int maxBag) {
        int[] off = new int[bags + 1];
        for (int b = 0; b < bags; b++) {
            int n = (bags >= 3 && b == 1) ? 0 : rnd.nextInt(maxBag + 1);
            off[b + 1] = off[b] + n;
        }
        int[] idx = new int[off[bags]];
        for (int j = 0; j < idx.length; j++) {
            idx[j] = (j > 0 && rnd.nextInt(4) == 0) ? idx[rnd.nextInt(j)] : rnd.nextInt(rows);
        }
        return new int[][] {idx, off};
    }

    /** Random floats in [-1, 1). */
    public static float[] randomFloats(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        return a;
    }

    /** Max |a - b|. */
    public static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    /** Max |a|. */
    public static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
