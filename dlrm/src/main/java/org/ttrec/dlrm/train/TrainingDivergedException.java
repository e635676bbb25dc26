package org.ttrec.dlrm.train;

/** Thrown when the training loss becomes NaN or infinite; the model is left as it was before that step. */
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
