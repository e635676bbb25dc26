package org.ttrec.dlrm.model;

import org.ttrec.engine.Pooling;
import org.ttrec.engine.TtShape;

/**
 * What one embedding table will be, decided before anything is allocated: its kind, size and,
 * for TT tables, the shape and options. {@link TableFactory} turns a spec into a layer.
 *
 * @param index     table index (0-based, the Criteo categorical feature)
 * @param name      name used in messages and checkpoints
 * @param rows      N
 * @param dim       D
 * @param pooling   bag pooling
 * @param kind      DENSE or TT
 * @param ttShape   the TT shape (TT only, else null)
 * @param ttInit    core initialisation (TT only)
 * @param cacheRows hot-row cache rows (TT only, 0 = none)
 * @param cacheWarmupSteps steps counted before the cache is populated (TT only)
 * @param cacheRefreshSteps steps between cache refreshes, 0 = never (TT only)
 */
public record EmbeddingTableSpec(int index, String name, int rows, int dim, Pooling pooling, Kind kind,
                                 TtShape ttShape, String ttInit, int cacheRows, long cacheWarmupSteps,
                                 long cacheRefreshSteps) {

    /** Table kinds. */
    public enum Kind {
        /** Uncompressed N x D table. */
        DENSE,
        /** Tensor-Train compressed table. */
        TT
    }

    /** Checks that the fields agree. */
    public EmbeddingTableSpec {
        if (kind == Kind.TT && ttShape == null) {
            throw new IllegalArgumentException(name + ": a TT table needs a TT shape");
        }
        if (ttShape != null && (ttShape.rows() != rows || ttShape.dim() != dim)) {
            throw new IllegalArgumentException(name + ": TT shape " + ttShape + " does not match " + rows + " x " + dim);
        }
    }

    /** @return trainable parameters the layer will hold */
    public long parameterCount() {
        return kind == Kind.DENSE ? (long) rows * dim : ttShape.parameterCount() + (long) cacheRows * dim;
    }

    /** @return N * D */
    public long uncompressedParameterCount() {
        return (long) rows * dim;
    }

    /**
     * @param optimizerStateFactor floats of optimiser state per parameter (0 for SGD, 1 for Adagrad)
     * @return bytes the layer will hold, with optimiser state
     */
    public long bytes(int optimizerStateFactor) {
        return parameterCount() * 4L * (1 + optimizerStateFactor);
    }

    /** @return one line for logs */
    public String describe() {
        return kind == Kind.DENSE
                ? String.format("%s: dense %,d x %d", name, rows, dim)
                : String.format("%s: TT %,d x %d, p=%s q=%s ranks=%s, %,d params (x%.1f)%s", name, rows, dim,
                        java.util.Arrays.toString(ttShape.p()), java.util.Arrays.toString(ttShape.q()),
                        java.util.Arrays.toString(ttShape.ranks()), parameterCount(),
                        (double) uncompressedParameterCount() / parameterCount(),
                        cacheRows > 0 ? ", cache " + cacheRows + " rows" : "");
    }
}
