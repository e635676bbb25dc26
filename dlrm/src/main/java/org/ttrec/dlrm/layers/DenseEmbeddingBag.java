package org.ttrec.dlrm.layers;

import org.ttrec.dlrm.checkpoint.FloatIO;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.SplittableRandom;

/**
 * An uncompressed N x D embedding table used as an EmbeddingBag: the DLRM baseline. Lookups go
 * through {@link ComputeBackend#embeddingBagForward}; the backward pass sums the gradient per
 * touched row and applies the optimiser in the same kernel, so only touched rows are written
 * (dlrm's sparse SGD). Index buffers are reused between batches and grow only when a batch
 * has more lookups than any before it.
 */
public final class DenseEmbeddingBag implements EmbeddingBagLayer {
    private static final int MAGIC = 0x44454D42; // "DEMB"

    private final ComputeBackend be;
    private final String name;
    private final int rows;
    private final int dim;
    private final Pooling pooling;
    private final FloatBuf table;
    private FloatBuf state;
    private SparseOptimizer.Kind stateKind;
    private IntBuf indexBuf;
    private IntBuf offsetBuf;
    private FloatBuf weightBuf;
    private int bags = -1;
    private boolean weighted;

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
        if (rows < 1 || dim < 1) {
            throw new IllegalArgumentException(name + ": rows and dim must be >= 1, got " + rows + " x " + dim);
        }
        long n = (long) rows * dim;
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(name + ": " + rows + " x " + dim + " = " + n
                    + " floats do not fit one buffer (max " + (Integer.MAX_VALUE - 16) + "); use a TT table or max-ind-range");
        }
        this.be = be;
        this.name = name;
        this.rows = rows;
        this.dim = dim;
        this.pooling = pooling;
        this.table = be.allocFloats((int) n);
        float bound = (float) Math.sqrt(1.0 / rows);
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] chunk = new float[(int) Math.min(n, 1 << 16)];
        for (long done = 0; done < n; ) {
            int len = (int) Math.min(chunk.length, n - done);
            for (int i = 0; i < len; i++) {
                float u = (rnd.nextInt() >>> 8) * 0x1.0p-24f; // [0, 1)
                chunk[i] = (2f * u - 1f) * bound;
            }
            table.write((int) done, chunk, 0, len);
            done += len;
        }
        this.indexBuf = be.allocInts(16);
        this.offsetBuf = be.allocInts(17);
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

    /** @return the table buffer (N x D), e.g. for tests */
    public FloatBuf table() {
        return table;
    }

    /**
     * @return the optimiser state, or null before the first backward with a stateful optimiser;
     *         for {@link SparseOptimizer.Kind#ACCUMULATE} it is the dense N x D gradient
     */
    public FloatBuf optimizerState() {
        return state;
    }

    @Override
    public void forward(int[] indices, int[] offsets, int bags, float[] perSampleWeights, FloatBuf out, int outOff,
                        int ldOut) {
        if (offsets.length < bags + 1) {
            throw new IllegalArgumentException(name + ": offsets needs " + (bags + 1) + " entries, has " + offsets.length);
        }
        int n = offsets[bags];
        if (n > indices.length) {
            throw new IllegalArgumentException(name + ": offsets[" + bags + "] = " + n + " is past the "
                    + indices.length + " indices");
        }
        if (indexBuf.length() < n) {
            indexBuf = be.allocInts(Math.max(n, indexBuf.length() * 2));
        }
        if (offsetBuf.length() < bags + 1) {
            offsetBuf = be.allocInts(Math.max(bags + 1, offsetBuf.length() * 2));
        }
        indexBuf.write(0, indices, 0, n);
        offsetBuf.write(0, offsets, 0, bags + 1);
        weighted = perSampleWeights != null;
        if (weighted) {
            if (weightBuf == null || weightBuf.length() < n) {
                weightBuf = be.allocFloats(Math.max(n, 16));
            }
            weightBuf.write(0, perSampleWeights, 0, n);
        }
        try {
            be.embeddingBagForward(rows, dim, table, indexBuf, offsetBuf, bags, weighted ? weightBuf : null,
                    pooling, false, out, outOff, ldOut);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
        this.bags = bags;
    }

    @Override
    public void backward(FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        if (bags < 0) {
            throw new IllegalStateException(name + ": backward without a forward pass");
        }
        ensureState(opt.kind());
        be.embeddingBagBackward(rows, dim, table, state, indexBuf, offsetBuf, bags, weighted ? weightBuf : null,
                pooling, gradOut, gradOff, ldGrad, opt);
    }

    private void ensureState(SparseOptimizer.Kind kind) {
        if (kind == SparseOptimizer.Kind.SGD) {
            return;
        }
        if (state != null && stateKind == kind) {
            return;
        }
        if (state != null) {
            throw new IllegalStateException(name + ": optimiser changed from " + stateKind + " to " + kind);
        }
        long n = kind == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? rows : (long) rows * dim;
        state = be.allocFloats((int) n);
        stateKind = kind;
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
        float[] out = new float[rowIds.length * dim];
        for (int i = 0; i < rowIds.length; i++) {
            int r = rowIds[i];
            if (r < 0 || r >= rows) {
                throw new IllegalArgumentException(name + ": row " + r + " at position " + i + " is out of range [0, " + rows + ")");
            }
            table.read(r * dim, out, i * dim, dim);
        }
        return out;
    }

    @Override
    public void save(DataOutputStream out) throws IOException {
        out.writeInt(MAGIC);
        out.writeUTF(name);
        out.writeInt(rows);
        out.writeInt(dim);
        FloatIO.write(out, table, 0, (long) rows * dim);
        out.writeUTF(state == null ? "NONE" : stateKind.name());
        if (state != null) {
            out.writeInt(state.length());
            FloatIO.write(out, state, 0, state.length());
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
        FloatIO.read(in, table, 0, (long) rows * dim);
        String k = in.readUTF();
        if (k.equals("NONE")) {
            state = null;
            stateKind = null;
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
            state = null;
            ensureState(kind);
            FloatIO.read(in, state, 0, len);
        }
    }
}
