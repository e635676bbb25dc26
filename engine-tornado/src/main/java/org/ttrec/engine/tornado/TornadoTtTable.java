package org.ttrec.engine.tornado;

import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.TtTable;
import org.ttrec.engine.scalar.ScalarTt;

/**
 * A TT table of the tornado backend: cores and optimiser state stay in device memory for the
 * life of the table; a batch arrives once per step through its {@link TornadoLookupPlan}. d = 3
 * shapes run the fast kernels, others the generic ones (whose shape descriptor, naming the
 * cores' places, is written once here).
 */
final class TornadoTtTable implements TtTable {
    private final String name;
    private final TornadoBackend be;
    private final TtShape shape;
    private final TornadoFloatBuf[] cores;
    private final TornadoIntBuf desc;
    private TornadoFloatBuf[] states;
    private SparseOptimizer.Kind stateKind;
    private boolean closed;

    TornadoTtTable(TornadoBackend be, String name, TtShape shape) {
        Checks.notNull("table name", name);
        Checks.notNull(name + ": TT shape", shape);
        TableOps.checkShape(name, shape);
        this.be = be;
        this.name = name;
        this.shape = shape;
        cores = new TornadoFloatBuf[shape.cores()];
        int[] offs = new int[cores.length];
        for (int k = 0; k < cores.length; k++) {
            cores[k] = (TornadoFloatBuf) be.allocFloats(shape.coreSize(k));
            offs[k] = TornadoBackend.off(cores[k].region);
        }
        if (TableOps.fast(shape)) {
            desc = null;
        } else {
            int[] d = TableOps.descriptor(shape, offs);
            desc = be.intBuf(d.length);
            desc.write(0, d, 0, d.length);
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
        return new TornadoLookupPlan(this, be, shape.p());
    }

    private Region[] coreRegions() {
        Region[] r = new Region[cores.length];
        for (int k = 0; k < r.length; k++) {
            r[k] = cores[k].region;
        }
        return r;
    }

    @Override
    public void forward(LookupPlan plan, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut) {
        open();
        TornadoLookupPlan p = TornadoLookupPlan.of(this, plan);
        Checks.notNull("pooling", pooling);
        Checks.matrix("TT-EmbeddingBag out", out, outOff, p.bags(), shape.dim(), ldOut);
        TableOps.ttForward(be, shape, coreRegions(), desc == null ? null : desc.region, p.device(), pooling, accumulate,
                be.fr(out, "out"), outOff, ldOut);
    }

    @Override
    public void backward(LookupPlan plan, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad,
                         SparseOptimizer opt) {
        open();
        Checks.notNull(name + ": optimizer", opt);
        TornadoLookupPlan p = TornadoLookupPlan.of(this, plan);
        Checks.notNull("pooling", pooling);
        Checks.matrix("TT-EmbeddingBag gradOut", gradOut, gradOff, p.bags(), shape.dim(), ldGrad);
        ensureStates(opt.kind());
        Region[] st = null;
        if (states != null) {
            st = new Region[states.length];
            for (int k = 0; k < st.length; k++) {
                st[k] = states[k].region;
            }
        }
        TableOps.ttBackward(be, shape, coreRegions(), st, desc == null ? null : desc.region, p.device(), pooling,
                be.fr(gradOut, "gradOut"), gradOff, ldGrad, opt);
    }

    private void ensureStates(SparseOptimizer.Kind kind) {
        if (kind == stateKind) {
            return;
        }
        releaseStates();
        stateKind = kind;
        if (kind == SparseOptimizer.Kind.SGD) {
            return;
        }
        states = new TornadoFloatBuf[cores.length];
        for (int k = 0; k < cores.length; k++) {
            states[k] = (TornadoFloatBuf) be.allocFloats(stateSize(kind, k));
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
        Checks.notNull(name + ": core values", values);
        checkCore(k);
        if (values.length != shape.coreSize(k)) {
            throw new IllegalArgumentException(name + ": core " + k + " needs " + shape.coreSize(k) + " floats, got "
                    + values.length);
        }
        cores[k].write(0, values, 0, values.length);
    }

    @Override
    public float[] readCore(int k) {
        open();
        checkCore(k);
        return cores[k].toArray();
    }

    @Override
    public void writeStates(SparseOptimizer.Kind kind, float[][] values) {
        open();
        if (kind != null && kind != SparseOptimizer.Kind.SGD) {
            Checks.notNull(name + ": optimizer states", values);
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
    }

    @Override
    public float[] readState(int k) {
        open();
        checkCore(k);
        return states == null ? null : states[k].toArray();
    }

    /** Rows computed on the host from the cores, as the reference computes them. */
    @Override
    public float[] materialize(int[] rowIds) {
        open();
        Checks.notNull(name + ": rowIds", rowIds);
        Checks.indices(name, rowIds, 0, rowIds.length, shape.rows());
        float[][] host = new float[cores.length][];
        for (int k = 0; k < host.length; k++) {
            host[k] = cores[k].toArray();
        }
        int dim = shape.dim();
        float[] out = new float[Math.multiplyExact(rowIds.length, dim)];
        for (int i = 0; i < rowIds.length; i++) {
            System.arraycopy(ScalarTt.row(shape, host, rowIds[i]), 0, out, i * dim, dim);
        }
        return out;
    }

    private void checkCore(int k) {
        if (k < 0 || k >= cores.length) {
            throw new IllegalArgumentException(name + ": core " + k + " out of range [0, " + cores.length + ")");
        }
    }

    private void open() {
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
            if (desc != null) {
                desc.close();
            }
        }
    }
}
