package org.ttrec.engine.scalar;

import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.HeapFloatBuf;
import org.ttrec.engine.HeapIntBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.TtTable;
import org.ttrec.engine.DenseTable;
import org.ttrec.engine.Pending;
import org.ttrec.engine.table.BufferDenseTable;
import org.ttrec.engine.table.BufferTtTable;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntConsumer;

/**
 * The scalar reference backend: plain single-threaded loops written for obviousness, not speed.
 * Every other backend is tested against it. Its results define the contract: where another
 * backend sums in a different order, tests allow a tolerance scaled by the reduction length.
 */
public class ScalarBackend implements ComputeBackend {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public String description() {
        return "scalar reference (plain Java loops, 1 thread)";
    }

    @Override
    public int threads() {
        return 1;
    }

    /** Buffers this backend has created (see {@link #buffersCreated()}). */
    private final java.util.concurrent.atomic.AtomicLong buffers = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Buffers created so far by {@link #allocFloats}, {@link #allocInts} and {@link #upload},
     * whoever asked: the model, a table or a plan of this backend. Tests check that a steady
     * training step creates none.
     *
     * @return the count
     */
    public long buffersCreated() {
        return buffers.get();
    }

    @Override
    public FloatBuf allocFloats(int n) {
        Checks.nonNegative("allocFloats n", n);
        buffers.incrementAndGet();
        return new HeapFloatBuf(new float[n]);
    }

    @Override
    public IntBuf allocInts(int n) {
        Checks.nonNegative("allocInts n", n);
        buffers.incrementAndGet();
        return new HeapIntBuf(new int[n]);
    }

    @Override
    public FloatBuf upload(float[] data) {
        Checks.notNull("upload data", data);
        buffers.incrementAndGet();
        return new HeapFloatBuf(data.clone());
    }

    @Override
    public IntBuf upload(int[] data) {
        Checks.notNull("upload data", data);
        buffers.incrementAndGet();
        return new HeapIntBuf(data.clone());
    }

    /**
     * The free part of the JVM heap: nine tenths of its maximum (a tenth stays for the JVM's own
     * use and the data pipeline) less what is in use now.
     */
    @Override
    public long memoryAvailable() {
        Runtime rt = Runtime.getRuntime();
        return (long) (rt.maxMemory() * 0.9) - (rt.totalMemory() - rt.freeMemory());
    }

    protected static float[] f(FloatBuf b, String name) {
        return HeapFloatBuf.array(b, name);
    }

    protected static int[] i(IntBuf b, String name) {
        return HeapIntBuf.array(b, name);
    }

    // ------------------------------------------------------------------ GEMM

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     FloatBuf a, int aOff, int lda, FloatBuf b, int bOff, int ldb,
                     float beta, FloatBuf c, int cOff, int ldc) {
        Checks.gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        gemmKernel(transA, transB, m, n, k, alpha, f(a, "A"), aOff, lda, f(b, "B"), bOff, ldb, beta, f(c, "C"), cOff, ldc);
    }

    /** The reference product; accumulates each dot product in float, in k order. */
    static void gemmKernel(boolean transA, boolean transB, int m, int n, int k, float alpha,
                           float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                           float beta, float[] c, int cOff, int ldc) {
        for (int r = 0; r < m; r++) {
            for (int col = 0; col < n; col++) {
                float s = 0f;
                for (int t = 0; t < k; t++) {
                    float av = transA ? a[aOff + t * lda + r] : a[aOff + r * lda + t];
                    float bv = transB ? b[bOff + col * ldb + t] : b[bOff + t * ldb + col];
                    s += av * bv;
                }
                int ci = cOff + r * ldc + col;
                c[ci] = beta == 0f ? alpha * s : alpha * s + beta * c[ci];
            }
        }
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                   FloatBuf a, int aOff, int lda, int strideA,
                                   FloatBuf b, int bOff, int ldb, int strideB,
                                   float beta, FloatBuf c, int cOff, int ldc, int strideC, int batch) {
        Checks.gemmStrided(transA, transB, m, n, k, a, aOff, lda, strideA, b, bOff, ldb, strideB, c, cOff, ldc, strideC, batch);
        float[] aa = f(a, "A"), bb = f(b, "B"), cc = f(c, "C");
        for (int x = 0; x < batch; x++) {
            gemmKernel(transA, transB, m, n, k, alpha, aa, aOff + x * strideA, lda, bb, bOff + x * strideB, ldb,
                    beta, cc, cOff + x * strideC, ldc);
        }
    }

