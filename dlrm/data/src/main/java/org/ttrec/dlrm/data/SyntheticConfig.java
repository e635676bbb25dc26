package org.ttrec.dlrm.data;

/**
 * Settings of the synthetic Criteo-shaped generator ({@link SyntheticCriteo}).
 *
 * @param rows          total rows (split 6/7 train, then test and validation halves, as dlrm splits Kaggle)
 * @param cardinalities rows of each categorical table (26 for Criteo-shaped data), each >= 2
 * @param zipfExponent  skew of categorical values: P(rank k) ~ 1/(k+1)^s, s >= 0 (0 = uniform)
 * @param seed          seed of everything (values, teacher, labels)
 * @param targetAuc     AUC the hidden teacher is calibrated to, in (0.55, 0.97)
 * @param baseCtr       mean click rate the teacher is calibrated to, in (0.01, 0.99)
 * @param interactions  pairwise categorical interaction terms in the teacher, >= 0
 */
public record SyntheticConfig(long rows, int[] cardinalities, double zipfExponent, long seed, double targetAuc,
                              double baseCtr, int interactions) {
    /** Criteo Kaggle's 26 table sizes (docs/dlrm.md, Kaggle cardinalities). */
    public static final int[] KAGGLE_CARDINALITIES = {1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145,
        5683, 8351593, 3194, 27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572};

    /** Validates. */
    public SyntheticConfig {
        if (rows < 7) {
            throw new IllegalArgumentException("synthetic data needs at least 7 rows (one per 'day'), got " + rows);
        }
        if (cardinalities == null || cardinalities.length == 0) {
            throw new IllegalArgumentException("synthetic data needs at least one table");
        }
        cardinalities = cardinalities.clone();
        for (int t = 0; t < cardinalities.length; t++) {
            if (cardinalities[t] < 2) {
                throw new IllegalArgumentException("table " + t + " cardinality must be >= 2, got " + cardinalities[t]);
            }
        }
        if (!(zipfExponent >= 0 && zipfExponent <= 10)) {
            throw new IllegalArgumentException("zipf exponent must be in [0, 10], got " + zipfExponent);
        }
        if (!(targetAuc > 0.55 && targetAuc < 0.97)) {
            throw new IllegalArgumentException("target teacher AUC must be in (0.55, 0.97), got " + targetAuc);
        }
        if (!(baseCtr > 0.01 && baseCtr < 0.99)) {
            throw new IllegalArgumentException("base CTR must be in (0.01, 0.99), got " + baseCtr);
        }
        if (interactions < 0 || (interactions > 0 && cardinalities.length < 2)) {
            throw new IllegalArgumentException("interactions must be >= 0 and need >= 2 tables, got " + interactions);
        }
    }

    /**
     * Kaggle-shaped data: Kaggle's cardinalities divided by {@code scaleDown} (at least 2 each),
     * Zipf exponent 1.05, teacher AUC 0.80, CTR 0.25, 4 interactions.
     *
     * @param rows      total rows
     * @param scaleDown divide the table sizes by this (>= 1)
     * @param seed      seed
     * @return the config
     */
    public static SyntheticConfig kaggleScaled(long rows, double scaleDown, long seed) {
        if (!(scaleDown >= 1)) {
            throw new IllegalArgumentException("scale-down factor must be >= 1, got " + scaleDown);
        }
        int[] c = new int[KAGGLE_CARDINALITIES.length];
        for (int t = 0; t < c.length; t++) {
            c[t] = (int) Math.max(2, Math.round(KAGGLE_CARDINALITIES[t] / scaleDown));
        }
        return new SyntheticConfig(rows, c, 1.05, seed, 0.80, 0.25, 4);
    }

    /** @return a copy with another Zipf exponent */
    public SyntheticConfig withZipf(double s) {
        return new SyntheticConfig(rows, cardinalities, s, seed, targetAuc, baseCtr, interactions);
    }

    /** @return a copy with another teacher target AUC and CTR */
    public SyntheticConfig withTeacher(double auc, double ctr) {
        return new SyntheticConfig(rows, cardinalities, zipfExponent, seed, auc, ctr, interactions);
    }

    @Override
    public int[] cardinalities() {
        return cardinalities.clone();
    }
}
