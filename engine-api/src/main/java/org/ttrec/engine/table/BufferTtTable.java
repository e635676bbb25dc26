package org.ttrec.engine.table;

import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.TtTable;

/**
 * A {@link TtTable} built on a backend's one-shot TT calls
 * ({@link ComputeBackend#ttEmbeddingBagForward}, {@link ComputeBackend#ttEmbeddingBagBackward}):
 * cores and optimiser state in buffers of that backend, nothing kept between a forward and its
 * backward. The scalar reference uses it as it is; faster backends extend it to keep a batch's
 * sort and the forward's products (the cpu backend) or replace it.
 */
public class BufferTtTable implements TtTable {
    private final String name;
    protected final ComputeBackend be;
    private final TtShape shape;
    private final FloatBuf[] cores;
    private FloatBuf[] states;
    private SparseOptimizer.Kind stateKind;
    private boolean closed;

    /**
     * @param be    the backend that holds the cores and runs the kernels
     * @param name  the table's name in messages
     * @param shape the TT shape
     */
    public BufferTtTable(ComputeBackend be, String name, TtShape shape) {
        Checks.notNull("table name", name);
        Checks.notNull(name, ": TT shape", shape);
        this.be = be;
        this.name = name;
        this.shape = shape;
        cores = new FloatBuf[shape.cores()];
        for (int k = 0; k < cores.length; k++) {
            cores[k] = be.allocFloats(shape.coreSize(k));
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ComputeBackend backend() {
        return be;
    }

    @Override
    public TtShape shape() {
        return shape;
    }

    @Override
    public int rows() {
        return shape.rows();
    }

    @Override
    public int dim() {
        return shape.dim();
    }

    @Override
    public long parameterCount() {
        return shape.parameterCount();
    }

    @Override
    public LookupPlan newPlan() {
        open();
        return new BufferLookupPlan(this);
    }

    /** @return the live core buffers, for subclasses' kernels */
    protected final FloatBuf[] coreBuffers() {
        return cores;
    }

    /** @return the live state buffers, or null, for subclasses' kernels */
    protected final FloatBuf[] stateBuffers() {
        return states;
    }

    @Override
    public void forward(LookupPlan plan, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut) {
        open();
        BufferLookupPlan p = BufferLookupPlan.of(this, plan);
        be.ttEmbeddingBagForward(shape, cores, p.indices(), p.offsets(), p.bags(), p.weights(), pooling, accumulate,
                out, outOff, ldOut);
    }

    @Override
    public void backward(LookupPlan plan, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad,
                         SparseOptimizer opt) {
        open();
        Checks.notNull(name, ": optimizer", opt);
        BufferLookupPlan p = BufferLookupPlan.of(this, plan);
        ensureStates(opt.kind());
        be.ttEmbeddingBagBackward(shape, cores, states, p.indices(), p.offsets(), p.bags(), p.weights(), pooling,
                gradOut, gradOff, ldGrad, opt);
    }

    /** Allocates a zero state for {@code kind} unless one of that kind is held (SGD keeps none). */
    protected final void ensureStates(SparseOptimizer.Kind kind) {
        if (kind == stateKind) {
            return;
        }
        releaseStates();
        stateKind = kind;
        if (kind == SparseOptimizer.Kind.SGD) {
            return;
        }
        states = new FloatBuf[cores.length];
        for (int k = 0; k < cores.length; k++) {
            states[k] = be.allocFloats(stateSize(kind, k));
        }
    }

    private int stateSize(SparseOptimizer.Kind kind, int k) {
        return kind == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? shape.p(k) * shape.rank(k) : shape.coreSize(k);
    }

    private void releaseStates() {
        if (states != null) {
            for (FloatBuf s : states) {
                s.close();
            }
        }
        states = null;
        stateKind = null;
    }

    @Override
    public SparseOptimizer.Kind stateKind() {
        return stateKind;
    }

    @Override
    public void writeCore(int k, float[] values) {
        open();
        Checks.notNull(name, ": core values", values);
        checkCore(k);
        if (values.length != shape.coreSize(k)) {
            throw new IllegalArgumentException(name + ": core " + k + " needs " + shape.coreSize(k) + " floats, got "
                    + values.length);
        }
        cores[k].write(0, values, 0, values.length);
        coresChanged();
    }

    @Override
    public float[] readCore(int k) {
        open();
        checkCore(k);
        float[] a = new float[shape.coreSize(k)];
        cores[k].read(0, a, 0, a.length);
        return a;
    }

    @Override
    public void writeStates(SparseOptimizer.Kind kind, float[][] values) {
        open();
        if (kind != null && kind != SparseOptimizer.Kind.SGD) {
            Checks.notNull(name, ": optimizer states", values);
            if (values.length != cores.length) {
                throw new IllegalArgumentException(name + ": " + cores.length + " state arrays expected, got "
                        + values.length);
            }
            for (int k = 0; k < cores.length; k++) {
                Checks.notNull(name + ": optimizer state " + k, values[k]);
                if (values[k].length != stateSize(kind, k)) {
                    throw new IllegalArgumentException(name + ": " + kind + " state " + k + " needs "
                            + stateSize(kind, k) + " floats, got " + values[k].length);
                }
            }
        }
        releaseStates();
        if (kind != null) {
            ensureStates(kind);
            for (int k = 0; states != null && k < cores.length; k++) {
                states[k].write(0, values[k], 0, values[k].length);
            }
        }
        coresChanged();
    }

    @Override
    public float[] readState(int k) {
        open();
        checkCore(k);
        return states == null ? null : states[k].toArray();
    }

    /**
     * Called after the cores or states were written other than by the backward: subclasses drop
     * what they kept from an earlier forward. This class keeps nothing.
     */
    protected void coresChanged() {
    }

    @Override
    public float[] materialize(int[] rowIds) {
        open();
        return Materialize.rows(this, rowIds);
    }

    private void checkCore(int k) {
        if (k < 0 || k >= cores.length) {
            throw new IllegalArgumentException(name + ": core " + k + " out of range [0, " + cores.length + ")");
        }
    }

    /** @throws IllegalStateException if the table was closed */
    protected final void open() {
        if (closed) {
            throw new IllegalStateException(name + ": table used after close()");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            releaseStates();
            for (FloatBuf c : cores) {
                c.close();
            }
        }
    }
}
