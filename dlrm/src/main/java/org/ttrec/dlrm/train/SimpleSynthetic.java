package org.ttrec.dlrm.train;

import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;

/**
 * A small built-in synthetic Criteo-shaped data set: the STAND-IN used by {@code ttrec train}
 * (and the trainer's tests) until the data pipeline's teacher-based generator is merged.
 *
 * <p>Every sample is a pure function of (seed, split, sample number), so any split can be
 * streamed from any position without state. Features: dense values log(1 + x) of
 * exponential-like counts; one lookup per table, row = floor(N u^skew) so low rows are hot
 * (as in Criteo, where few values dominate). Labels come from a hidden logistic teacher: a
 * random effect per (table, row), a random weight per dense feature and a product of the
 * effects of neighbouring tables (so pairwise interactions carry signal), scaled so the
 * logit has standard deviation about {@code teacherScale}; the label is Bernoulli(sigmoid).
 * A DLRM can learn this, and the Bayes-optimal AUC is well above 0.5.
 */
public final class SimpleSynthetic implements Dataset {
    private final int dense;
    private final int[] rows;
    private final long[] sizes;
    private final double skew;
    private final long seed;
    private final double tableStd;
    private final double pairStd;
    private final double[] denseW;
    private final double[] denseMean;
    private final double bias;

    /**
     * @param denseFeatures dense features per sample
     * @param cardinalities rows of each table
     * @param train         training samples
     * @param validation    validation samples
     * @param test          test samples
     * @param skew          index skew (1 = uniform rows)
     * @param teacherScale  standard deviation of the teacher's logit
     * @param seed          seed of the teacher and of the samples
     */
    public SimpleSynthetic(int denseFeatures, int[] cardinalities, long train, long validation, long test,
                           double skew, double teacherScale, long seed) {
        if (denseFeatures < 1 || cardinalities.length < 1) {
            throw new IllegalArgumentException("synthetic data needs >= 1 dense feature and >= 1 table");
        }
        for (int i = 0; i < cardinalities.length; i++) {
            if (cardinalities[i] < 1) {
                throw new IllegalArgumentException("synthetic data: table " + i + " has " + cardinalities[i] + " rows");
            }
        }
        this.dense = denseFeatures;
        this.rows = cardinalities.clone();
        this.sizes = new long[] {train, validation, test};
        this.skew = skew;
        this.seed = seed;
        int t = rows.length;
        // variance budget of the logit: 60% row effects, 25% dense, 15% pairwise
        this.tableStd = teacherScale * Math.sqrt(0.60 / t);
        this.pairStd = t > 1 ? teacherScale * Math.sqrt(0.15 / (t - 1)) : 0;
        this.denseW = new double[dense];
        this.denseMean = new double[dense];
        for (int k = 0; k < dense; k++) {
            // centre and scale each feature by its moments, measured on a fixed sample
            double s = 0, s2 = 0;
            int m = 4096;
            for (int i = 0; i < m; i++) {
                double v = denseValue(mix(seed, 13, k, i), k);
                s += v;
                s2 += v * v;
            }
            denseMean[k] = s / m;
            double std = Math.sqrt(Math.max(1e-12, s2 / m - denseMean[k] * denseMean[k]));
            denseW[k] = gaussian(mix(seed, 11, k, 0)) * teacherScale * Math.sqrt(0.25 / dense) / std;
        }
        // about a quarter of the labels are positive, as in Criteo
        this.bias = -0.5 * teacherScale;
    }

    @Override
    public int denseFeatures() {
        return dense;
    }

    @Override
    public int[] cardinalities() {
        return rows.clone();
    }

    @Override
    public long size(Split split) {
        return sizes[split.ordinal()];
    }

    @Override
    public String describe() {
        return String.format("built-in synthetic stand-in (logistic teacher, %d tables, %,d/%,d/%,d samples, seed %d)",
                rows.length, sizes[0], sizes[1], sizes[2], seed);
    }

