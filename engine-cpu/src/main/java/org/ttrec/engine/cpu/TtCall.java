package org.ttrec.engine.cpu;

import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;

/** The arguments of the forward or backward running now, read by every partition. */
final class TtCall {
    float[][] cores;
    /** Per-sample weights, indexed like the plan's indices, or null. */
    float[] weights;
    Pooling pooling;

    // ---- forward
    float[] out;
    int outOff, ldOut;
    boolean accumulate;

    // ---- backward
    float[] gradOut;
    int gradOff, ldGrad;
    /** Optimiser state per core, or null (SGD). */
    float[][] states;
    SparseOptimizer opt;

    void forward(float[][] cores, float[] weights, Pooling pooling, boolean accumulate, float[] out, int outOff,
                 int ldOut) {
        this.cores = cores;
        this.weights = weights;
        this.pooling = pooling;
        this.accumulate = accumulate;
        this.out = out;
        this.outOff = outOff;
        this.ldOut = ldOut;
    }

    void backward(float[][] cores, float[][] states, float[] weights, Pooling pooling, float[] gradOut, int gradOff,
                  int ldGrad, SparseOptimizer opt) {
        this.cores = cores;
        this.states = states;
        this.weights = weights;
        this.pooling = pooling;
        this.gradOut = gradOut;
        this.gradOff = gradOff;
        this.ldGrad = ldGrad;
        this.opt = opt;
    }

    /** Drops the references to the caller's arrays. */
    void clear() {
        cores = null;
        weights = null;
        out = null;
        gradOut = null;
        states = null;
        opt = null;
    }
}
