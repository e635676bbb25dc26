package org.ttrec.dlrm.train;

/**
 * Thrown when a training step's loss was NaN or infinite. Training stops at the next check after
 * that step; no evaluation or checkpoint of the spoiled model is made, so the last checkpoint
 * written is the last good one.
 */
public final class TrainingDivergedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    private final long step;

    /**
     * @param step    the 1-based step whose loss was not finite
     * @param message the full message
     */
    public TrainingDivergedException(long step, String message) {
        super(message);
        this.step = step;
    }

    /** @return the step whose loss was not finite */
    public long step() {
        return step;
    }
}
