package org.ttrec.dlrm.layers;

import org.ttrec.dlrm.io.FloatIO;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.DenseTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.SplittableRandom;

/**
 * An uncompressed N x D embedding table used as an EmbeddingBag: the DLRM baseline. The rows
 * and their optimiser state live in a {@link DenseTable} of the backend; the backward pass sums
 * the gradient per touched row and applies the optimiser in the same kernel, so only touched
 * rows are written (dlrm's sparse SGD). Each batch is copied to the backend once, into a
 * {@link LookupPlan} that the forward and the backward share and that grows only when a batch
 * has more lookups than any before it.
 */
public final class DenseEmbeddingBag implements EmbeddingBagLayer {
    private static final int MAGIC = 0x44454D42; // "DEMB"
    /** Rows moved per chunk when initialising, saving and loading. */
    private static final int CHUNK_FLOATS = 1 << 16;

    private final String name;
    private final int rows;
    private final int dim;
    private final Pooling pooling;
    private final DenseTable table;
    private final LookupPlan plan;
    private boolean haveBatch;

    /**
     * Allocates and initialises the table with dlrm's U(-sqrt(1/N), sqrt(1/N)).
     *
     * @param be      backend that holds the table and runs its kernels
     * @param name    name used in messages and checkpoints
     * @param rows    N
     * @param dim     D
     * @param pooling how bags are pooled
     * @param seed    initialisation seed
     */
    public DenseEmbeddingBag(ComputeBackend be, String name, int rows, int dim, Pooling pooling, long seed) {
        this(be, name, rows, dim, pooling, uniform(rows, dim, seed));
    }

    /**
     * Source of a table's initial rows, read in chunks so that a table larger than one array can
     * be filled.
     */
    @FunctionalInterface
    public interface RowSource {
        /**
         * Writes rows {@code [first, first + count)} into the start of {@code dst}, row-major.
         *
         * @param first first row
         * @param count rows
         * @param dst   destination, at least {@code count * D} floats
         */
        void read(int first, int count, float[] dst);
    }

    /**
     * A table with the given rows, e.g. the trained rows of a model file: nothing is drawn at
     * random, so building a scoring replica costs one copy of the rows.
     *
     * @param be      backend that holds the table and runs its kernels
     * @param name    name used in messages
     * @param rows    N
     * @param dim     D
     * @param pooling how bags are pooled
     * @param values  the rows
     */
    public DenseEmbeddingBag(ComputeBackend be, String name, int rows, int dim, Pooling pooling, RowSource values) {
        this.name = name;
        this.rows = rows;
        this.dim = dim;
        this.pooling = pooling;
        this.table = be.newDenseTable(name, rows, dim);
        try {
            int chunkRows = Math.max(1, CHUNK_FLOATS / dim);
            float[] chunk = new float[Math.min(rows, chunkRows) * dim];
            for (int r = 0; r < rows; r += chunkRows) {
                int n = Math.min(chunkRows, rows - r);
                values.read(r, n, chunk);
                table.writeRows(r, chunk, 0, n);
            }
            this.plan = table.newPlan();
        } catch (RuntimeException | Error e) {
            table.close();
            throw e;
        }
    }

    /** dlrm's U(-sqrt(1/N), sqrt(1/N)), drawn in row order from one stream (chunking does not change it). */
    private static RowSource uniform(int rows, int dim, long seed) {
        float bound = (float) Math.sqrt(1.0 / rows);
        SplittableRandom rnd = new SplittableRandom(seed);
        return (first, count, dst) -> {
            int n = count * dim;
            for (int i = 0; i < n; i++) {
                float u = (rnd.nextInt() >>> 8) * 0x1.0p-24f; // [0, 1)
                dst[i] = (2f * u - 1f) * bound;
            }
        };
    }

