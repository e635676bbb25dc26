package org.ttrec.dlrm.layers;

import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * One embedding table used as an EmbeddingBag: uncompressed ({@code DenseEmbeddingBag}) or
 * Tensor-Train compressed ({@code TtEmbeddingBag}, optionally with a hot-row cache). The DLRM
 * model and the training loop only see this interface, so any table kind works with any
 * {@link org.ttrec.engine.ComputeBackend}.
 *
 * <p>Life cycle per step: {@link #forward} remembers the batch it was given, {@link #backward}
 * applies the gradient of that batch with the given optimiser. {@link #close()} releases what
 * the layer holds on its backend.
 */
public interface EmbeddingBagLayer extends AutoCloseable {

    /** @return a short name used in messages and checkpoints, e.g. "table 3" */
    String name();

    /** @return N, the number of rows */
    int rows();

    /** @return D, the embedding dimension */
    int dim();

    /** @return how lookups of one bag are combined */
    Pooling pooling();

    /**
     * Pools the rows of each bag into {@code out}.
     *
     * @param indices          lookups (host array); each must lie in [0, N), else an
     *                         IllegalArgumentException names the table, position and value
     * @param offsets          bags+1 CSR offsets into indices (host array)
     * @param bags             number of bags B
     * @param perSampleWeights one weight per lookup, or null
     * @param out              output buffer of the layer's backend
     * @param outOff           offset of bag 0's row
     * @param ldOut            distance between bag rows (>= D)
     */
    void forward(int[] indices, int[] offsets, int bags, float[] perSampleWeights, FloatBuf out, int outOff, int ldOut);

    /**
     * Backward of the last {@link #forward} with a fused sparse update.
     *
     * @param gradOut gradient of the loss with respect to the pooled rows
     * @param gradOff offset of bag 0's gradient row
     * @param ldGrad  distance between gradient rows
     * @param opt     the update (the layer owns and lazily allocates the optimiser state)
     */
    void backward(FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt);

    /** @return trainable parameters held (cores, cache rows or the full table) */
    long parameterCount();

    /** @return parameters of the same table stored uncompressed: N * D */
    default long uncompressedParameterCount() {
        return (long) rows() * dim();
    }

    /** @return one line describing the table (kind, shape, compression) */
    String describe();

    /**
     * Materialises rows, e.g. for export or tests.
     *
     * @param rowIds rows to read
     * @return rowIds.length x D values, row-major
     */
    float[] materialize(int[] rowIds);

    /** @return the whole N x D table, row-major (see {@link #materialize}) */
    default float[] materializeAll() {
        if ((long) rows() * dim() > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException(name() + ": " + rows() + " x " + dim() + " does not fit one array");
        }
        int[] all = new int[rows()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return materialize(all);
    }

    /** Writes parameters and optimiser state (everything needed to resume bit-identically). */
    void save(DataOutputStream out) throws IOException;

    /**
     * Restores what {@link #save} wrote, for a layer built with the same configuration.
     *
     * @throws IOException if the stream does not hold this layer's state (shape mismatch, truncation)
     */
    void load(DataInputStream in) throws IOException;

    /**
     * @return this layer's weights and optimiser state as host copies, for data-parallel
     *         training, which averages them across replicas
     * @throws UnsupportedOperationException if the layer holds state that cannot be averaged
     *                                       across replicas (a TT table's hot-row cache)
     */
    TrainableState trainableState();

    /**
     * Installs weights and optimiser state read by {@link #trainableState()} from a layer of the
     * same shape (another replica's, or an average of several).
     *
     * @param state the state
     * @throws IllegalArgumentException if its arrays do not fit this layer (naming the layer and the array)
     */
    void loadTrainableState(TrainableState state);

    /** Releases the layer's tables and buffers on its backend; the layer must not be used afterwards. */
    @Override
    void close();
}
