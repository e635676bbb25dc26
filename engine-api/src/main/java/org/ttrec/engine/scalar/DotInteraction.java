package org.ttrec.engine.scalar;

import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;

/**
 * DLRM's dot interaction composed from a backend's own calls (the reference the interface
 * names): Z = T T^T per sample by one strided batched GEMM, then a column gather of its lower
 * triangle; the backward scatters dR into a zeroed dZ at (i, j) and again at (j, i), which gives
 * G + G^T, so dT = (G + G^T) T is one batched GEMM (a diagonal entry receives 2 G_ii, the
 * derivative of |T_i|^2). The pair column lists and the B x F x F scratch are kept and grown,
 * so steady calls allocate nothing; calls are serialised (one scratch). Public so that device
 * backends compose the interaction from their own kernels the same way.
 */
public final class DotInteraction {
    private final ComputeBackend be;
    private int vectors = -1;
    private boolean self;
    private int pairs;
    private IntBuf pairCols;
    private IntBuf mirroredCols;
    private IntBuf firstCols;
    private int firstDim = -1;
    private FloatBuf z;

    /** @param be the backend whose calls compose the interaction (and that holds its scratch) */
    public DotInteraction(ComputeBackend be) {
        this.be = be;
    }

    /** {@link ComputeBackend#dotInteractionForward}, composed of {@code be}'s calls. */
    public synchronized void forward(int rows, int f, int dim, boolean selfInteraction, FloatBuf bottom, int bottomOff,
                              FloatBuf t, int tOff, FloatBuf r, int rOff) {
        int width = checkForward(rows, f, dim, selfInteraction, bottom, bottomOff, t, tOff, r, rOff);
        int fd = f * dim, ff = f * f;
        prepare(rows, f, dim, selfInteraction);
        be.copy2d(rows, dim, bottom, bottomOff, dim, t, tOff, fd);
        be.gemmStridedBatched(false, true, f, f, dim, 1f, t, tOff, dim, fd, t, tOff, dim, fd,
                0f, z, 0, f, ff, rows);
        be.copy2d(rows, dim, bottom, bottomOff, dim, r, rOff, width);
        be.gatherColumns(rows, pairs, pairCols, z, 0, ff, r, rOff + dim, width);
    }

    /** {@link ComputeBackend#dotInteractionBackward}, composed of {@code be}'s calls. */
    public synchronized void backward(int rows, int f, int dim, boolean selfInteraction, FloatBuf t, int tOff,
                               FloatBuf dr, int drOff, FloatBuf dt, int dtOff, FloatBuf dBottom, int dBottomOff) {
        int width = checkBackward(rows, f, dim, selfInteraction, t, tOff, dr, drOff, dt, dtOff, dBottom, dBottomOff);
        int fd = f * dim, ff = f * f;
        prepare(rows, f, dim, selfInteraction);
        FloatBuf dz = z;
        be.fill(rows * ff, 0f, dz, 0);
        be.scatterAddColumns(rows, pairs, pairCols, dr, drOff + dim, width, dz, 0, ff);
        be.scatterAddColumns(rows, pairs, mirroredCols, dr, drOff + dim, width, dz, 0, ff);
        be.gemmStridedBatched(false, false, f, dim, f, 1f, dz, 0, f, ff, t, tOff, dim, fd,
                0f, dt, dtOff, dim, fd, rows);
        // dBottom = dR[:, :D] (the pass-through) + dT[:, 0, :] (its share of the dot products)
        be.copy2d(rows, dim, dr, drOff, width, dBottom, dBottomOff, dim);
        be.scatterAddColumns(rows, dim, firstCols, dt, dtOff, fd, dBottom, dBottomOff, dim);
    }

    /**
     * The checks of {@link ComputeBackend#dotInteractionForward}'s arguments, for backends with a
     * kernel of their own.
     *
     * @return the width of an output row
     */
    public static int checkForward(int rows, int f, int dim, boolean self, FloatBuf bottom, int bottomOff,
                                   FloatBuf t, int tOff, FloatBuf r, int rOff) {
        return check(rows, f, dim, self, "bottom", bottom, bottomOff, t, tOff, "r", r, rOff);
    }

    /**
     * The checks of {@link ComputeBackend#dotInteractionBackward}'s arguments, for backends with a
     * kernel of their own.
     *
     * @return the width of an output row
     */
    public static int checkBackward(int rows, int f, int dim, boolean self, FloatBuf t, int tOff,
                                    FloatBuf dr, int drOff, FloatBuf dt, int dtOff, FloatBuf dBottom, int dBottomOff) {
        int width = check(rows, f, dim, self, "dBottom", dBottom, dBottomOff, t, tOff, "dR", dr, drOff);
        Checks.matrix("dotInteraction dT", dt, dtOff, rows, f * dim, f * dim);
        return width;
    }

    private static int check(int rows, int f, int dim, boolean self, String vecName, FloatBuf vec, int vecOff,
                             FloatBuf t, int tOff, String outName, FloatBuf out, int outOff) {
        Checks.nonNegative("dotInteraction rows", rows);
        Checks.positive("dotInteraction vectors", f);
        Checks.positive("dotInteraction dim", dim);
        int width = ComputeBackend.dotInteractionWidth(f, dim, self);
        Checks.matrix("dotInteraction ", vecName, vec, vecOff, rows, dim, dim);
        Checks.matrix("dotInteraction T", t, tOff, rows, f * dim, f * dim);
        Checks.matrix("dotInteraction ", outName, out, outOff, rows, width, width);
        return width;
    }

    /** Column lists for (f, self) and a Z scratch of at least rows x f x f. */
    private void prepare(int rows, int f, int dim, boolean selfInteraction) {
        if (f != vectors || selfInteraction != self) {
            int n = selfInteraction ? f * (f + 1) / 2 : f * (f - 1) / 2;
            int[] cols = new int[n], mirrored = new int[n];
            int k = 0;
            for (int i = 0; i < f; i++) {
                for (int j = 0; j < (selfInteraction ? i + 1 : i); j++) {
                    cols[k] = i * f + j;
                    mirrored[k++] = j * f + i;
                }
            }
            close(pairCols);
            close(mirroredCols);
            pairCols = be.upload(cols);
            mirroredCols = be.upload(mirrored);
            pairs = n;
            vectors = f;
            self = selfInteraction;
        }
        if (dim != firstDim) {
            int[] first = new int[dim];
            for (int c = 0; c < dim; c++) {
                first[c] = c;
            }
            close(firstCols);
            firstCols = be.upload(first);
            firstDim = dim;
        }
        long need = (long) rows * f * f;
        if (z == null || z.length() < need) {
            close(z);
            z = be.allocFloats(Math.toIntExact(Math.max(need, z == null ? 0 : z.length() + (long) (z.length() >> 1))));
        }
    }

    private static void close(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
