package org.ttrec.dlrm.train;

import org.ttrec.dlrm.io.FloatIO;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.SparseOptimizer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The optimiser of a model: plain SGD or Adagrad on the flat MLP parameter buffer (one kernel
 * call per step), and the matching fused sparse update for the embedding tables.
 */
public final class DenseOptimizer {
    /** The update rules. */
    public enum Kind {
        /** w -= lr g. */
        SGD,
        /** s += g^2; w -= lr g / (sqrt(s) + eps). */
        ADAGRAD
    }

    private final ComputeBackend be;
    private final Kind kind;
    private final float eps;
    private final int n;
    private final FloatBuf state;
    private SparseOptimizer lastSparse;

    /**
     * @param be   backend
     * @param kind SGD or ADAGRAD
     * @param eps  Adagrad epsilon
     * @param n    number of dense parameters
     */
    public DenseOptimizer(ComputeBackend be, Kind kind, float eps, int n) {
        this.be = be;
        this.kind = kind;
        this.eps = eps;
        this.n = n;
        this.state = kind == Kind.ADAGRAD ? be.allocFloats(n) : null;
    }

    /** @return the rule */
    public Kind kind() {
        return kind;
    }

    /**
     * @param lr learning rate of this step
     * @return the fused update for the embedding tables
     */
    public SparseOptimizer sparse(float lr) {
        // reused while the rate is unchanged: the common case allocates nothing per step
        if (lastSparse == null || lastSparse.lr() != lr) {
            lastSparse = kind == Kind.SGD ? SparseOptimizer.sgd(lr) : SparseOptimizer.adagrad(lr, eps);
        }
        return lastSparse;
    }

    /**
     * Applies one step to the dense parameters.
     *
     * @param lr     learning rate
     * @param params parameters
     * @param grads  their gradients
     */
    public void step(float lr, FloatBuf params, FloatBuf grads) {
        if (kind == Kind.SGD) {
            be.axpy(n, -lr, grads, 0, params, 0);
        } else {
            be.adagradUpdate(n, lr, eps, grads, 0, state, 0, params, 0);
        }
    }

    /** @return a host copy of the optimiser state (Adagrad's accumulators), or null when it keeps none (SGD) */
    public float[] readState() {
        return state == null ? null : state.toArray();
    }

    /**
     * Replaces the optimiser state with one read by {@link #readState()} (another replica's, or
     * an average of several).
     *
     * @param values the state, or null for an optimiser that keeps none
     * @throws IllegalArgumentException if it does not fit this optimiser
     */
    public void writeState(float[] values) {
        if ((values == null) != (state == null) || values != null && values.length != n) {
            throw new IllegalArgumentException("optimiser state of " + (values == null ? "none" : values.length + " floats")
                    + " does not fit " + kind + " over " + n + " parameters");
        }
        if (values != null) {
            state.write(values);
        }
    }

    /** Writes the optimiser state. @param out stream @throws IOException on failure */
    public void save(DataOutputStream out) throws IOException {
        out.writeUTF(kind.name());
        out.writeInt(n);
        if (state != null) {
            FloatIO.write(out, state, 0, n);
        }
    }

    /** Reads what {@link #save} wrote. @param in stream @throws IOException on mismatch or truncation */
    public void load(DataInputStream in) throws IOException {
        String k = in.readUTF();
        int len = in.readInt();
        if (!k.equals(kind.name()) || len != n) {
            throw new IOException("optimiser in checkpoint is " + k + " over " + len + " parameters, this run uses "
                    + kind + " over " + n);
        }
        if (state != null) {
            FloatIO.read(in, state, 0, n);
        }
    }
}
