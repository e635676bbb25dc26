package org.ttrec.engine.tornado;

import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.DenseTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;

/**
 * An uncompressed table of the tornado backend: rows and optimiser state stay in device memory;
 * a batch arrives once per step through its {@link TornadoLookupPlan}, whose row sort the
 * backward's deterministic per-row sums use.
 */
final class TornadoDenseTable implements DenseTable {
    private final String name;
    private final TornadoBackend be;
    private final int rows;
    private final int dim;
    private final TornadoFloatBuf table;
    private TornadoFloatBuf state;
    private SparseOptimizer.Kind stateKind;
    private boolean closed;

    TornadoDenseTable(TornadoBackend be, String name, int rows, int dim) {
        Checks.notNull("table name", name);
        if (rows < 1 || dim < 1) {
            throw new IllegalArgumentException(name + ": rows and dim must be >= 1, got " + rows + " x " + dim);
        }
        long n = (long) rows * dim;
        if (n > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException(name + ": " + rows + " x " + dim + " = " + n
                    + " floats do not fit one buffer (max " + (Integer.MAX_VALUE - 64) + "); use a TT table or max-ind-range");
        }
        this.be = be;
        this.name = name;
        this.rows = rows;
        this.dim = dim;
        this.table = (TornadoFloatBuf) be.allocFloats((int) n);
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
    public int rows() {
        return rows;
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public long parameterCount() {
        return (long) rows * dim;
    }

    @Override
    public LookupPlan newPlan() {
        open();
        return new TornadoLookupPlan(this, be, null);
    }

    @Override
    public void forward(LookupPlan plan, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut) {
        open();
        TornadoLookupPlan p = TornadoLookupPlan.of(this, plan);
        Checks.notNull("pooling", pooling);
        Checks.matrix("embeddingBag out", out, outOff, p.bags(), dim, ldOut);
        TableOps.denseForward(be, table.region, dim, p.device(), pooling, accumulate, be.fr(out, "out"), outOff, ldOut);
    }

    @Override
    public void backward(LookupPlan plan, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad,
                         SparseOptimizer opt) {
        open();
        Checks.notNull(name + ": optimizer", opt);
        TornadoLookupPlan p = TornadoLookupPlan.of(this, plan);
        Checks.notNull("pooling", pooling);
        Checks.matrix("embeddingBag gradOut", gradOut, gradOff, p.bags(), dim, ldGrad);
        ensureState(opt.kind());
        TableOps.denseBackward(be, table.region, dim, state == null ? null : state.region, p.device(), pooling,
                be.fr(gradOut, "gradOut"), gradOff, ldGrad, opt);
    }

    private void ensureState(SparseOptimizer.Kind kind) {
        if (kind == stateKind) {
            return;
        }
        releaseState();
        stateKind = kind;
        if (kind != SparseOptimizer.Kind.SGD) {
            state = (TornadoFloatBuf) be.allocFloats(stateSize(kind));
        }
    }

    private int stateSize(SparseOptimizer.Kind kind) {
        return kind == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? rows : rows * dim;
    }

    private void releaseState() {
        if (state != null) {
            state.close();
        }
        state = null;
        stateKind = null;
    }

    @Override
    public SparseOptimizer.Kind stateKind() {
        return stateKind;
    }

    @Override
    public void writeRows(int firstRow, float[] src, int srcOff, int rowCount) {
        open();
        checkRows(firstRow, rowCount);
        Checks.notNull(name + ": rows", src);
        Checks.region(name + ": source rows", src.length, srcOff, (long) rowCount * dim);
        table.write(firstRow * dim, src, srcOff, rowCount * dim);
    }

    @Override
    public void readRows(int firstRow, float[] dst, int dstOff, int rowCount) {
        open();
        checkRows(firstRow, rowCount);
        Checks.notNull(name + ": destination", dst);
        Checks.region(name + ": destination rows", dst.length, dstOff, (long) rowCount * dim);
        table.read(firstRow * dim, dst, dstOff, rowCount * dim);
    }

    private void checkRows(int firstRow, int rowCount) {
        if (firstRow < 0 || rowCount < 0 || (long) firstRow + rowCount > rows) {
            throw new IllegalArgumentException(name + ": rows [" + firstRow + ", " + ((long) firstRow + rowCount)
                    + ") are outside [0, " + rows + ")");
        }
    }

    @Override
    public void writeState(SparseOptimizer.Kind kind, float[] values) {
        open();
        if (kind != null && kind != SparseOptimizer.Kind.SGD) {
            Checks.notNull(name + ": optimizer state", values);
            if (values.length != stateSize(kind)) {
                throw new IllegalArgumentException(name + ": " + kind + " state needs " + stateSize(kind)
                        + " floats, got " + values.length);
            }
        }
        releaseState();
        if (kind != null) {
            ensureState(kind);
            if (state != null) {
                state.write(0, values, 0, values.length);
            }
        }
    }

    @Override
    public float[] readState() {
        open();
        return state == null ? null : state.toArray();
    }

    @Override
    public float[] materialize(int[] rowIds) {
        open();
        Checks.notNull(name + ": rowIds", rowIds);
        Checks.indices(name, rowIds, 0, rowIds.length, rows);
        float[] out = new float[Math.multiplyExact(rowIds.length, dim)];
        for (int i = 0; i < rowIds.length; i++) {
            table.read(rowIds[i] * dim, out, i * dim, dim);
        }
        return out;
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
            releaseState();
            table.close();
        }
    }
}