    @Override
    public BatchStream batches(Split split, int batchSize, boolean shuffle, long shuffleSeed) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        long n = sizes[split.ordinal()];
        // shuffling permutes sample numbers with an affine map modulo n (a bijection when the
        // multiplier is coprime to n), so the order changes per seed without any state
        long mul = 1, add = 0;
        if (shuffle && n > 1) {
            long m = (mix(shuffleSeed, 23, 0, 0) >>> 1) % n;
            while (gcd(Math.max(m, 1), n) != 1) {
                m++;
            }
            mul = Math.max(m, 1) % n == 0 ? 1 : Math.max(m, 1);
            add = (mix(shuffleSeed, 29, 0, 0) >>> 1) % n;
        }
        final long fm = mul, fa = add;
        return new BatchStream() {
            long next = 0;

            @Override
            public Batch next() {
                if (next >= n) {
                    return null;
                }
                int b = (int) Math.min(batchSize, n - next);
                float[] d = new float[b * dense];
                float[] y = new float[b];
                int[][] idx = new int[rows.length][b];
                int[][] off = new int[rows.length][b + 1];
                for (int t = 0; t < rows.length; t++) {
                    for (int i = 0; i <= b; i++) {
                        off[t][i] = i;
                    }
                }
                for (int i = 0; i < b; i++) {
                    long sample = (mulMod(fm, next + i, n) + fa) % n;
                    generate(split, sample, d, i * dense, idx, i, y);
                }
                next += b;
                return new Batch(b, d, y, idx, off);
            }

            @Override
            public void close() {}
        };
    }

    private static long mulMod(long a, long b, long n) {
        if (n < (1L << 31)) {
            return a * b % n; // both factors < 2^31: the product fits a long
        }
        return Math.floorMod(java.math.BigInteger.valueOf(a).multiply(java.math.BigInteger.valueOf(b))
                .mod(java.math.BigInteger.valueOf(n)).longValue(), n);
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** Fills sample {@code s} of a split at position i of the batch arrays. */
    private void generate(Split split, long s, float[] d, int dOff, int[][] idx, int i, float[] y) {
        long base = mix(seed, split.ordinal() + 1, s, 0);
        double logit = bias;
        for (int k = 0; k < dense; k++) {
            float v = denseValue(mix(base, 1, k, 0), k);
            d[dOff + k] = v;
            logit += denseW[k] * (v - denseMean[k]);
        }
        double prev = 0;
        for (int t = 0; t < rows.length; t++) {
            double u = unit(mix(base, 2, t, 0));
            int r = (int) Math.min(rows[t] - 1, (long) Math.floor(rows[t] * Math.pow(u, skew)));
            idx[t][i] = r;
            double e = gaussian(mix(seed, 3, t, r));
            logit += tableStd * e;
            double a = gaussian(mix(seed, 5, t, r));
            if (t > 0) {
                logit += pairStd * prev * a;
            }
            prev = a;
        }
        double p = 1 / (1 + Math.exp(-logit));
        y[i] = unit(mix(base, 4, 0, 0)) < p ? 1f : 0f;
    }

    /** log(1 + x) of an exponential count whose mean depends on the feature (Criteo-like ranges). */
    private static float denseValue(long h, int k) {
        double mean = new double[] {2, 20, 200}[k % 3];
        double x = Math.floor(-Math.log(1 - unit(h)) * mean);
        return (float) Math.log1p(x);
    }

    static long mix(long a, long b, long c, long d) {
        long h = a * 0x9E3779B97F4A7C15L + b;
        h = splitmix(h) ^ c;
        h = splitmix(h) ^ d;
        return splitmix(h);
    }

    private static long splitmix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static double unit(long h) {
        return (h >>> 11) * 0x1.0p-53;
    }

    private static double gaussian(long h) {
        double u1 = ((h >>> 11) + 1) * 0x1.0p-53;
        double u2 = unit(splitmix(h));
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
