package org.ttrec.dlrm.train;

/**
 * dlrm's learning-rate policy: linear warm-up over the first W steps, then, from the decay
 * start, a polynomial decay of power 2 over D steps (never below 1e-7 of an absolute rate),
 * then frozen at the last decayed value. Step k is 1-based: the k-th optimiser step uses
 * {@code lr(k)}, as dlrm's scheduler (built on PyTorch's step counter) does.
 *
 * <p>One deliberate difference: between the end of warm-up and the start of decay dlrm keeps
 * its last warm-up value, (W-1)/W of the base rate; this uses the base rate there.
 *
 * @param base        base learning rate
 * @param warmup      W, warm-up steps
 * @param decayStart  first decay step
 * @param decaySteps  D, decay steps (0 = no decay)
 */
public record LrSchedule(double base, long warmup, long decayStart, long decaySteps) {
    private static final double MIN_LR = 1e-7;

    /**
     * @param k 1-based optimiser step
     * @return its learning rate
     */
    public double lr(long k) {
        if (k < warmup) {
            return base * (1.0 - (double) (warmup - k) / warmup);
        }
        if (decaySteps > 0 && k >= decayStart) {
            long done = Math.min(k - decayStart, decaySteps - 1);
            double f = (double) (decaySteps - done) / decaySteps;
            return Math.max(MIN_LR, base * f * f);
        }
        return base;
    }
}
