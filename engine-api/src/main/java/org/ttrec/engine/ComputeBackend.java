package org.ttrec.engine;

import java.util.function.IntConsumer;

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
 *   <li>Data crosses between the host and the backend only by explicit copies:
 *       {@link #upload(float[])} and {@link FloatBuf#write} to the backend, {@link FloatBuf#read}
 *       back. No backend shares a caller's array, so model code runs unchanged on a device.</li>
 *   <li>Calls may be queued: a device backend returns before the work is done, and the host
 *       waits only in {@link #sync()} or when it reads a buffer back. Host backends finish each
 *       call before returning. Nothing in a training step needs to wait: reductions write into
 *       buffers ({@link #bceLoss}, {@link #sum}, {@link #dot}) and non-finite values raise a
 *       flag kept by the backend ({@link #checkFinite}).</li>
 *   <li>Every method checks its arguments (negative sizes, buffers too short for the offsets,
 *       leading dimensions, indices out of range) and throws {@link IllegalArgumentException}
 *       naming the operand and the sizes before any kernel runs.</li>
 *   <li>Results for the same inputs and thread count are bit-identical run to run.</li>
 *   <li>Output regions must not overlap inputs unless a method says so.</li>
 *   <li>Methods do not allocate per call beyond internal scratch that is reused; embedding
 *       tables ({@link #newTtTable}, {@link #newDenseTable}) keep their own scratch and the
 *       products a forward leaves for its backward.</li>
 *   <li>Buffers, tables and plans are {@link AutoCloseable}: closing releases device memory
 *       (heap objects are left to the garbage collector). Closing the backend releases its
 *       threads and device.</li>
 * </ul>
 */
public interface ComputeBackend extends AutoCloseable {

    // ------------------------------------------------------------------ identity and memory

    /** @return the short name users select this backend by: "scalar", "cpu", "tornado", ... */
    String name();

    /** @return one line saying what runs: implementation, vector width, threads, device */
    String description();

    /** @return the number of threads kernels may use (1 = single-threaded, exactly reproducible) */
    int threads();

    /**
     * The memory this backend can still give to new buffers and tables: the free part of the
     * JVM heap for host backends, free device memory for device backends. Memory plans and the
     * {@code --tt-threshold} advice size models against it.
     *
     * @return bytes available now (an estimate; allocation may still fail)
     */
    long memoryAvailable();

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
     * @return a new buffer of this backend holding a copy of {@code data} (later changes to the
     *         array do not reach the buffer)
     */
    FloatBuf upload(float[] data);

    /**
     * @param data host data
     * @return a new buffer of this backend holding a copy of {@code data}
     */
    IntBuf upload(int[] data);

    /** Waits until every queued call has finished (device backends); host backends return at once. */
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
     * [0, 1] is accepted), with p clamped to [1e-7, 1 - 1e-7] as PyTorch's BCELoss clamps its log:
     * out[outOff] = -(1/n) sum y log p + (1 - y) log(1 - p), accumulated in double and rounded
     * once to float (0 for n = 0).
     */
    void bceLoss(int n, FloatBuf p, int pOff, FloatBuf labels, int labelsOff, FloatBuf out, int outOff);

    /**
     * Gradient of {@code scale * sum BCE(sigmoid(z), y)} with respect to the logits z, given
     * p = sigmoid(z): dz[i] = scale * (p[i] - y[i]). With scale = 1/n this is the gradient of the
     * mean loss.
     */
    void bceSigmoidBackward(int n, float scale, FloatBuf p, int pOff, FloatBuf labels, int labelsOff,
                            FloatBuf dz, int dzOff);

    /** out[outOff] = sum of x[i] for i in [0, n), accumulated in double and rounded once to float. */
    void sum(int n, FloatBuf x, int xOff, FloatBuf out, int outOff);

    /** out[outOff] = sum of x[i] * y[i], accumulated in double and rounded once to float. */
    void dot(int n, FloatBuf x, int xOff, FloatBuf y, int yOff, FloatBuf out, int outOff);

    /**
     * Raises this backend's non-finite flag if any of x[xOff .. xOff + n) is NaN or infinite,
     * recording {@code tag} (e.g. the training step) unless the flag is already up. The flag
     * stays up until {@link #clearNonFinite()}; the step is not delayed to read it.
     *
     * @param tag a non-negative number saying where the check was made
     */
    void checkFinite(int n, FloatBuf x, int xOff, long tag);

    /**
     * Reads the non-finite flag (waits for queued work).
     *
     * @return the tag of the first {@link #checkFinite} that found a non-finite value since the
     *         last {@link #clearNonFinite()}, or -1 if none did
     */
    long firstNonFinite();

    /** Lowers the non-finite flag. */
    void clearNonFinite();

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

    // ------------------------------------------------------------------ layers

    /**
     * A fully connected layer: y = x W^T + b, then max(y, 0) when {@code relu}. One call, so a
     * device backend can run it as one kernel (or a GEMM with a fused epilogue); the reference
     * is {@link #gemm}, {@link #addBias} and {@link #relu} in that order, and host backends give
     * those bits.
     *
     * @param rows    batch rows B
     * @param in      input width
     * @param out     output width
     * @param x       B x in input, leading dimension in
     * @param xOff    offset of x
     * @param w       out x in weights W (PyTorch's layout), leading dimension in
     * @param wOff    offset of W
     * @param bias    out biases
     * @param biasOff offset of the biases
     * @param relu    whether a ReLU follows
     * @param y       B x out output, leading dimension out
     * @param yOff    offset of y
     */
    void linearForward(int rows, int in, int out, FloatBuf x, int xOff, FloatBuf w, int wOff,
                       FloatBuf bias, int biasOff, boolean relu, FloatBuf y, int yOff);

    /**
     * Backward of {@link #linearForward}: dW = dy^T x and db = column sums of dy (both
     * overwritten), and dx = dy W when {@code dx} is not null. With {@code relu}, dy is first
     * masked in place by the forward's output y (dy[i] = 0 where y[i] <= 0), so dy holds the
     * pre-activation gradient afterwards. The reference is {@link #reluBackward},
     * {@link #gemm} (dW), {@link #sumRows} (db) and {@link #gemm} (dx) in that order.
     *
     * @param rows     batch rows B
     * @param in       input width
     * @param out      output width
     * @param x        the forward's input, B x in
     * @param xOff     offset of x
     * @param w        the weights, out x in
     * @param wOff     offset of W
     * @param relu     whether the forward applied a ReLU
     * @param y        the forward's output, B x out (read only when relu)
     * @param yOff     offset of y
     * @param dy       B x out gradient of the output; masked in place when relu
     * @param dyOff    offset of dy
     * @param dw       out x in weight gradient (overwritten)
     * @param dwOff    offset of dW
     * @param dbias    out bias gradient (overwritten)
     * @param dbiasOff offset of db
     * @param dx       B x in input gradient (overwritten), or null to skip it
     * @param dxOff    offset of dx
     */
    void linearBackward(int rows, int in, int out, FloatBuf x, int xOff, FloatBuf w, int wOff,
                        boolean relu, FloatBuf y, int yOff, FloatBuf dy, int dyOff,
                        FloatBuf dw, int dwOff, FloatBuf dbias, int dbiasOff, FloatBuf dx, int dxOff);

    /**
     * DLRM's dot interaction. T is B x F x D (F = {@code vectors}): the bottom MLP's output is
     * copied into vector 0 of each sample, vectors 1..F-1 hold the pooled embeddings. Each
     * output row r = [bottom, the pairwise dot products T_i . T_j for i > j (and i = j when
     * {@code self})], ordered by i then j: D + F(F-1)/2 values (D + F(F+1)/2 with self). The
     * reference is one strided batched GEMM Z = T T^T per sample, then a column gather of Z.
     *
     * @param rows      batch rows B
     * @param vectors   F
     * @param dim       D
     * @param self      whether the diagonal T_i . T_i is included
     * @param bottom    B x D bottom output (contiguous)
     * @param bottomOff its offset
     * @param t         B x F x D stacked vectors; vector 0 is written here
     * @param tOff      offset of T
     * @param r         B x {@link #dotInteractionWidth} output (contiguous)
     * @param rOff      offset of r
     */
    void dotInteractionForward(int rows, int vectors, int dim, boolean self, FloatBuf bottom, int bottomOff,
                               FloatBuf t, int tOff, FloatBuf r, int rOff);

    /**
     * Backward of {@link #dotInteractionForward}: given dR, writes dT (B x F x D; vectors 1..F-1
     * are the tables' output gradients) and dBottom = dR[:, :D] + dT[:, 0, :]. The reference
     * scatters dR's pair columns into a zeroed B x F x F matrix at (i, j) and again at (j, i),
     * multiplies by T per sample, then adds the pass-through.
     *
     * @param rows       batch rows B
     * @param vectors    F
     * @param dim        D
     * @param self       as in the forward
     * @param t          the forward's stacked vectors
     * @param tOff       offset of T
     * @param dr         B x {@link #dotInteractionWidth} output gradient (contiguous)
     * @param drOff      offset of dR
     * @param dt         B x F x D gradient of T (overwritten)
     * @param dtOff      offset of dT
     * @param dBottom    B x D gradient of the bottom output (overwritten)
     * @param dBottomOff offset of dBottom
     */
    void dotInteractionBackward(int rows, int vectors, int dim, boolean self, FloatBuf t, int tOff,
                                FloatBuf dr, int drOff, FloatBuf dt, int dtOff, FloatBuf dBottom, int dBottomOff);

    /**
     * @param vectors F
     * @param dim     D
     * @param self    whether the diagonal is included
     * @return the width of a dot interaction's output row
     */
    static int dotInteractionWidth(int vectors, int dim, boolean self) {
        return dim + (self ? vectors * (vectors + 1) / 2 : vectors * (vectors - 1) / 2);
    }

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
     * represent (docs/tt-layout.md), without materialising it. A one-shot call: it keeps nothing
     * for a later backward. Training uses {@link #newTtTable}, whose tables keep a batch's sort
     * and the forward's products for the backward.
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
     * TT-EmbeddingBag backward with the optimiser fused (docs/tt-layout.md): core-slice gradients
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

    // ------------------------------------------------------------------ embedding tables

    /**
     * A TT-compressed embedding table owned by this backend: its cores, optimiser state, scratch
     * and the products a forward keeps for its backward live here, so the table's data stays
     * where it is computed for the whole run. The cores start at zero; fill them with
     * {@link TtTable#writeCore}.
     *
     * @param name  the table's name in messages, e.g. "table 3"
     * @param shape the TT shape
     * @return the table
     */
    TtTable newTtTable(String name, TtShape shape);

    /**
     * An uncompressed rows x dim embedding table owned by this backend (zero-filled).
     *
     * @param name the table's name in messages, e.g. "table 3"
     * @param rows N
     * @param dim  D
     * @return the table
     */
    DenseTable newDenseTable(String name, int rows, int dim);

    /**
     * Starts the embedding-table work of one step: {@code task.accept(i)} issues table i's calls
     * (its lookups, or its backward and update). Each task must touch state of its own (one
     * table, its columns of the output); the results then do not depend on how the tasks
     * overlap, and equal running them one after another in index order. How they overlap is
     * this backend's business: the cpu backend runs them on its threads, and with table threads
     * of its own ({@link #tableBackend()}) beside the caller, who goes on with the MLP; a device
     * backend may issue them to queues of their own. Work submitted earlier runs first, so a
     * step's lookups see the previous step's updates.
     *
     * @param n    number of tasks
     * @param task the calls of task i
     * @return the pending work; {@link Pending#await()} waits for it and rethrows the failure of
     *         the lowest failed index
     */
    Pending submitTables(int n, IntConsumer task);

    /**
     * The backend to create embedding tables on, so that {@link #submitTables} can run them
     * beside this backend's other work: this backend itself, or a sibling sharing its memory.
     *
     * @return the backend tables belong on
     */
    default ComputeBackend tableBackend() {
        return this;
    }
}
