package org.ttrec.dlrm.layers;

import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;

/**
 * DLRM's feature interaction. The bottom MLP output and the F-1 pooled embeddings are stacked
 * as a B x F x D tensor T (the model writes them straight into {@link #stacked()}, so pooling
 * needs no extra copy).
 * <ul>
 *   <li>{@code DOT}: Z = T T^T per sample (one strided batched GEMM), the strict lower triangle
 *       of Z (plus the diagonal with self-interaction) is gathered after the bottom output:
 *       width D + F(F-1)/2, i.e. 16 + 351 = 367 for Criteo at D = 16.</li>
 *   <li>{@code CAT}: the top MLP reads T itself, width F * D.</li>
 * </ul>
 * Backward of DOT: the gathered gradient G is scattered into a zeroed dZ at (i, j) and again at
 * (j, i), which gives G + G^T, so dT = (G + G^T) T is one batched GEMM (Z = T T^T is symmetric
 * in T; a diagonal entry receives 2 G_ii, the derivative of |T_i|^2).
 */
public final class Interaction {
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
    private final int pairs;
    private final int outWidth;
    private final IntBuf pairCols;
    private final IntBuf mirroredCols;
    private final IntBuf firstCols;
    private FloatBuf t;
    private FloatBuf dt;
    private FloatBuf z;
    private FloatBuf dz;
    private FloatBuf r;
    private FloatBuf dr;
    private int capacity;

    /**
     * @param be              backend
     * @param kind            DOT or CAT
     * @param vectors         F = 1 + number of tables
     * @param dim             D
     * @param selfInteraction DOT only: also take the diagonal of Z
     */
    public Interaction(ComputeBackend be, Kind kind, int vectors, int dim, boolean selfInteraction) {
        this.kind = kind;
        this.vectors = vectors;
        this.dim = dim;
        if (kind == Kind.DOT) {
            pairs = selfInteraction ? vectors * (vectors + 1) / 2 : vectors * (vectors - 1) / 2;
            int[] cols = new int[pairs];
            int[] mirrored = new int[pairs];
            int n = 0;
            for (int i = 0; i < vectors; i++) {
                for (int j = 0; j < (selfInteraction ? i + 1 : i); j++) {
                    cols[n] = i * vectors + j;
                    mirrored[n++] = j * vectors + i;
                }
            }
            pairCols = be.wrap(cols);
            mirroredCols = be.wrap(mirrored);
            outWidth = dim + pairs;
        } else {
            pairs = 0;
            pairCols = null;
            mirroredCols = null;
            outWidth = vectors * dim;
        }
        int[] first = new int[dim];
        for (int c = 0; c < dim; c++) {
            first[c] = c;
        }
        firstCols = be.wrap(first);
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
        int fd = Math.multiplyExact(vectors, dim);
        t = be.allocFloats(Math.multiplyExact(batch, fd));
        dt = be.allocFloats(Math.multiplyExact(batch, fd));
        if (kind == Kind.DOT) {
            int ff = vectors * vectors;
            z = be.allocFloats(Math.multiplyExact(batch, ff));
            dz = be.allocFloats(Math.multiplyExact(batch, ff));
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
        int fd = vectors * dim;
        be.copy2d(rows, dim, bottom, 0, dim, t, 0, fd);
        if (kind == Kind.CAT) {
            return t;
        }
        int ff = vectors * vectors;
        be.gemmStridedBatched(false, true, vectors, vectors, dim, 1f, t, 0, dim, fd, t, 0, dim, fd,
                0f, z, 0, vectors, ff, rows);
        be.copy2d(rows, dim, bottom, 0, dim, r, 0, outWidth);
        be.gatherColumns(rows, pairs, pairCols, z, 0, ff, r, dim, outWidth);
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
        int fd = vectors * dim;
        if (kind == Kind.CAT) {
            be.copy2d(rows, dim, dt, 0, fd, dBottom, 0, dim);
            return;
        }
        int ff = vectors * vectors;
        be.fill(rows * ff, 0f, dz, 0);
        be.scatterAddColumns(rows, pairs, pairCols, dr, dim, outWidth, dz, 0, ff);
        be.scatterAddColumns(rows, pairs, mirroredCols, dr, dim, outWidth, dz, 0, ff);
        be.gemmStridedBatched(false, false, vectors, dim, vectors, 1f, dz, 0, vectors, ff, t, 0, dim, fd,
                0f, dt, 0, dim, fd, rows);
        // dBottom = dR[:, :D] (the pass-through) + dT[:, 0, :] (its share of the dot products)
        be.copy2d(rows, dim, dr, 0, outWidth, dBottom, 0, dim);
        be.scatterAddColumns(rows, dim, firstCols, dt, 0, fd, dBottom, 0, dim);
    }
}
