package org.ttrec.dlrm.layers;

import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;

import java.util.Arrays;
import java.util.Random;

/**
 * A stack of {@link Linear} layers with ReLU after each one, except (optionally) after the
 * last: DLRM's bottom MLP has ReLU everywhere, the top MLP leaves the last layer linear and
 * the model applies the sigmoid. Activation and gradient buffers are allocated for a batch
 * capacity and reused for every smaller batch, so a training step allocates nothing.
 */
public final class Mlp implements AutoCloseable {
    private final int[] widths;
    private final Linear[] layers;
    private final boolean reluLast;
    private FloatBuf[] acts = new FloatBuf[0];
    private FloatBuf[] grads = new FloatBuf[0];
    private int capacity;
    private FloatBuf input;
    private int inputOff;
    private int rows;

    /**
     * @param widths   layer widths including the input, e.g. 13, 512, 256, 64, 16
     * @param reluLast whether the last layer is followed by a ReLU
     * @param offset   where the first layer's parameters start in the model's parameter buffer
     */
    public Mlp(int[] widths, boolean reluLast, int offset) {
        if (widths.length < 2) {
            throw new IllegalArgumentException("an MLP needs at least an input and an output width, got "
                    + Arrays.toString(widths));
        }
        this.widths = widths.clone();
        this.reluLast = reluLast;
        layers = new Linear[widths.length - 1];
        int off = offset;
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new Linear(widths[i], widths[i + 1], off);
            off += layers[i].parameterCount();
        }
    }

    /** @return the total number of parameters of all layers */
    public int parameterCount() {
        int n = 0;
        for (Linear l : layers) {
            n += l.parameterCount();
        }
        return n;
    }

    /** @return the layers, first to last */
    public Linear[] layers() {
        return layers.clone();
    }

    /** @return the input width */
    public int inWidth() {
        return widths[0];
    }

    /** @return the output width */
    public int outWidth() {
        return widths[widths.length - 1];
    }

    /** Initialises every layer as dlrm does. */
    public void init(float[] params, Random rnd) {
        for (Linear l : layers) {
            l.init(params, rnd);
        }
    }

    /**
     * Makes sure activation buffers hold {@code batch} rows (allocates only when it grows).
     *
     * @param be    backend
     * @param batch batch capacity
     */
    public void ensureCapacity(ComputeBackend be, int batch) {
        if (batch <= capacity) {
            return;
        }
        close();
        acts = new FloatBuf[layers.length];
        grads = new FloatBuf[layers.length];
        for (int i = 0; i < layers.length; i++) {
            acts[i] = be.allocFloats(Math.multiplyExact(batch, layers[i].out()));
            grads[i] = be.allocFloats(Math.multiplyExact(batch, layers[i].out()));
        }
        capacity = batch;
    }

    /**
     * Runs the layers; the input must stay unchanged until {@link #backward}.
     *
     * @param be     backend
     * @param rows   batch rows
     * @param params parameter buffer
     * @param x      rows x inWidth input (contiguous)
     * @param xOff   its offset
     * @return the output buffer (rows x outWidth at offset 0), owned by this MLP
     */
    public FloatBuf forward(ComputeBackend be, int rows, FloatBuf params, FloatBuf x, int xOff) {
        if (rows > capacity) {
            throw new IllegalStateException("MLP: batch of " + rows + " rows exceeds capacity " + capacity);
        }
        this.input = x;
        this.inputOff = xOff;
        this.rows = rows;
        FloatBuf cur = x;
        int curOff = xOff;
        for (int i = 0; i < layers.length; i++) {
            layers[i].forward(be, rows, params, cur, curOff, hasRelu(i), acts[i]);
            cur = acts[i];
            curOff = 0;
        }
        return cur;
    }

    /**
     * A hash of which ReLU outputs of the last forward pass are positive. Gradient checks use it
     * to tell whether a finite-difference step crossed a ReLU kink (where no finite difference
     * approximates the gradient). Reads the activations back, so it is for tests only.
     *
     * @return the hash
     */
    public long reluPattern() {
        long h = 1125899906842597L;
        for (int i = 0; i < layers.length; i++) {
            if (i < layers.length - 1 || reluLast) {
                float[] a = new float[rows * layers[i].out()];
                acts[i].read(0, a, 0, a.length);
                for (float v : a) {
                    h = 31 * h + (v > 0 ? 1 : 0);
                }
            }
        }
        return h;
    }

    /** @return the buffer the caller fills with the gradient of the output before {@link #backward} */
    public FloatBuf outputGradient() {
        return grads[layers.length - 1];
    }

    /**
     * Back-propagates the gradient in {@link #outputGradient()} (taken with respect to the output
     * after the last ReLU, if any), writing every layer's parameter gradients.
     *
     * @param be     backend
     * @param params parameter buffer
     * @param pgrads parameter gradient buffer
     * @param dx     rows x inWidth buffer for the input gradient, or null if not needed
     */
    public void backward(ComputeBackend be, FloatBuf params, FloatBuf pgrads, FloatBuf dx) {
        for (int i = layers.length - 1; i >= 0; i--) {
            FloatBuf x = i == 0 ? input : acts[i - 1];
            int xOff = i == 0 ? inputOff : 0;
            FloatBuf d = i == 0 ? dx : grads[i - 1];
            layers[i].backward(be, rows, params, pgrads, x, xOff, hasRelu(i), acts[i], grads[i], d);
        }
    }

    private boolean hasRelu(int layer) {
        return layer < layers.length - 1 || reluLast;
    }

    /** Releases the activation and gradient buffers (a later {@link #ensureCapacity} allocates new ones). */
    @Override
    public void close() {
        for (FloatBuf b : acts) {
            b.close();
        }
        for (FloatBuf b : grads) {
            b.close();
        }
        acts = new FloatBuf[0];
        grads = new FloatBuf[0];
        capacity = 0;
    }
}
