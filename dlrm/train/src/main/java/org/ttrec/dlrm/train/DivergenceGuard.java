package org.ttrec.dlrm.train;

import java.util.Locale;

/**
 * Decides from the mean training loss of a log window whether training has diverged. The loss
 * of a blown-up model rarely turns NaN: the binary cross-entropy is clamped (about 16.1 per
 * sample at most), so a model whose outputs saturate keeps a finite, large loss. Three signs count:
 * <ul>
 *   <li>a non-finite mean;</li>
 *   <li>a mean at or above {@code ceiling}: a constant prediction of 0.5 scores ln 2 = 0.693, so a
 *       mean of 3 means the model is confidently wrong on a large share of the samples, which is
 *       what saturated outputs stuck at the clamp look like;</li>
 *   <li>a mean above both {@code factor} times and 1.0 above the lowest mean of an earlier full
 *       window (the running level).</li>
 * </ul>
 * Windows are averages over {@code logEvery} batches, so one noisy batch does not trip it.
 */
public final class DivergenceGuard {
    private final double factor;
    private final double ceiling;
    private double level = Double.NaN;

    /**
     * @param factor  how many times its running level a window mean may reach (0: no relative check)
     * @param ceiling the highest acceptable window mean (0: no absolute check)
     */
    public DivergenceGuard(double factor, double ceiling) {
        this.factor = factor;
        this.ceiling = ceiling;
    }

    /**
     * @param mean a window's mean training loss (a full or a partial window)
     * @return why it shows divergence, or null if it does not
     */
    public String check(double mean) {
        if (!Double.isFinite(mean)) {
            return "the mean training loss is " + mean;
        }
        if (ceiling > 0 && mean >= ceiling) {
            return String.format(Locale.ROOT, "the mean training loss %.4f is above %.2f (a constant prediction of 0.5 "
                    + "scores 0.693): the predictions are saturated, stuck at the loss clamp", mean, ceiling);
        }
        if (factor > 0 && !Double.isNaN(level) && mean > Math.max(factor * level, level + 1)) {
            return String.format(Locale.ROOT, "the mean training loss %.4f is more than %.3gx its running level %.4f",
                    mean, factor, level);
        }
        return null;
    }

    /** @param mean the mean of a full log window that passed {@link #check}: it may lower the running level */
    public void accept(double mean) {
        if (Double.isFinite(mean) && (Double.isNaN(level) || mean < level)) {
            level = mean;
        }
    }

    /** @return the running level (NaN before the first full window) */
    public double level() {
        return level;
    }

    /** @param level a running level saved with a checkpoint (NaN: none yet) */
    public void restore(double level) {
        this.level = level;
    }
}
