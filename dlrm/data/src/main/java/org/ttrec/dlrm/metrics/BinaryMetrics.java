package org.ttrec.dlrm.metrics;

import java.util.Arrays;

/**
 * Streaming binary-classification metrics over any number of predictions: accuracy (threshold
 * 0.5, as dlrm's round()), log loss and exact ROC AUC with ties.
 *
 * <p>AUC keeps every score: positives and negatives go into two growable int arrays as
 * order-preserving integer keys of the float scores (4 bytes per sample, so 100 million
 * samples take 400 MB), sorted once at the end. AUC is then the probability that a random
 * positive outranks a random negative, ties counting one half (the Mann-Whitney statistic,
 * which equals the trapezoidal area under the ROC curve with tied scores as one step).
 */
public final class BinaryMetrics implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    /** Probabilities are clamped to [EPS, 1 - EPS] for the log loss, as the training loss is. */
    public static final double EPS = 1e-7;

    private int[] pos = new int[1024];
    private int[] neg = new int[1024];
    private int np;
    private int nn;
    private long correct;
    private double logLoss;

    /**
     * The final values.
     *
     * @param auc      ROC AUC (NaN if one class is absent)
     * @param accuracy fraction classified right at threshold 0.5
     * @param logLoss  mean log loss
     * @param count    samples
     */
    public record Result(double auc, double accuracy, double logLoss, long count) {
        @Override
        public String toString() {
            return String.format("AUC %.4f, accuracy %.4f, log loss %.4f (%,d samples)", auc, accuracy, logLoss, count);
        }
    }

    /**
     * Adds predictions.
     *
     * @param p      probabilities
     * @param labels labels (0 or 1; > 0.5 counts as positive)
     * @param n      how many of the arrays to use
     */
    public void add(float[] p, float[] labels, int n) {
        for (int i = 0; i < n; i++) {
            float s = p[i];
            if (Float.isNaN(s)) {
                throw new IllegalArgumentException("prediction " + i + " is NaN");
            }
            boolean y = labels[i] > 0.5f;
            if ((s > 0.5f) == y) {
                correct++;
            }
            double c = Math.min(Math.max(s, EPS), 1 - EPS);
            logLoss -= y ? Math.log(c) : Math.log(1 - c);
            int key = key(s);
            if (y) {
                if (np == pos.length) {
                    pos = Arrays.copyOf(pos, grow(np));
                }
                pos[np++] = key;
            } else {
                if (nn == neg.length) {
                    neg = Arrays.copyOf(neg, grow(nn));
                }
                neg[nn++] = key;
            }
        }
    }

    private static int grow(int n) {
        if (n >= Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("more than " + n + " samples of one class: AUC needs a sampled evaluation");
        }
        return (int) Math.min(Integer.MAX_VALUE - 16L, Math.max(1024L, n * 2L)); // 0 after a trimmed copy
    }

    /** An int whose signed order is the float order (-0 and +0 map to the same key). */
    static int key(float s) {
        int bits = Float.floatToIntBits(s == 0f ? 0f : s);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    /**
     * Adds everything another instance holds, as if its predictions had been added here after
     * this one's: AUC and accuracy come out exactly as over all predictions in one instance (they
     * count), the log loss up to the order of its sum. Distributed evaluation merges its parts'
     * metrics so.
     *
     * @param other the other part's metrics (unchanged)
     */
    public void merge(BinaryMetrics other) {
        if (np + (long) other.np > Integer.MAX_VALUE - 16 || nn + (long) other.nn > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("more than 2^31 samples of one class: AUC needs a sampled evaluation");
        }
        if (pos.length < np + other.np) {
            pos = Arrays.copyOf(pos, np + other.np);
        }
        System.arraycopy(other.pos, 0, pos, np, other.np);
        np += other.np;
        if (neg.length < nn + other.nn) {
            neg = Arrays.copyOf(neg, nn + other.nn);
        }
        System.arraycopy(other.neg, 0, neg, nn, other.nn);
        nn += other.nn;
        correct += other.correct;
        logLoss += other.logLoss;
    }

    /** Only the stored scores cross the wire, not the arrays' spare room. */
    private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
        pos = Arrays.copyOf(pos, np);
        neg = Arrays.copyOf(neg, nn);
        out.defaultWriteObject();
    }

    /** @return the number of samples added */
    public long count() {
        return (long) np + nn;
    }

    /** @return the metrics of everything added so far (sorts the stored scores) */
    public Result result() {
        long n = count();
        if (n == 0) {
            return new Result(Double.NaN, Double.NaN, Double.NaN, 0);
        }
        return new Result(auc(), (double) correct / n, logLoss / n, n);
    }

    private double auc() {
        if (np == 0 || nn == 0) {
            return Double.NaN;
        }
        Arrays.sort(pos, 0, np);
        Arrays.sort(neg, 0, nn);
        // For each positive: negatives strictly below it count 1, equal ones 1/2.
        double sum = 0;
        int below = 0;
        int i = 0;
        while (i < np) {
            int key = pos[i];
            int j = i;
            while (j < np && pos[j] == key) {
                j++;
            }
            while (below < nn && neg[below] < key) {
                below++;
            }
            int equal = below;
            while (equal < nn && neg[equal] == key) {
                equal++;
            }
            sum += (double) (j - i) * (below + 0.5 * (equal - below));
            i = j;
        }
        return sum / ((double) np * nn);
    }
}
