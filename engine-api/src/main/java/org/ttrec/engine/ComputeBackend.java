package org.ttrec.engine;

/**
 * Every computation ttrec's DLRM trainer performs, as one flat kernel interface. The scalar
 * {@link org.ttrec.engine.scalar.ScalarBackend} is the reference every other implementation is
 * tested against; the Vector API backend (module engine-cpu) and device backends implement the
 * same contract. Backends are found with {@link Backends}.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>All data is fp32 in {@link FloatBuf}s (indices in {@link IntBuf}s) allocated by this
 *       backend, addressed by an element offset; matrices are row-major with an explicit
 *       leading dimension (the distance between rows, in elements).</li>
 *   <li>Every method checks its arguments (negative sizes, buffers too short for the offsets,
 *       leading dimensions, indices out of range) and throws {@link IllegalArgumentException}
 *       naming the operand and the sizes before any kernel runs.</li>
 *   <li>Results for the same inputs and thread count are bit-identical run to run.</li>
 *   <li>Output regions must not overlap inputs unless a method says so.</li>
 *   <li>Methods do not allocate per call beyond internal scratch that is reused.</li>
 * </ul>
 */
public interface ComputeBackend extends AutoCloseable {

    // ------------------------------------------------------------------ identity and memory

    /** @return the short name users select this backend by: "scalar", "cpu", "gpu", ... */
    String name();

    /** @return one line saying what runs: implementation, vector width, threads, device */
    String description();

    /** @return the number of threads kernels may use (1 = single-threaded, exactly reproducible) */
    int threads();

    /**
     * @param n number of floats
     * @return a new zero-filled buffer
     */
    FloatBuf allocFloats(int n);

    /**
     * @param n number of ints
     * @return a new zero-filled buffer
     */
    IntBuf allocInts(int n);

    /**
     * @param data host data
     * @return a buffer holding {@code data}: host backends share the array, device backends copy it
     */
    FloatBuf wrap(float[] data);

    /**
     * @param data host data
     * @return a buffer holding {@code data}: host backends share the array, device backends copy it
     */
    IntBuf wrap(int[] data);

    /** Waits for queued work to finish (device backends); host backends return at once. */
    default void sync() {}

    /** Releases threads and device resources. */
    @Override
    default void close() {}

    // ------------------------------------------------------------------ GEMM

