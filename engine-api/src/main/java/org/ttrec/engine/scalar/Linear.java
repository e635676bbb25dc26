package org.ttrec.engine.scalar;

import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;

/**
 * A linear layer's argument checks, and its backward composed from a backend's own calls (the
 * reference {@link ComputeBackend#linearBackward} names: {@code reluBackward}, {@code gemm},
 * {@code sumRows}, {@code gemm}). Public so that device backends check and compose it the same
 * way, as {@link DotInteraction} serves the interaction.
 */
public final class Linear {
    private Linear() {
    }

    /** The checks of {@link ComputeBackend#linearForward}'s arguments, by its parameter names. */
    public static void checkForward(int rows, int in, int out, FloatBuf x, int xOff, FloatBuf w, int wOff,
                                    FloatBuf bias, int biasOff, FloatBuf y, int yOff) {
        Checks.nonNegative("linear rows", rows);
        Checks.positive("linear in", in);
        Checks.positive("linear out", out);
        Checks.matrix("linear x", x, xOff, rows, in, in);
        Checks.matrix("linear W", w, wOff, out, in, in);
        Checks.region("linear bias", bias, biasOff, out);
        Checks.matrix("linear y", y, yOff, rows, out, out);
    }

    /** {@link ComputeBackend#linearBackward} on {@code be}, composed of {@code be}'s calls. */
    public static void backward(ComputeBackend be, int rows, int in, int out, FloatBuf x, int xOff, FloatBuf w, int wOff,
                                boolean relu, FloatBuf y, int yOff, FloatBuf dy, int dyOff,
                                FloatBuf dw, int dwOff, FloatBuf dbias, int dbiasOff, FloatBuf dx, int dxOff) {
        Checks.nonNegative("linear rows", rows);
        Checks.positive("linear in", in);
        Checks.positive("linear out", out);
        Checks.matrix("linear x", x, xOff, rows, in, in);
        Checks.matrix("linear W", w, wOff, out, in, in);
        if (relu) {
            Checks.matrix("linear y", y, yOff, rows, out, out);
        }
        Checks.matrix("linear dy", dy, dyOff, rows, out, out);
        Checks.matrix("linear dW", dw, dwOff, out, in, in);
        Checks.region("linear db", dbias, dbiasOff, out);
        if (dx != null) {
            Checks.matrix("linear dx", dx, dxOff, rows, in, in);
        }
        if (relu) {
            be.reluBackward(rows * out, y, yOff, dy, dyOff, dy, dyOff);
        }
        be.gemm(true, false, out, in, rows, 1f, dy, dyOff, out, x, xOff, in, 0f, dw, dwOff, in);
        be.sumRows(rows, out, dy, dyOff, out, 0f, dbias, dbiasOff);
        if (dx != null) {
            be.gemm(false, false, rows, in, out, 1f, dy, dyOff, out, w, wOff, in, 0f, dx, dxOff, in);
        }
    }
}
