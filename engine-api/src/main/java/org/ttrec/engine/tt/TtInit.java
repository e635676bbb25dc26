package org.ttrec.engine.tt;

import org.ttrec.engine.TtShape;

import java.util.SplittableRandom;

/**
 * Initialisation of TT cores (docs/tt-init.md), seeded and reproducible: the same shape, kind and
 * seed always give the same cores.
 *
 * @param kind how core entries are drawn
 * @param std  the entry standard deviation for {@link Kind#NORMAL} (ignored otherwise)
 */
public record TtInit(Kind kind, double std) {

    /** The initialisation rules. */
    public enum Kind {
        /**
         * Sampled Gaussian, variance-matched (default): iid N(0, s^2) entries with the same s in
         * every core, chosen so that a materialised entry has the variance 1/(3N) of the
         * uncompressed DLRM baseline's U(-sqrt(1/N), sqrt(1/N)).
         */
        SAMPLED_GAUSSIAN,
        /** Uniform U(-sqrt(3) s, sqrt(3) s) entries with the same variance-matched s. */
        UNIFORM,
        /** Plain N(0, std^2) entries with a given std (ignores N and the ranks). */
        NORMAL
    }

    /** Validates. */
    public TtInit {
        if (kind == null) {
            throw new IllegalArgumentException("TT init kind is null");
        }
        if (kind == Kind.NORMAL && !(std > 0 && Double.isFinite(std))) {
            throw new IllegalArgumentException("TT init 'normal' needs a finite std > 0, got " + std);
        }
    }

    /** @return the default variance-matched sampled Gaussian */
    public static TtInit sampledGaussian() {
        return new TtInit(Kind.SAMPLED_GAUSSIAN, 0);
    }

    /** @return variance-matched uniform entries */
    public static TtInit uniform() {
        return new TtInit(Kind.UNIFORM, 0);
    }

    /** @param std entry std @return plain normal entries */
    public static TtInit normal(double std) {
        return new TtInit(Kind.NORMAL, std);
    }

    /**
     * Parses "sampled-gaussian" (or "gaussian"), "uniform", or "normal:STD".
     */
    public static TtInit parse(String s) {
        if (s == null) {
            throw new IllegalArgumentException("TT init is null");
        }
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("sampled-gaussian") || t.equals("gaussian")) {
            return sampledGaussian();
        }
        if (t.equals("uniform")) {
            return uniform();
        }
        if (t.startsWith("normal:")) {
            try {
                return normal(Double.parseDouble(t.substring(7)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("TT init 'normal:STD' has a bad std: '" + s + "'");
            }
        }
        throw new IllegalArgumentException("unknown TT init '" + s + "'; use sampled-gaussian, uniform or normal:STD");
    }

    /**
     * The per-entry std s that makes a materialised entry's variance 1/(3N):
     * prod_k s^2 * prod_{k=1}^{d-1} R_k = 1/(3N), all s equal.
     */
    public static double matchedStd(TtShape shape) {
        double logTarget = -Math.log(3.0 * shape.rows());
        double logRanks = 0;
        for (int k = 1; k < shape.cores(); k++) {
            logRanks += Math.log(shape.rank(k));
        }
        return Math.exp(0.5 * (logTarget - logRanks) / shape.cores());
    }

    /**
     * Fills the cores.
     *
     * @param shape TT shape
     * @param cores d arrays of at least {@link TtShape#coreSize(int)} floats, overwritten
     * @param seed  the seed
     */
    public void fill(TtShape shape, float[][] cores, long seed) {
        if (cores == null || cores.length != shape.cores()) {
            throw new IllegalArgumentException("TT init: need " + shape.cores() + " core arrays");
        }
        SplittableRandom root = new SplittableRandom(seed);
        double s = kind == Kind.NORMAL ? std : matchedStd(shape);
        for (int k = 0; k < shape.cores(); k++) {
            int n = shape.coreSize(k);
            if (cores[k] == null || cores[k].length < n) {
                throw new IllegalArgumentException("TT init: core " + k + " needs " + n + " floats");
            }
            // one independent stream per core, so a core's values do not depend on the others' sizes
            SplittableRandom rnd = root.split();
            float[] c = cores[k];
            if (kind == Kind.UNIFORM) {
                double a = Math.sqrt(3.0) * s;
                for (int i = 0; i < n; i++) {
                    c[i] = (float) rnd.nextDouble(-a, a);
                }
            } else {
                for (int i = 0; i < n; i++) {
                    c[i] = (float) (s * rnd.nextGaussian());
                }
            }
        }
    }

    /** @return new cores for the shape, filled */
    public float[][] create(TtShape shape, long seed) {
        float[][] cores = new float[shape.cores()][];
        for (int k = 0; k < cores.length; k++) {
            cores[k] = new float[shape.coreSize(k)];
        }
        fill(shape, cores, seed);
        return cores;
    }
}