    @Override
    public String name() {
        return name;
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
    public Pooling pooling() {
        return pooling;
    }

    /** @return the backend's table (N x D), e.g. for tests */
    public DenseTable table() {
        return table;
    }

    /**
     * @return a copy of the optimiser state, or null before the first backward with a stateful
     *         optimiser; for {@link SparseOptimizer.Kind#ACCUMULATE} it is the dense N x D gradient
     */
    public float[] optimizerState() {
        return table.readState();
    }

    @Override
    public void forward(int[] indices, int[] offsets, int bags, float[] perSampleWeights, FloatBuf out, int outOff,
                        int ldOut) {
        haveBatch = false;
        plan.set(indices, offsets, bags, perSampleWeights);
        table.forward(plan, pooling, false, out, outOff, ldOut);
        haveBatch = true;
    }

    @Override
    public void backward(FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        if (!haveBatch) {
            throw new IllegalStateException(name + ": backward without a forward pass");
        }
        SparseOptimizer.Kind held = table.stateKind();
        if (held != null && held != SparseOptimizer.Kind.SGD && opt.kind() != SparseOptimizer.Kind.SGD
                && held != opt.kind()) {
            throw new IllegalStateException(name + ": optimiser changed from " + held + " to " + opt.kind());
        }
        table.backward(plan, pooling, gradOut, gradOff, ldGrad, opt);
    }

    @Override
    public long parameterCount() {
        return (long) rows * dim;
    }

    @Override
    public String describe() {
        return String.format("%s: dense %d x %d (%,d parameters, %s)", name, rows, dim, parameterCount(),
                FloatIO.bytes(parameterCount() * 4));
    }

    @Override
    public float[] materialize(int[] rowIds) {
        return table.materialize(rowIds);
    }

    @Override
    public void save(DataOutputStream out) throws IOException {
        out.writeInt(MAGIC);
        out.writeUTF(name);
        out.writeInt(rows);
        out.writeInt(dim);
        int chunkRows = Math.max(1, CHUNK_FLOATS / dim);
        float[] chunk = new float[Math.min(rows, chunkRows) * dim];
        for (int r = 0; r < rows; r += chunkRows) {
            int n = Math.min(chunkRows, rows - r);
            table.readRows(r, chunk, 0, n);
            FloatIO.write(out, chunk, n * dim);
        }
        float[] state = table.readState();
        out.writeUTF(state == null ? "NONE" : table.stateKind().name());
        if (state != null) {
            out.writeInt(state.length);
            FloatIO.write(out, state, state.length);
        }
    }

    @Override
    public void load(DataInputStream in) throws IOException {
        if (in.readInt() != MAGIC) {
            throw new IOException(name + ": checkpoint does not hold a dense table here");
        }
        String n = in.readUTF();
        int r = in.readInt();
        int d = in.readInt();
        if (r != rows || d != dim) {
            throw new IOException(name + ": checkpoint holds " + n + " with " + r + " x " + d
                    + " but this table is " + rows + " x " + dim);
        }
        int chunkRows = Math.max(1, CHUNK_FLOATS / dim);
        float[] chunk = new float[Math.min(rows, chunkRows) * dim];
        for (int row = 0; row < rows; row += chunkRows) {
            int m = Math.min(chunkRows, rows - row);
            FloatIO.read(in, chunk, m * dim);
            table.writeRows(row, chunk, 0, m);
        }
        String k = in.readUTF();
        if (k.equals("NONE")) {
            table.writeState(null, null);
        } else {
            SparseOptimizer.Kind kind;
            try {
                kind = SparseOptimizer.Kind.valueOf(k);
            } catch (IllegalArgumentException e) {
                throw new IOException(name + ": unknown optimiser state '" + k + "' in checkpoint");
            }
            int len = in.readInt();
            long want = kind == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? rows : (long) rows * dim;
            if (len != want) {
                throw new IOException(name + ": optimiser state has " + len + " floats, expected " + want);
            }
            float[] state = new float[len];
            FloatIO.read(in, state, len);
            table.writeState(kind, state);
        }
    }

    @Override
    public TrainableState trainableState() {
        float[] w = new float[Math.multiplyExact(rows, dim)];
        table.readRows(0, w, 0, rows);
        float[] state = table.readState();
        return new TrainableState(java.util.List.of(w), table.stateKind(),
                state == null ? java.util.List.of() : java.util.List.of(state));
    }

    @Override
    public void loadTrainableState(TrainableState s) {
        if (s.weights().size() != 1 || s.weights().get(0).length != (long) rows * dim) {
            throw new IllegalArgumentException(name + ": trainable state does not fit a " + rows + " x " + dim + " table");
        }
        float[] state = null;
        if (!s.optimizerState().isEmpty()) {
            long want = s.stateKind() == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? rows : (long) rows * dim;
            if (s.optimizerState().size() != 1 || s.optimizerState().get(0).length != want) {
                throw new IllegalArgumentException(name + ": " + s.stateKind() + " state does not fit a " + rows + " x "
                        + dim + " table (expected one array of " + want + " floats)");
            }
            state = s.optimizerState().get(0);
        }
        table.writeRows(0, s.weights().get(0), 0, rows);
        table.writeState(s.stateKind(), state);
    }

    /** Releases the table and the plan. */
    @Override
    public void close() {
        try {
            plan.close();
        } finally {
            table.close();
        }
    }
}
