package org.ttrec.engine;

import java.util.function.IntConsumer;

/**
 * A backend that passes every call to another one: the base of decorators that change a few
 * calls (run the tables beside the caller, count allocations in tests) and keep the rest.
 * {@link #close()} closes the delegate.
 */
public abstract class ForwardingBackend implements ComputeBackend {
    /** The backend every call goes to unless a subclass overrides it. */
    protected final ComputeBackend delegate;

    /** @param delegate the backend to pass calls to */
    protected ForwardingBackend(ComputeBackend delegate) {
        Checks.notNull("delegate backend", delegate);
        this.delegate = delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public String description() {
        return delegate.description();
    }

    @Override
    public int threads() {
        return delegate.threads();
    }

    @Override
    public long memoryAvailable() {
        return delegate.memoryAvailable();
    }

    @Override
    public FloatBuf allocFloats(int n) {
        return delegate.allocFloats(n);
    }

    @Override
    public IntBuf allocInts(int n) {
        return delegate.allocInts(n);
    }

    @Override
    public FloatBuf upload(float[] data) {
        return delegate.upload(data);
    }

    @Override
    public IntBuf upload(int[] data) {
        return delegate.upload(data);
    }

    @Override
    public void sync() {
        delegate.sync();
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, FloatBuf a, int aOff, int lda, FloatBuf b, int bOff, int ldb, float beta, FloatBuf c, int cOff, int ldc) {
        delegate.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, FloatBuf a, int aOff, int lda, int strideA, FloatBuf b, int bOff, int ldb, int strideB, float beta, FloatBuf c, int cOff, int ldc, int strideC, int batch) {
        delegate.gemmStridedBatched(transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB, beta, c, cOff, ldc, strideC, batch);
    }

    @Override
    public void gemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, FloatBuf a, IntBuf aOffsets, int lda, FloatBuf b, IntBuf bOffsets, int ldb, float beta, FloatBuf c, IntBuf cOffsets, int ldc, int listOff, int batch) {
        delegate.gemmBatched(transA, transB, m, n, k, alpha, a, aOffsets, lda, b, bOffsets, ldb, beta, c, cOffsets, ldc, listOff, batch);
    }

    @Override
    public void fill(int n, float value, FloatBuf x, int xOff) {
        delegate.fill(n, value, x, xOff);
    }

    @Override
    public void copy(int n, FloatBuf src, int srcOff, FloatBuf dst, int dstOff) {
        delegate.copy(n, src, srcOff, dst, dstOff);
    }

    @Override
    public void copy2d(int rows, int cols, FloatBuf src, int srcOff, int srcLd, FloatBuf dst, int dstOff, int dstLd) {
        delegate.copy2d(rows, cols, src, srcOff, srcLd, dst, dstOff, dstLd);
    }

    @Override
    public void axpy(int n, float alpha, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        delegate.axpy(n, alpha, x, xOff, y, yOff);
    }

    @Override
    public void scale(int n, float alpha, FloatBuf x, int xOff) {
        delegate.scale(n, alpha, x, xOff);
    }

    @Override
    public void addBias(int rows, int cols, FloatBuf bias, int biasOff, FloatBuf x, int xOff, int ldx) {
        delegate.addBias(rows, cols, bias, biasOff, x, xOff, ldx);
    }

    @Override
    public void sumRows(int rows, int cols, FloatBuf x, int xOff, int ldx, float beta, FloatBuf y, int yOff) {
        delegate.sumRows(rows, cols, x, xOff, ldx, beta, y, yOff);
    }

    @Override
    public void relu(int n, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        delegate.relu(n, x, xOff, y, yOff);
    }

    @Override
    public void reluBackward(int n, FloatBuf y, int yOff, FloatBuf dy, int dyOff, FloatBuf dx, int dxOff) {
        delegate.reluBackward(n, y, yOff, dy, dyOff, dx, dxOff);
    }

    @Override
    public void sigmoid(int n, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        delegate.sigmoid(n, x, xOff, y, yOff);
    }

    @Override
    public void bceLoss(int n, FloatBuf p, int pOff, FloatBuf labels, int labelsOff, FloatBuf out, int outOff) {
        delegate.bceLoss(n, p, pOff, labels, labelsOff, out, outOff);
    }

    @Override
    public void bceSigmoidBackward(int n, float scale, FloatBuf p, int pOff, FloatBuf labels, int labelsOff, FloatBuf dz, int dzOff) {
        delegate.bceSigmoidBackward(n, scale, p, pOff, labels, labelsOff, dz, dzOff);
    }

    @Override
    public void sum(int n, FloatBuf x, int xOff, FloatBuf out, int outOff) {
        delegate.sum(n, x, xOff, out, outOff);
    }

