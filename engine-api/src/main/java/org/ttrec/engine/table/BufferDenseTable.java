package org.ttrec.engine.table;

import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.DenseTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;

/**
 * A {@link DenseTable} built on a backend's EmbeddingBag calls
 * ({@link ComputeBackend#embeddingBagForward}, {@link ComputeBackend#embeddingBagBackward}):
 * rows and optimiser state in buffers of that backend. Device backends extend it and replace
 * the plan and the two kernels.
 */
public class BufferDenseTable implements DenseTable {
    private final String name;
    private final ComputeBackend be;
    private final int rows;
    private final int dim;
    private final FloatBuf table;
    private FloatBuf state;
    private SparseOptimizer.Kind stateKind;
    private boolean closed;

    /**
     * @param be   the backend that holds the rows and runs the kernels
     * @param name the table's name in messages
     * @param rows N (>= 1)
     * @param dim  D (>= 1)
     * @throws IllegalArgumentException if N x D does not fit one buffer
     */
    public BufferDenseTable(ComputeBackend be, String name, int rows, int dim) {
        this(be, name, rows, dim, Integer.MAX_VALUE - 16);
    }

    /**
     * For backends whose buffers hold fewer floats than a Java array.
     *
     * @param maxFloats the most floats one buffer of {@code be} holds
     */
    protected BufferDenseTable(ComputeBackend be, String name, int rows, int dim, int maxFloats) {
        Checks.notNull("table name", name);
        if (rows < 1 || dim < 1) {
            throw new IllegalArgumentException(name + ": rows and dim must be >= 1, got " + rows + " x " + dim);
        }
        long n = (long) rows * dim;
        if (n > maxFloats) {
            throw new IllegalArgumentException(name + ": " + rows + " x " + dim + " = " + n
                    + " floats do not fit one buffer (max " + maxFloats + "); use a TT table or max-ind-range");
        }
        this.be = be;
        this.name = name;
        this.rows = rows;
        this.dim = dim;
        this.table = be.allocFloats((int) n);
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
        return new BufferLookupPlan(this);
    }

    @Override
    public void forward(LookupPlan plan, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut) {
        open();
        BufferLookupPlan p = BufferLookupPlan.of(this, plan);
        be.embeddingBagForward(rows, dim, table, p.indices(), p.offsets(), p.bags(), p.weights(), pooling, accumulate,
                out, outOff, ldOut);
    }

    @Override
    public void backward(LookupPlan plan, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad,
                         SparseOptimizer opt) {
        open();
        Checks.notNull(name, ": optimizer", opt);
        BufferLookupPlan p = BufferLookupPlan.of(this, plan);
        ensureState(opt.kind());
        be.embeddingBagBackward(rows, dim, table, state, p.indices(), p.offsets(), p.bags(), p.weights(), pooling,
                gradOut, gradOff, ldGrad, opt);
    }

    /** @return the rows' buffer, for subclasses' kernels */
    protected final FloatBuf table() {
        return table;
    }

    /** @return the optimiser state's buffer, or null (none yet, or SGD), for subclasses' kernels */
    protected final FloatBuf state() {
        return state;
    }

    /** Allocates a zero state for {@code kind} unless one of that kind is held (SGD keeps none). */
    protected final void ensureState(SparseOptimizer.Kind kind) {
        if (kind == stateKind) {
            return;
        }
        releaseState();
        stateKind = kind;
        if (kind != SparseOptimizer.Kind.SGD) {
            state = be.allocFloats(stateSize(kind));
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
        Checks.notNull(name, ": rows", src);
        Checks.region(name, ": source rows", src.length, srcOff, (long) rowCount * dim);
        table.write(firstRow * dim, src, srcOff, rowCount * dim);
    }

    @Override
    public void readRows(int firstRow, float[] dst, int dstOff, int rowCount) {
        open();
        checkRows(firstRow, rowCount);
        Checks.notNull(name, ": destination", dst);
        Checks.region(name, ": destination rows", dst.length, dstOff, (long) rowCount * dim);
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
            Checks.notNull(name, ": optimizer state", values);
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
        Checks.notNull(name, ": rowIds", rowIds);
        Checks.indices(name, rowIds, 0, rowIds.length, rows);
        float[] out = new float[Math.multiplyExact(rowIds.length, dim)];
        for (int i = 0; i < rowIds.length; i++) {
            table.read(rowIds[i] * dim, out, i * dim, dim);
        }
        return out;
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
            releaseState();
            table.close();
        }
    }
}
