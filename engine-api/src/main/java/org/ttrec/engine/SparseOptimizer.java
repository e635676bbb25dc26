package org.ttrec.engine;

/**
 * The update an embedding backward kernel applies to the rows (or TT core slices) a batch
 * touched. Gradients of the whole batch are summed per row/slice first, then the update is
 * applied once per touched row/slice.
 *
 * @param kind what to do with the summed gradient
 * @param lr   learning rate (ignored by {@link Kind#ACCUMULATE})
 * @param eps  Adagrad's epsilon, added to sqrt(state)
 */
public record SparseOptimizer(Kind kind, float lr, float eps) {

    /** The update rules. */
    public enum Kind {
        /**
         * No update: the gradient is added into the state buffer, which must have the shape of
         * the weights (a dense gradient). Used by tests and by optimisers outside the kernel.
         */
        ACCUMULATE,
        /** w -= lr * g. No state. */
        SGD,
        /** s += g*g; w -= lr * g / (sqrt(s) + eps), elementwise. State has the shape of the weights. */
        ADAGRAD,
        /**
         * One state value per row (per slice row for TT cores): s += mean(g*g over the row);
         * w -= lr * g / (sqrt(s) + eps).
         */
        ROWWISE_ADAGRAD
    }

    /** Validates the fields. */
    public SparseOptimizer {
        if (kind == null) {
            throw new IllegalArgumentException("optimizer kind is null");
        }
        if (!(lr >= 0) || Float.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        }
        if (!(eps >= 0) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
        }
    }

    /** @return an optimiser that only adds gradients into a dense gradient buffer */
    public static SparseOptimizer accumulate() {
        return new SparseOptimizer(Kind.ACCUMULATE, 0f, 0f);
    }

    /** @param lr learning rate @return plain SGD */
    public static SparseOptimizer sgd(float lr) {
        return new SparseOptimizer(Kind.SGD, lr, 0f);
    }

    /** @param lr learning rate @param eps epsilon @return elementwise Adagrad */
    public static SparseOptimizer adagrad(float lr, float eps) {
        return new SparseOptimizer(Kind.ADAGRAD, lr, eps);
    }

    /** @param lr learning rate @param eps epsilon @return row-wise Adagrad */
    public static SparseOptimizer rowwiseAdagrad(float lr, float eps) {
        return new SparseOptimizer(Kind.ROWWISE_ADAGRAD, lr, eps);
    }
}