    @Override
    public void dot(int n, FloatBuf x, int xOff, FloatBuf y, int yOff, FloatBuf out, int outOff) {
        delegate.dot(n, x, xOff, y, yOff, out, outOff);
    }

    @Override
    public void checkFinite(int n, FloatBuf x, int xOff, long tag) {
        delegate.checkFinite(n, x, xOff, tag);
    }

    @Override
    public long firstNonFinite() {
        return delegate.firstNonFinite();
    }

    @Override
    public void clearNonFinite() {
        delegate.clearNonFinite();
    }

    @Override
    public void gatherColumns(int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcLd, FloatBuf dst, int dstOff, int dstLd) {
        delegate.gatherColumns(rows, count, cols, src, srcOff, srcLd, dst, dstOff, dstLd);
    }

    @Override
    public void scatterAddColumns(int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcLd, FloatBuf dst, int dstOff, int dstLd) {
        delegate.scatterAddColumns(rows, count, cols, src, srcOff, srcLd, dst, dstOff, dstLd);
    }

    @Override
    public void adagradUpdate(int n, float lr, float eps, FloatBuf grad, int gradOff, FloatBuf state, int stateOff, FloatBuf w, int wOff) {
        delegate.adagradUpdate(n, lr, eps, grad, gradOff, state, stateOff, w, wOff);
    }

    @Override
    public void linearForward(int rows, int in, int out, FloatBuf x, int xOff, FloatBuf w, int wOff, FloatBuf bias, int biasOff, boolean relu, FloatBuf y, int yOff) {
        delegate.linearForward(rows, in, out, x, xOff, w, wOff, bias, biasOff, relu, y, yOff);
    }

    @Override
    public void linearBackward(int rows, int in, int out, FloatBuf x, int xOff, FloatBuf w, int wOff, boolean relu, FloatBuf y, int yOff, FloatBuf dy, int dyOff, FloatBuf dw, int dwOff, FloatBuf dbias, int dbiasOff, FloatBuf dx, int dxOff) {
        delegate.linearBackward(rows, in, out, x, xOff, w, wOff, relu, y, yOff, dy, dyOff, dw, dwOff, dbias, dbiasOff, dx, dxOff);
    }

    @Override
    public void dotInteractionForward(int rows, int vectors, int dim, boolean self, FloatBuf bottom, int bottomOff, FloatBuf t, int tOff, FloatBuf r, int rOff) {
        delegate.dotInteractionForward(rows, vectors, dim, self, bottom, bottomOff, t, tOff, r, rOff);
    }

    @Override
    public void dotInteractionBackward(int rows, int vectors, int dim, boolean self, FloatBuf t, int tOff, FloatBuf dr, int drOff, FloatBuf dt, int dtOff, FloatBuf dBottom, int dBottomOff) {
        delegate.dotInteractionBackward(rows, vectors, dim, self, t, tOff, dr, drOff, dt, dtOff, dBottom, dBottomOff);
    }

    @Override
    public void embeddingBagForward(int rows, int dim, FloatBuf table, IntBuf indices, IntBuf offsets, int bags, FloatBuf perSampleWeights, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut) {
        delegate.embeddingBagForward(rows, dim, table, indices, offsets, bags, perSampleWeights, pooling, accumulate, out, outOff, ldOut);
    }

    @Override
    public void embeddingBagBackward(int rows, int dim, FloatBuf table, FloatBuf state, IntBuf indices, IntBuf offsets, int bags, FloatBuf perSampleWeights, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        delegate.embeddingBagBackward(rows, dim, table, state, indices, offsets, bags, perSampleWeights, pooling, gradOut, gradOff, ldGrad, opt);
    }

    @Override
    public void ttEmbeddingBagForward(TtShape shape, FloatBuf[] cores, IntBuf indices, IntBuf offsets, int bags, FloatBuf perSampleWeights, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut) {
        delegate.ttEmbeddingBagForward(shape, cores, indices, offsets, bags, perSampleWeights, pooling, accumulate, out, outOff, ldOut);
    }

    @Override
    public void ttEmbeddingBagBackward(TtShape shape, FloatBuf[] cores, FloatBuf[] states, IntBuf indices, IntBuf offsets, int bags, FloatBuf perSampleWeights, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        delegate.ttEmbeddingBagBackward(shape, cores, states, indices, offsets, bags, perSampleWeights, pooling, gradOut, gradOff, ldGrad, opt);
    }

    @Override
    public TtTable newTtTable(String name, TtShape shape) {
        return delegate.newTtTable(name, shape);
    }

    @Override
    public DenseTable newDenseTable(String name, int rows, int dim) {
        return delegate.newDenseTable(name, rows, dim);
    }

    @Override
    public Pending submitTables(int n, IntConsumer task) {
        return delegate.submitTables(n, task);
    }

    @Override
    public ComputeBackend tableBackend() {
        return delegate.tableBackend();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
