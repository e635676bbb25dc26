package org.ttrec.dlrm.layers;

import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;

import java.util.Random;

/**
 * A fully connected layer y = x W^T + b whose weights live in a model-wide flat parameter
 * buffer (so one axpy or one Adagrad call updates every dense parameter, and checkpoints
 * write one block). W is out x in row-major (PyTorch's layout), b has out entries; their
 * gradients sit at the same offsets of the gradient buffer.
 */
public final class Linear {
    private final int in;
    private final int out;
    private final int wOff;
    private final int bOff;

    /**
     * @param in     input width
     * @param out    output width
     * @param offset where this layer's W starts in the parameter buffer (b follows W)
     */
    public Linear(int in, int out, int offset) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("Linear layer needs positive widths, got " + in + " -> " + out);
        }
        this.in = in;
        this.out = out;
        this.wOff = offset;
        this.bOff = offset + in * out;
    }

    /** @return parameters of this layer: in * out + out */
    public int parameterCount() {
        return in * out + out;
    }

    /** @return input width */
    public int in() {
        return in;
    }

    /** @return output width */
    public int out() {
        return out;
    }

    /** @return offset of W in the parameter buffer */
    public int weightOffset() {
        return wOff;
    }

    /** @return offset of b in the parameter buffer */
    public int biasOffset() {
        return bOff;
    }

    /**
     * dlrm's initialisation: W ~ N(0, sqrt(2 / (in + out))), b ~ N(0, sqrt(1 / out)).
     *
     * @param params host copy of the parameter buffer
     * @param rnd    random source
     */
    public void init(float[] params, Random rnd) {
        double sw = Math.sqrt(2.0 / (in + out));
        for (int i = 0; i < in * out; i++) {
            params[wOff + i] = (float) (rnd.nextGaussian() * sw);
        }
        double sb = Math.sqrt(1.0 / out);
        for (int i = 0; i < out; i++) {
            params[bOff + i] = (float) (rnd.nextGaussian() * sb);
        }
    }

    /**
     * y = x W^T + b for a batch, then a ReLU when asked ({@link ComputeBackend#linearForward}).
     *
     * @param be     backend
     * @param rows   batch rows B
     * @param params parameter buffer
     * @param x      B x in input (leading dimension in)
     * @param xOff   offset of x
     * @param relu   whether a ReLU follows
     * @param y      B x out output (leading dimension out)
     */
    public void forward(ComputeBackend be, int rows, FloatBuf params, FloatBuf x, int xOff, boolean relu, FloatBuf y) {
        be.linearForward(rows, in, out, x, xOff, params, wOff, params, bOff, relu, y, 0);
    }

    /**
     * Gradients of W and b (overwritten, not accumulated) and optionally of x
     * ({@link ComputeBackend#linearBackward}).
     *
     * @param be     backend
     * @param rows   batch rows B
     * @param params parameter buffer
     * @param grads  gradient buffer (same layout as params)
     * @param x      the forward input
     * @param xOff   its offset
     * @param relu   whether the forward applied a ReLU
     * @param y      the forward output (read when relu)
     * @param dy     B x out gradient of the output; with relu it is masked in place
     * @param dx     B x in gradient of the input to write, or null to skip it
     */
    public void backward(ComputeBackend be, int rows, FloatBuf params, FloatBuf grads, FloatBuf x, int xOff,
                         boolean relu, FloatBuf y, FloatBuf dy, FloatBuf dx) {
        be.linearBackward(rows, in, out, x, xOff, params, wOff, relu, y, 0, dy, 0, grads, wOff, grads, bOff, dx, 0);
    }
}
