package org.ttrec.dlrm.layers;

import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;

/**
 * DLRM's feature interaction. The bottom MLP output and the F-1 pooled embeddings are stacked
 * as a B x F x D tensor T (the model writes them straight into {@link #stacked()}, so pooling
 * needs no extra copy).
 * <ul>
 *   <li>{@code DOT}: the pairwise dot products of T's vectors (strict lower triangle, plus the
 *       diagonal with self-interaction) after the bottom output, one backend call each way
 *       ({@link ComputeBackend#dotInteractionForward}): width D + F(F-1)/2, i.e. 16 + 351 = 367
 *       for Criteo at D = 16.</li>
 *   <li>{@code CAT}: the top MLP reads T itself, width F * D.</li>
 * </ul>
 */
public final class Interaction implements AutoCloseable {
    /** The interaction kinds. */
    public enum Kind {
        /** Pairwise dot products. */
        DOT,
        /** Concatenation. */
        CAT
    }

    private final Kind kind;
    private final int vectors;
    private final int dim;
    private final boolean self;
    private final int outWidth;
    private FloatBuf t;
    private FloatBuf dt;
    private FloatBuf r;
    private FloatBuf dr;
    private int capacity;

    /**
     * @param kind            DOT or CAT
     * @param vectors         F = 1 + number of tables
     * @param dim             D
     * @param selfInteraction DOT only: also take the diagonal of T T^T
     */
    public Interaction(Kind kind, int vectors, int dim, boolean selfInteraction) {
        this.kind = kind;
        this.vectors = vectors;
        this.dim = dim;
        this.self = selfInteraction;
        this.outWidth = kind == Kind.DOT ? ComputeBackend.dotInteractionWidth(vectors, dim, selfInteraction)
                : vectors * dim;
    }

    /** @return the width of the top MLP's input */
    public int outputWidth() {
        return outWidth;
    }

    /** @return the kind */
    public Kind kind() {
        return kind;
    }

    /**
     * Allocates the buffers for {@code batch} rows (only when the capacity grows).
     *
     * @param be    backend
     * @param batch batch capacity
     */
    public void ensureCapacity(ComputeBackend be, int batch) {
        if (batch <= capacity) {
            return;
        }
        close();
        int fd = Math.multiplyExact(vectors, dim);
        t = be.allocFloats(Math.multiplyExact(batch, fd));
        dt = be.allocFloats(Math.multiplyExact(batch, fd));
        if (kind == Kind.DOT) {
            r = be.allocFloats(Math.multiplyExact(batch, outWidth));
            dr = be.allocFloats(Math.multiplyExact(batch, outWidth));
        } else {
            r = t;
            dr = dt;
        }
        capacity = batch;
    }

    /** @return T, B x F x D: vector 0 is the bottom output, vector 1 + t is table t's pooled row */
    public FloatBuf stacked() {
        return t;
    }

    /** @return dT after {@link #backward}, laid out as {@link #stacked()} */
    public FloatBuf stackedGradient() {
        return dt;
    }

    /** @return the buffer the caller fills with the gradient of the output before {@link #backward} */
    public FloatBuf outputGradient() {
        return dr;
    }

    /**
     * Computes the interaction of the stacked vectors; the bottom output is copied into T here.
     *
     * @param be     backend
     * @param rows   batch rows
     * @param bottom rows x D bottom MLP output (contiguous)
     * @return rows x outputWidth buffer (contiguous), owned by this object
     */
    public FloatBuf forward(ComputeBackend be, int rows, FloatBuf bottom) {
        if (kind == Kind.CAT) {
            be.copy2d(rows, dim, bottom, 0, dim, t, 0, vectors * dim);
            return t;
        }
        be.dotInteractionForward(rows, vectors, dim, self, bottom, 0, t, 0, r, 0);
        return r;
    }

    /**
     * Backward from {@link #outputGradient()}: fills {@link #stackedGradient()} (vectors 1..F-1
     * are the tables' output gradients) and writes the bottom output's gradient.
     *
     * @param be      backend
     * @param rows    batch rows
     * @param dBottom rows x D output: gradient of the bottom MLP output
     */
    public void backward(ComputeBackend be, int rows, FloatBuf dBottom) {
        if (kind == Kind.CAT) {
            be.copy2d(rows, dim, dt, 0, vectors * dim, dBottom, 0, dim);
            return;
        }
        be.dotInteractionBackward(rows, vectors, dim, self, t, 0, dr, 0, dt, 0, dBottom, 0);
    }

    /** Releases the buffers (a later {@link #ensureCapacity} allocates new ones). */
    @Override
    public void close() {
        for (FloatBuf b : new FloatBuf[] {t, dt, r == t ? null : r, dr == dt ? null : dr}) {
            if (b != null) {
                b.close();
            }
        }
        t = dt = r = dr = null;
        capacity = 0;
    }
}