    /**
     * C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T. op(A) is m x k, op(B) is
     * k x n and C is m x n. A stored untransposed is m x k (lda >= k), transposed k x m
     * (lda >= m); likewise B. When beta == 0, C is not read (NaN in C does not propagate).
     *
     * @param transA whether A is transposed
     * @param transB whether B is transposed
     * @param m      rows of op(A) and C
     * @param n      columns of op(B) and C
     * @param k      inner dimension
     * @param alpha  scale of the product
     * @param a      A
     * @param aOff   offset of A's first element
     * @param lda    leading dimension of A as stored
     * @param b      B
     * @param bOff   offset of B's first element
     * @param ldb    leading dimension of B as stored
     * @param beta   scale of the old C
     * @param c      C
     * @param cOff   offset of C's first element
     * @param ldc    leading dimension of C (>= n)
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              FloatBuf a, int aOff, int lda, FloatBuf b, int bOff, int ldb,
              float beta, FloatBuf c, int cOff, int ldc);

    /**
     * {@code batch} independent GEMMs as in {@link #gemm}, the i-th using A at
     * {@code aOff + i * strideA}, B at {@code bOff + i * strideB}, C at {@code cOff + i * strideC}.
     * A stride of 0 reuses the same matrix (allowed for A and B, not for C unless batch == 1).
     *
     * @param transA  whether each A is transposed
     * @param transB  whether each B is transposed
     * @param m       rows of op(A) and C
     * @param n       columns of op(B) and C
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       A buffer
     * @param aOff    offset of the first A
     * @param lda     leading dimension of each A
     * @param strideA distance between consecutive A matrices
     * @param b       B buffer
     * @param bOff    offset of the first B
     * @param ldb     leading dimension of each B
     * @param strideB distance between consecutive B matrices
     * @param beta    scale of the old C
     * @param c       C buffer
     * @param cOff    offset of the first C
     * @param ldc     leading dimension of each C
     * @param strideC distance between consecutive C matrices
     * @param batch   number of products
     */
    void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            FloatBuf a, int aOff, int lda, int strideA,
                            FloatBuf b, int bOff, int ldb, int strideB,
                            float beta, FloatBuf c, int cOff, int ldc, int strideC, int batch);

    /**
     * {@code batch} independent GEMMs whose operands are given by gather lists: product i uses
     * A at {@code aOffsets[listOff + i]}, B at {@code bOffsets[listOff + i]} and C at
     * {@code cOffsets[listOff + i]}. C regions of different products must not overlap; A and B
     * may repeat. This is the shape of the TT contraction (m, n, k typically 1..128).
     *
     * @param transA   whether each A is transposed
     * @param transB   whether each B is transposed
     * @param m        rows of op(A) and C
     * @param n        columns of op(B) and C
     * @param k        inner dimension
     * @param alpha    scale of the product
     * @param a        A buffer
     * @param aOffsets offsets of the A matrices
     * @param lda      leading dimension of each A
     * @param b        B buffer
     * @param bOffsets offsets of the B matrices
     * @param ldb      leading dimension of each B
     * @param beta     scale of the old C
     * @param c        C buffer
     * @param cOffsets offsets of the C matrices
     * @param ldc      leading dimension of each C
     * @param listOff  first entry of the offset lists to use
     * @param batch    number of products
     */
    void gemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     FloatBuf a, IntBuf aOffsets, int lda, FloatBuf b, IntBuf bOffsets, int ldb,
                     float beta, FloatBuf c, IntBuf cOffsets, int ldc, int listOff, int batch);

    // ------------------------------------------------------------------ elementwise and reductions

    /** x[i] = value for i in [0, n). */
    void fill(int n, float value, FloatBuf x, int xOff);

    /** dst[i] = src[i] for i in [0, n); regions may overlap (memmove semantics). */
    void copy(int n, FloatBuf src, int srcOff, FloatBuf dst, int dstOff);

    /** dst[r*dstLd + c] = src[r*srcLd + c] for a rows x cols block. */
    void copy2d(int rows, int cols, FloatBuf src, int srcOff, int srcLd, FloatBuf dst, int dstOff, int dstLd);

    /** y[i] += alpha * x[i]. */
    void axpy(int n, float alpha, FloatBuf x, int xOff, FloatBuf y, int yOff);

    /** x[i] *= alpha. */
    void scale(int n, float alpha, FloatBuf x, int xOff);

    /** x[r, c] += bias[c] for a rows x cols matrix with leading dimension ldx. */
    void addBias(int rows, int cols, FloatBuf bias, int biasOff, FloatBuf x, int xOff, int ldx);

    /**
     * Column sums, the bias gradient: y[c] = beta * y[c] + sum_r x[r, c]. When beta == 0, y is not read.
     */
    void sumRows(int rows, int cols, FloatBuf x, int xOff, int ldx, float beta, FloatBuf y, int yOff);

    /** y[i] = max(x[i], 0); x and y may be the same region. */
    void relu(int n, FloatBuf x, int xOff, FloatBuf y, int yOff);

    /** dx[i] = y[i] > 0 ? dy[i] : 0, where y is the ReLU output; dy and dx may be the same region. */
    void reluBackward(int n, FloatBuf y, int yOff, FloatBuf dy, int dyOff, FloatBuf dx, int dxOff);

    /** y[i] = 1 / (1 + exp(-x[i])); x and y may be the same region. */
    void sigmoid(int n, FloatBuf x, int xOff, FloatBuf y, int yOff);

    /**
     * Mean binary cross-entropy of probabilities p against labels y in {0, 1} (any value in
     * [0, 1] is accepted), with p clamped to [1e-7, 1 - 1e-7] as PyTorch's BCELoss clamps its log.
     *
     * @return -(1/n) sum y log p + (1 - y) log(1 - p), accumulated in double
     */
    double bceLoss(int n, FloatBuf p, int pOff, FloatBuf labels, int labelsOff);

    /**
     * Gradient of {@code scale * sum BCE(sigmoid(z), y)} with respect to the logits z, given
     * p = sigmoid(z): dz[i] = scale * (p[i] - y[i]). With scale = 1/n this is the gradient of the
     * mean loss.
     */
    void bceSigmoidBackward(int n, float scale, FloatBuf p, int pOff, FloatBuf labels, int labelsOff,
                            FloatBuf dz, int dzOff);

    /** @return sum of x[i] for i in [0, n), accumulated in double */
    double sum(int n, FloatBuf x, int xOff);

    /** @return sum of x[i] * y[i], accumulated in double */
    double dot(int n, FloatBuf x, int xOff, FloatBuf y, int yOff);

    /**
     * dst[r, j] = src[r, cols[j]] for r in [0, rows), j in [0, count): picks columns, e.g. the
     * strict lower triangle of DLRM's interaction matrix.
     */
    void gatherColumns(int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcLd,
                       FloatBuf dst, int dstOff, int dstLd);

    /** dst[r, cols[j]] += src[r, j]: the backward of {@link #gatherColumns}; repeated columns add up. */
    void scatterAddColumns(int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcLd,
                           FloatBuf dst, int dstOff, int dstLd);

    /**
     * Dense Adagrad: s[i] += g[i]^2; w[i] -= lr * g[i] / (sqrt(s[i]) + eps).
     */
    void adagradUpdate(int n, float lr, float eps, FloatBuf grad, int gradOff, FloatBuf state, int stateOff,
                       FloatBuf w, int wOff);

    // ------------------------------------------------------------------ EmbeddingBag (uncompressed)

    /**
     * Gather-and-pool: out[b, :] (+)= pool over j in [offsets[b], offsets[b+1]) of
     * weight_j * table[indices[j], :].
     *
     * @param rows             N, rows of the table
     * @param dim              D, columns of the table (its leading dimension)
     * @param table            N x D table
     * @param indices          lookups, each in [0, N)
     * @param offsets          bags+1 non-decreasing CSR offsets into {@code indices}
     * @param bags             number of bags B
     * @param perSampleWeights one weight per lookup, or null for 1
     * @param pooling          sum or mean (mean divides by the bag's lookup count)
     * @param accumulate       add into out instead of overwriting it
     * @param out              output, B rows of D at {@code outOff} with leading dimension {@code ldOut}
     * @param outOff           offset of the first output row
     * @param ldOut            distance between output rows (>= D)
     */
    void embeddingBagForward(int rows, int dim, FloatBuf table, IntBuf indices, IntBuf offsets, int bags,
                             FloatBuf perSampleWeights, Pooling pooling, boolean accumulate,
                             FloatBuf out, int outOff, int ldOut);

    /**
     * Sparse backward of {@link #embeddingBagForward} with the optimiser fused: the gradient of
     * every touched row is summed over the batch (deterministically), then {@code opt} is applied
     * once per touched row.
     *
     * @param rows             N
     * @param dim              D
     * @param table            N x D table, updated in place (unless opt is ACCUMULATE)
     * @param state            optimiser state: N x D for ADAGRAD and ACCUMULATE (the dense gradient),
     *                         N for ROWWISE_ADAGRAD, ignored (may be null) for SGD
     * @param indices          lookups of the forward pass
     * @param offsets          its CSR offsets
     * @param bags             B
     * @param perSampleWeights weights of the forward pass, or null
     * @param pooling          pooling of the forward pass
     * @param gradOut          gradient of the loss with respect to the pooled outputs
     * @param gradOff          offset of the first gradient row
     * @param ldGrad           distance between gradient rows
     * @param opt              the update
     */
    void embeddingBagBackward(int rows, int dim, FloatBuf table, FloatBuf state, IntBuf indices, IntBuf offsets,
                              int bags, FloatBuf perSampleWeights, Pooling pooling,
                              FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt);

    // ------------------------------------------------------------------ TT-EmbeddingBag

    /**
     * TT-EmbeddingBag forward: like {@link #embeddingBagForward} for the table that the TT cores
     * represent (spec sections 2 and 3), without materialising it.
     *
     * @param shape            the TT shape
     * @param cores            d buffers, core k of {@link TtShape#coreSize(int)} floats
     * @param indices          lookups, each in [0, N)
     * @param offsets          bags+1 CSR offsets
     * @param bags             B
     * @param perSampleWeights one weight per lookup, or null
     * @param pooling          sum or mean
     * @param accumulate       add into out instead of overwriting it
     * @param out              output rows of D
     * @param outOff           offset of the first output row
     * @param ldOut            distance between output rows
     */
    void ttEmbeddingBagForward(TtShape shape, FloatBuf[] cores, IntBuf indices, IntBuf offsets, int bags,
                               FloatBuf perSampleWeights, Pooling pooling, boolean accumulate,
                               FloatBuf out, int outOff, int ldOut);

    /**
     * The caller promises that, from now on, the contents of these TT cores change only through
     * this backend's {@link #ttEmbeddingBagBackward}, or else are followed by
     * {@link #ttCoresChanged} before the next TT call on them. A backend may then keep the partial
     * products of a forward for the backward of the same batch without checking that the cores
     * still hold what the forward read: at small ranks that check costs about as much as the
     * products it saves. A layer that owns its cores makes this promise once; code that writes
     * registered cores behind the backend's back, between a forward and its backward, gets the
     * gradient of the cores the forward saw. The default does nothing (the backend keeps nothing,
     * or checks).
     *
     * @param cores the d core buffers of one table, as passed to the TT calls
     */
    default void ttOwnCores(FloatBuf[] cores) {}

    /**
     * Runs {@code task.accept(i)} for i in [0, n): concurrently where this backend allows calls
     * on different tables at the same time, otherwise one after another in index order. Each
     * task must touch state of its own (one embedding table: its parameters, its rows of the
     * output); the results then do not depend on how the tasks interleave. When tasks fail, the
     * failure of the lowest index is rethrown once no task runs any more (in order, the first
     * failure ends the loop).
     *
     * <p>A model of many small tables uses this for its lookups and updates: a TT table at batch
     * 128 is too small to split across threads, so one after another they leave all but one
     * core idle. The default runs them in order, for backends whose calls must not overlap.
     *
     * @param n    number of tasks
     * @param task the work of task i
     */
    default void forEachTable(int n, java.util.function.IntConsumer task) {
        for (int i = 0; i < n; i++) {
            task.accept(i);
        }
    }

    /**
     * These cores were written other than by {@link #ttEmbeddingBagBackward} (a checkpoint loaded,
     * values set): anything kept from an earlier forward on them is dropped.
     *
     * @param cores the d core buffers of one table
     */
    default void ttCoresChanged(FloatBuf[] cores) {}

    /**
     * TT-EmbeddingBag backward with the optimiser fused (spec section 4): core-slice gradients
     * are summed over the batch per (core, digit) slice, deterministically, then {@code opt} is
     * applied once per touched slice.
     *
     * @param shape            the TT shape
     * @param cores            the d cores, updated in place (unless opt is ACCUMULATE)
     * @param states           d optimiser states: same size as the core for ADAGRAD and ACCUMULATE
     *                         (the dense core gradient), p_k * R_k rows for ROWWISE_ADAGRAD
     *                         (one per slice row), null for SGD
     * @param indices          lookups of the forward pass
     * @param offsets          its CSR offsets
     * @param bags             B
     * @param perSampleWeights weights of the forward pass, or null
     * @param pooling          pooling of the forward pass
     * @param gradOut          gradient of the loss with respect to the pooled outputs
     * @param gradOff          offset of the first gradient row
     * @param ldGrad           distance between gradient rows
     * @param opt              the update
     */
    void ttEmbeddingBagBackward(TtShape shape, FloatBuf[] cores, FloatBuf[] states, IntBuf indices, IntBuf offsets,
                                int bags, FloatBuf perSampleWeights, Pooling pooling,
                                FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt);
}