    @Override
    public void gemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            FloatBuf a, IntBuf aOffsets, int lda, FloatBuf b, IntBuf bOffsets, int ldb,
                            float beta, FloatBuf c, IntBuf cOffsets, int ldc, int listOff, int batch) {
        Checks.nonNegative("gemm batch", batch);
        Checks.region("gemm aOffsets", aOffsets, listOff, batch);
        Checks.region("gemm bOffsets", bOffsets, listOff, batch);
        Checks.region("gemm cOffsets", cOffsets, listOff, batch);
        int[] ao = i(aOffsets, "aOffsets"), bo = i(bOffsets, "bOffsets"), co = i(cOffsets, "cOffsets");
        for (int x = listOff; x < listOff + batch; x++) {
            Checks.gemm(transA, transB, m, n, k, a, ao[x], lda, b, bo[x], ldb, c, co[x], ldc);
        }
        float[] aa = f(a, "A"), bb = f(b, "B"), cc = f(c, "C");
        for (int x = listOff; x < listOff + batch; x++) {
            gemmKernel(transA, transB, m, n, k, alpha, aa, ao[x], lda, bb, bo[x], ldb, beta, cc, co[x], ldc);
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void fill(int n, float value, FloatBuf x, int xOff) {
        Checks.region("fill x", x, xOff, n);
        java.util.Arrays.fill(f(x, "x"), xOff, xOff + n, value);
    }

    @Override
    public void copy(int n, FloatBuf src, int srcOff, FloatBuf dst, int dstOff) {
        Checks.region("copy src", src, srcOff, n);
        Checks.region("copy dst", dst, dstOff, n);
        System.arraycopy(f(src, "src"), srcOff, f(dst, "dst"), dstOff, n);
    }

    @Override
    public void copy2d(int rows, int cols, FloatBuf src, int srcOff, int srcLd, FloatBuf dst, int dstOff, int dstLd) {
        Checks.matrix("copy2d src", src, srcOff, rows, cols, srcLd);
        Checks.matrix("copy2d dst", dst, dstOff, rows, cols, dstLd);
        float[] s = f(src, "src"), d = f(dst, "dst");
        for (int r = 0; r < rows; r++) {
            System.arraycopy(s, srcOff + r * srcLd, d, dstOff + r * dstLd, cols);
        }
    }

    @Override
    public void axpy(int n, float alpha, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        Checks.region("axpy x", x, xOff, n);
        Checks.region("axpy y", y, yOff, n);
        float[] xs = f(x, "x"), ys = f(y, "y");
        for (int j = 0; j < n; j++) {
            ys[yOff + j] += alpha * xs[xOff + j];
        }
    }

    @Override
    public void scale(int n, float alpha, FloatBuf x, int xOff) {
        Checks.region("scale x", x, xOff, n);
        float[] xs = f(x, "x");
        for (int j = 0; j < n; j++) {
            xs[xOff + j] *= alpha;
        }
    }

    @Override
    public void addBias(int rows, int cols, FloatBuf bias, int biasOff, FloatBuf x, int xOff, int ldx) {
        Checks.region("addBias bias", bias, biasOff, cols);
        Checks.matrix("addBias x", x, xOff, rows, cols, ldx);
        float[] bs = f(bias, "bias"), xs = f(x, "x");
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                xs[xOff + r * ldx + c] += bs[biasOff + c];
            }
        }
    }

    @Override
    public void sumRows(int rows, int cols, FloatBuf x, int xOff, int ldx, float beta, FloatBuf y, int yOff) {
        Checks.matrix("sumRows x", x, xOff, rows, cols, ldx);
        Checks.region("sumRows y", y, yOff, cols);
        float[] xs = f(x, "x"), ys = f(y, "y");
        for (int c = 0; c < cols; c++) {
            float s = 0f;
            for (int r = 0; r < rows; r++) {
                s += xs[xOff + r * ldx + c];
            }
            ys[yOff + c] = beta == 0f ? s : beta * ys[yOff + c] + s;
        }
    }

    @Override
    public void relu(int n, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        Checks.region("relu x", x, xOff, n);
        Checks.region("relu y", y, yOff, n);
        float[] xs = f(x, "x"), ys = f(y, "y");
        for (int j = 0; j < n; j++) {
            float v = xs[xOff + j];
            ys[yOff + j] = v > 0f ? v : 0f;
        }
    }

    @Override
    public void reluBackward(int n, FloatBuf y, int yOff, FloatBuf dy, int dyOff, FloatBuf dx, int dxOff) {
        Checks.region("reluBackward y", y, yOff, n);
        Checks.region("reluBackward dy", dy, dyOff, n);
        Checks.region("reluBackward dx", dx, dxOff, n);
        float[] ys = f(y, "y"), dys = f(dy, "dy"), dxs = f(dx, "dx");
        for (int j = 0; j < n; j++) {
            dxs[dxOff + j] = ys[yOff + j] > 0f ? dys[dyOff + j] : 0f;
        }
    }

    @Override
    public void sigmoid(int n, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        Checks.region("sigmoid x", x, xOff, n);
        Checks.region("sigmoid y", y, yOff, n);
        float[] xs = f(x, "x"), ys = f(y, "y");
        for (int j = 0; j < n; j++) {
            ys[yOff + j] = (float) (1.0 / (1.0 + Math.exp(-xs[xOff + j])));
        }
    }

    /** Clamp applied to probabilities before taking logs. */
    public static final float BCE_EPS = 1e-7f;

    @Override
    public void bceLoss(int n, FloatBuf p, int pOff, FloatBuf labels, int labelsOff, FloatBuf out, int outOff) {
        Checks.region("bceLoss p", p, pOff, n);
        Checks.region("bceLoss labels", labels, labelsOff, n);
        Checks.region("bceLoss out", out, outOff, 1);
        f(out, "out")[outOff] = (float) bce(n, f(p, "p"), pOff, f(labels, "labels"), labelsOff);
    }

    /** The mean clamped BCE in double (0 for n = 0). */
    protected static double bce(int n, float[] ps, int pOff, float[] ls, int labelsOff) {
        if (n == 0) {
            return 0;
        }
        double s = 0;
        for (int j = 0; j < n; j++) {
            double pv = Math.min(Math.max(ps[pOff + j], BCE_EPS), 1f - BCE_EPS);
            double y = ls[labelsOff + j];
            s -= y * Math.log(pv) + (1 - y) * Math.log(1 - pv);
        }
        return s / n;
    }

    @Override
    public void bceSigmoidBackward(int n, float scale, FloatBuf p, int pOff, FloatBuf labels, int labelsOff,
                                   FloatBuf dz, int dzOff) {
        Checks.region("bceSigmoidBackward p", p, pOff, n);
        Checks.region("bceSigmoidBackward labels", labels, labelsOff, n);
        Checks.region("bceSigmoidBackward dz", dz, dzOff, n);
        float[] ps = f(p, "p"), ls = f(labels, "labels"), ds = f(dz, "dz");
        for (int j = 0; j < n; j++) {
            ds[dzOff + j] = scale * (ps[pOff + j] - ls[labelsOff + j]);
        }
    }

    @Override
    public void sum(int n, FloatBuf x, int xOff, FloatBuf out, int outOff) {
        Checks.region("sum x", x, xOff, n);
        Checks.region("sum out", out, outOff, 1);
        float[] xs = f(x, "x");
        double s = 0;
        for (int j = 0; j < n; j++) {
            s += xs[xOff + j];
        }
        f(out, "out")[outOff] = (float) s;
    }

    @Override
    public void dot(int n, FloatBuf x, int xOff, FloatBuf y, int yOff, FloatBuf out, int outOff) {
        Checks.region("dot x", x, xOff, n);
        Checks.region("dot y", y, yOff, n);
        Checks.region("dot out", out, outOff, 1);
        float[] xs = f(x, "x"), ys = f(y, "y");
        double s = 0;
        for (int j = 0; j < n; j++) {
            s += (double) xs[xOff + j] * ys[yOff + j];
        }
        f(out, "out")[outOff] = (float) s;
    }

    /** Tag of the first non-finite check, or -1: the backend-kept flag of {@link #checkFinite}. */
    private final java.util.concurrent.atomic.AtomicLong nonFinite = new java.util.concurrent.atomic.AtomicLong(-1);

    @Override
    public void checkFinite(int n, FloatBuf x, int xOff, long tag) {
        Checks.region("checkFinite x", x, xOff, n);
        if (tag < 0) {
            throw new IllegalArgumentException("checkFinite tag must be >= 0, got " + tag);
        }
        float[] xs = f(x, "x");
        for (int j = 0; j < n; j++) {
            if (!Float.isFinite(xs[xOff + j])) {
                nonFinite.compareAndSet(-1, tag);
                return;
            }
        }
    }

    @Override
    public long firstNonFinite() {
        return nonFinite.get();
    }

    @Override
    public void clearNonFinite() {
        nonFinite.set(-1);
    }

    /** Checks a column list against the source width. */
    protected static void checkColumns(int count, IntBuf cols, int srcCols, String what) {
        Checks.region(what, " cols", cols, 0, count);
        int[] cs = i(cols, "cols");
        for (int j = 0; j < count; j++) {
            if (cs[j] < 0 || cs[j] >= srcCols) {
                throw new IllegalArgumentException(what + ": column " + cs[j] + " at position " + j
                        + " is out of range [0, " + srcCols + ")");
            }
        }
    }

    /**
     * Checks gatherColumns/scatterAddColumns: the column list against the width it indexes
     * ({@code srcCols} for a gather, {@code dstCols} for a scatter), then both matrices.
     */
    protected static void checkColumnCopy(String what, int rows, int count, IntBuf cols,
                                          FloatBuf src, int srcOff, int srcCols, int srcLd,
                                          FloatBuf dst, int dstOff, int dstCols, int dstLd) {
        Checks.nonNegative(what, " rows", rows);
        Checks.nonNegative(what, " count", count);
        checkColumns(count, cols, what.startsWith("gather") ? srcLd : dstLd, what);
        Checks.matrix(what, " src", src, srcOff, rows, srcCols, srcLd);
        Checks.matrix(what, " dst", dst, dstOff, rows, dstCols, dstLd);
    }

    @Override
    public void gatherColumns(int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcLd,
                              FloatBuf dst, int dstOff, int dstLd) {
        checkColumnCopy("gatherColumns", rows, count, cols, src, srcOff, srcLd, srcLd, dst, dstOff, count, dstLd);
        float[] s = f(src, "src"), d = f(dst, "dst");
        int[] cs = i(cols, "cols");
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < count; j++) {
                d[dstOff + r * dstLd + j] = s[srcOff + r * srcLd + cs[j]];
            }
        }
    }

    @Override
    public void scatterAddColumns(int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcLd,
                                  FloatBuf dst, int dstOff, int dstLd) {
        checkColumnCopy("scatterAddColumns", rows, count, cols, src, srcOff, count, srcLd, dst, dstOff, dstLd, dstLd);
        float[] s = f(src, "src"), d = f(dst, "dst");
        int[] cs = i(cols, "cols");
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < count; j++) {
                d[dstOff + r * dstLd + cs[j]] += s[srcOff + r * srcLd + j];
            }
        }
    }

    @Override
    public void adagradUpdate(int n, float lr, float eps, FloatBuf grad, int gradOff, FloatBuf state, int stateOff,
                              FloatBuf w, int wOff) {
        Checks.region("adagrad grad", grad, gradOff, n);
        Checks.region("adagrad state", state, stateOff, n);
        Checks.region("adagrad w", w, wOff, n);
        float[] g = f(grad, "grad"), s = f(state, "state"), ws = f(w, "w");
        for (int j = 0; j < n; j++) {
            float gv = g[gradOff + j];
            float sv = s[stateOff + j] + gv * gv;
            s[stateOff + j] = sv;
            ws[wOff + j] -= lr * gv / ((float) Math.sqrt(sv) + eps);
        }
    }

    // ------------------------------------------------------------------ layers (by composition)

    /** The composition the interface names as the reference: {@link #gemm}, {@link #addBias}, {@link #relu}. */
    @Override
    public void linearForward(int rows, int in, int out, FloatBuf x, int xOff, FloatBuf w, int wOff,
                              FloatBuf bias, int biasOff, boolean relu, FloatBuf y, int yOff) {
        Linear.checkForward(rows, in, out, x, xOff, w, wOff, bias, biasOff, y, yOff);
        gemm(false, true, rows, out, in, 1f, x, xOff, in, w, wOff, in, 0f, y, yOff, out);
        addBias(rows, out, bias, biasOff, y, yOff, out);
        if (relu) {
            relu(rows * out, y, yOff, y, yOff);
        }
    }

    /** The composition the interface names as the reference: {@link #reluBackward}, {@link #gemm}, {@link #sumRows}, {@link #gemm}. */
    @Override
    public void linearBackward(int rows, int in, int out, FloatBuf x, int xOff, FloatBuf w, int wOff,
                               boolean relu, FloatBuf y, int yOff, FloatBuf dy, int dyOff,
                               FloatBuf dw, int dwOff, FloatBuf dbias, int dbiasOff, FloatBuf dx, int dxOff) {
        Linear.backward(this, rows, in, out, x, xOff, w, wOff, relu, y, yOff, dy, dyOff, dw, dwOff, dbias, dbiasOff, dx, dxOff);
    }

    /** Pair column lists of the dot interaction and its Z scratch (see {@link DotInteraction}). */
    private final DotInteraction dotInteraction = new DotInteraction(this);

    @Override
    public void dotInteractionForward(int rows, int vectors, int dim, boolean self, FloatBuf bottom, int bottomOff,
                                      FloatBuf t, int tOff, FloatBuf r, int rOff) {
        dotInteraction.forward(rows, vectors, dim, self, bottom, bottomOff, t, tOff, r, rOff);
    }

    @Override
    public void dotInteractionBackward(int rows, int vectors, int dim, boolean self, FloatBuf t, int tOff,
                                       FloatBuf dr, int drOff, FloatBuf dt, int dtOff, FloatBuf dBottom, int dBottomOff) {
        dotInteraction.backward(rows, vectors, dim, self, t, tOff, dr, drOff, dt, dtOff, dBottom, dBottomOff);
    }

    // ------------------------------------------------------------------ EmbeddingBag

    /**
     * Checks the bag structure (shared by the uncompressed and TT kernels) and returns the
     * host arrays of indices and offsets.
     */
    protected static void checkBags(String what, int rows, IntBuf indices, IntBuf offsets, int bags,
                                    FloatBuf perSampleWeights) {
        Checks.notNull(what, " indices", indices);
        Checks.notNull(what, " offsets", offsets);
        int[] idx = i(indices, "indices");
        int[] off = i(offsets, "offsets");
        Checks.csr(what, off, bags, idx.length);
        Checks.indices(what, idx, off[0], off[bags], rows);
        if (perSampleWeights != null) {
            Checks.region(what, " per-sample weights", perSampleWeights, 0, off[bags]);
        }
    }

    /**
     * Checks an EmbeddingBag call of either direction: table, optimiser state (backward only,
     * {@code opt} non-null), bag structure and the output or gradient matrix.
     */
    protected static void checkEmbeddingBag(int rows, int dim, FloatBuf table, FloatBuf state, SparseOptimizer opt,
                                            IntBuf indices, IntBuf offsets, int bags, FloatBuf perSampleWeights,
                                            Pooling pooling, String matName, FloatBuf mat, int matOff, int ld) {
        Checks.positive("embeddingBag rows", rows);
        Checks.positive("embeddingBag dim", dim);
        Checks.notNull("pooling", pooling);
        Checks.region("embeddingBag table", table, 0, (long) rows * dim);
        if (opt != null) {
            Checks.embeddingState(rows, dim, state, opt);
        }
        checkBags("embeddingBag", rows, indices, offsets, bags, perSampleWeights);
        Checks.matrix("embeddingBag ", matName, mat, matOff, bags, dim, ld);
    }

    /** The factor lookup j of a bag [start, end) contributes with. */
    protected static float lookupScale(float[] w, int j, int start, int end, Pooling pooling) {
        float s = w == null ? 1f : w[j];
        return pooling == Pooling.MEAN ? s / (end - start) : s;
    }

    @Override
    public void embeddingBagForward(int rows, int dim, FloatBuf table, IntBuf indices, IntBuf offsets, int bags,
                                    FloatBuf perSampleWeights, Pooling pooling, boolean accumulate,
                                    FloatBuf out, int outOff, int ldOut) {
        checkEmbeddingBag(rows, dim, table, null, null, indices, offsets, bags, perSampleWeights, pooling,
                "out", out, outOff, ldOut);
        float[] t = f(table, "table"), o = f(out, "out");
        float[] w = perSampleWeights == null ? null : f(perSampleWeights, "perSampleWeights");
        int[] idx = i(indices, "indices"), off = i(offsets, "offsets");
        for (int b = 0; b < bags; b++) {
            int ob = outOff + b * ldOut;
            if (!accumulate) {
                java.util.Arrays.fill(o, ob, ob + dim, 0f);
            }
            for (int j = off[b]; j < off[b + 1]; j++) {
                float s = lookupScale(w, j, off[b], off[b + 1], pooling);
                int rb = idx[j] * dim;
                for (int c = 0; c < dim; c++) {
                    o[ob + c] += s * t[rb + c];
                }
            }
        }
    }

    @Override
    public void embeddingBagBackward(int rows, int dim, FloatBuf table, FloatBuf state, IntBuf indices, IntBuf offsets,
                                     int bags, FloatBuf perSampleWeights, Pooling pooling,
                                     FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        Checks.notNull("optimizer", opt);
        checkEmbeddingBag(rows, dim, table, state, opt, indices, offsets, bags, perSampleWeights, pooling,
                "gradOut", gradOut, gradOff, ldGrad);
        float[] t = f(table, "table"), g = f(gradOut, "gradOut");
        float[] w = perSampleWeights == null ? null : f(perSampleWeights, "perSampleWeights");
        int[] idx = i(indices, "indices"), off = i(offsets, "offsets");
        // Sum per row in lookup order (the order other backends must match up to rounding).
        Map<Integer, float[]> rowGrad = new TreeMap<>();
        for (int b = 0; b < bags; b++) {
            for (int j = off[b]; j < off[b + 1]; j++) {
                float s = lookupScale(w, j, off[b], off[b + 1], pooling);
                float[] acc = rowGrad.computeIfAbsent(idx[j], r -> new float[dim]);
                for (int c = 0; c < dim; c++) {
                    acc[c] += s * g[gradOff + b * ldGrad + c];
                }
            }
        }
        float[] st = state == null ? null : f(state, "state");
        for (Map.Entry<Integer, float[]> e : rowGrad.entrySet()) {
            applyRow(opt, e.getValue(), 0, dim, t, e.getKey() * dim, st, e.getKey());
        }
    }

    /**
     * Applies {@code opt} to one row of {@code len} weights at {@code wOff} with summed gradient
     * {@code g[gOff..]}; {@code stateRow} is the row number used by ROWWISE_ADAGRAD (elementwise
     * states sit at the weight offset).
     */
    protected static void applyRow(SparseOptimizer opt, float[] g, int gOff, int len, float[] w, int wOff,
                                   float[] state, int stateRow) {
        switch (opt.kind()) {
            case ACCUMULATE -> {
                for (int c = 0; c < len; c++) {
                    state[wOff + c] += g[gOff + c];
                }
            }
            case SGD -> {
                for (int c = 0; c < len; c++) {
                    w[wOff + c] -= opt.lr() * g[gOff + c];
                }
            }
            case ADAGRAD -> {
                for (int c = 0; c < len; c++) {
                    float gv = g[gOff + c];
                    float sv = state[wOff + c] + gv * gv;
                    state[wOff + c] = sv;
                    w[wOff + c] -= opt.lr() * gv / ((float) Math.sqrt(sv) + opt.eps());
                }
            }
            case ROWWISE_ADAGRAD -> {
                float sq = 0f;
                for (int c = 0; c < len; c++) {
                    sq += g[gOff + c] * g[gOff + c];
                }
                float sv = state[stateRow] + sq / len;
                state[stateRow] = sv;
                float step = opt.lr() / ((float) Math.sqrt(sv) + opt.eps());
                for (int c = 0; c < len; c++) {
                    w[wOff + c] -= step * g[gOff + c];
                }
            }
        }
    }

    // ------------------------------------------------------------------ TT-EmbeddingBag

    /** Host arrays of the cores (or states), or null for a null array. */
    protected static float[][] arrays(FloatBuf[] bufs, String name) {
        if (bufs == null) {
            return null;
        }
        float[][] a = new float[bufs.length][];
        for (int k = 0; k < bufs.length; k++) {
            a[k] = bufs[k] == null ? null : f(bufs[k], name + " " + k);
        }
        return a;
    }

    /**
     * Checks every operand of a TT-EmbeddingBag call (shape, cores, states for {@code opt}, bags,
     * indices against N, weights, the output or gradient matrix) before any kernel runs.
     *
     * @param opt      the optimiser of a backward call, or null for a forward call
     * @param matName  "out" or "gradOut"
     */
    protected static void checkTt(TtShape shape, FloatBuf[] cores, FloatBuf[] states, IntBuf indices, IntBuf offsets,
                                  int bags, FloatBuf perSampleWeights, Pooling pooling, SparseOptimizer opt,
                                  String matName, FloatBuf mat, int matOff, int ld) {
        Checks.ttCores(shape, cores, states, opt);
        Checks.notNull("pooling", pooling);
        checkBags("TT-EmbeddingBag", shape.rows(), indices, offsets, bags, perSampleWeights);
        Checks.matrix("TT-EmbeddingBag ", matName, mat, matOff, bags, shape.dim(), ld);
    }

    @Override
    public void ttEmbeddingBagForward(TtShape shape, FloatBuf[] cores, IntBuf indices, IntBuf offsets, int bags,
                                      FloatBuf perSampleWeights, Pooling pooling, boolean accumulate,
                                      FloatBuf out, int outOff, int ldOut) {
        checkTt(shape, cores, null, indices, offsets, bags, perSampleWeights, pooling, null, "out", out, outOff, ldOut);
        ScalarTt.forward(shape, arrays(cores, "TT core"), i(indices, "indices"), i(offsets, "offsets"), bags,
                perSampleWeights == null ? null : f(perSampleWeights, "perSampleWeights"), pooling, accumulate,
                f(out, "out"), outOff, ldOut);
    }

    @Override
    public void ttEmbeddingBagBackward(TtShape shape, FloatBuf[] cores, FloatBuf[] states, IntBuf indices,
                                       IntBuf offsets, int bags, FloatBuf perSampleWeights, Pooling pooling,
                                       FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        Checks.notNull("optimizer", opt);
        checkTt(shape, cores, states, indices, offsets, bags, perSampleWeights, pooling, opt, "gradOut",
                gradOut, gradOff, ldGrad);
        ScalarTt.backward(shape, arrays(cores, "TT core"),
                opt.kind() == SparseOptimizer.Kind.SGD ? null : arrays(states, "TT state"),
                i(indices, "indices"), i(offsets, "offsets"), bags,
                perSampleWeights == null ? null : f(perSampleWeights, "perSampleWeights"), pooling,
                f(gradOut, "gradOut"), gradOff, ldGrad, opt);
    }

    // ------------------------------------------------------------------ embedding tables

    @Override
    public TtTable newTtTable(String name, TtShape shape) {
        return new BufferTtTable(this, name, shape);
    }

    @Override
    public DenseTable newDenseTable(String name, int rows, int dim) {
        return new BufferDenseTable(this, name, rows, dim);
    }

    /**
     * Runs the tasks one after another in index order, before returning; the first failure ends
     * the loop and is thrown here.
     */
    @Override
    public Pending submitTables(int n, IntConsumer task) {
        Checks.nonNegative("submitTables n", n);
        for (int i = 0; i < n; i++) {
            task.accept(i);
        }
        return Pending.DONE;
    }
}
