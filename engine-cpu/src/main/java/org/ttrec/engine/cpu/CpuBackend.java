package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.ttrec.engine.Checks;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.Pending;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.TtTable;
import org.ttrec.engine.scalar.DotInteraction;
import org.ttrec.engine.scalar.ScalarBackend;

import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The Vector API backend ({@code cpu}): every operation vectorised with {@link FloatVector} of
 * {@link VectorWidth#FLOAT} (plain scalar loops when {@code ttrec.vector.bits=0}), large GEMMs,
 * batched GEMMs and EmbeddingBag split among a {@link WorkerPool} of {@link #threads()}
 * workers.
 *
 * <p>Work is always split statically (fixed contiguous ranges per task, independent of timing)
 * and no value is ever combined across tasks, so results are bit-identical run to run; for
 * GEMM and EmbeddingBag they are also the same for every thread count. Argument checks are
 * those of the scalar reference ({@link Checks}), made before any kernel runs.
 *
 * <p>Rounding versus the reference: elementwise ops, {@code sumRows}, gathers/scatters, the
 * Adagrad update and EmbeddingBag forward/backward perform the same float operations in the
 * same order and match it bit for bit. GEMM uses fma chains (in k blocks of 256 for large
 * products); {@code sum} and {@code dot} add in vector lanes in float
 * over blocks of {@value #BLOCK} elements, then add the lanes (in index order) and blocks in
 * double; {@code sigmoid} and {@code bceLoss} are the reference's scalar loops, because the
 * Vector API's EXP/LOG and reduceLanes round differently before and after JIT compilation, which
 * would break run-to-run determinism. Tests allow tolerances scaled by the reduction length.
 */
public class CpuBackend extends ScalarBackend {
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = VectorWidth.LANES;
    private static final boolean SCALAR = VectorWidth.SCALAR;

    /** Float partial sums of sum/dot/bceLoss span at most this many elements before going to double. */
    static final int BLOCK = 1024;
    /** Multiply-adds below which a GEMM (or a batch of them) stays on the calling thread. */
    static final long PARALLEL_FLOPS = 1L << 20;
    /**
     * Elements per thread below which an elementwise or row-wise call (axpy, scale, relu, Adagrad,
     * bias, column sums and scatters) is not split further. In a 2-thread training step at batch
     * 128 the dense optimiser's one axpy over the Kaggle MLP's 0.48M parameters and the dot
     * interaction's column scatter were the largest serial parts (JFR).
     */
    static final int PARALLEL_ELEMENTS = 1 << 14;
    /** Lookups x dim below which an EmbeddingBag call stays on the calling thread. */
    static final long PARALLEL_LOOKUPS = 1L << 14;

    /** Closes the worker pool of a backend that became unreachable without close(). */
    private static final Cleaner CLEANER = Cleaner.create();

    private final int threads;
    private final WorkerPool pool;
    /** Closes the pool once, from close() or after this backend became unreachable; null without a pool. */
    private final Cleaner.Cleanable poolCloser;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);
    /** The TT-EmbeddingBag kernels of one-shot calls, sharing this backend's pool (tables have their own). */
    private final VectorTtKernels tt;

    /**
     * @param threads kernel threads; 0 = one per available processor, 1 = no pool (exactly reproducible)
     */
    public CpuBackend(int threads) {
        Checks.nonNegative("cpu backend threads", threads);
        this.threads = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        this.pool = this.threads > 1 ? new WorkerPool(this.threads, "ttrec-cpu") : null;
        // the action holds the pool only, not this backend (a ForkJoinPool let idle workers
        // time out; these park until closed, so a backend dropped unclosed must not keep them)
        this.poolCloser = pool == null ? null : CLEANER.register(this, pool::close);
        this.tt = new VectorTtKernels(pool, this.threads, false);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return "cpu: Vector API " + (SCALAR ? "disabled (ttrec.vector.bits=0, scalar loops)"
                : F.vectorBitSize() + "-bit FloatVector (" + L + " lanes), sgemm " + Sgemm.MR + "x" + Sgemm.NV + " vectors")
                + ", " + threads + (threads == 1 ? " thread" : " threads");
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public String toString() {
        return description();
    }

    @Override
    public void close() {
        if (poolCloser != null) {
            poolCloser.clean();
        }
    }

    /** Runs body(0..tasks-1) on the caller and the pool's workers; rethrows the first failure. */
    private void parallel(int tasks, IntConsumer body) {
        if (pool == null) {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
            return;
        }
        pool.run(tasks, body);
    }

    /** An elementwise body over the elements [from, to). */
    @FunctionalInterface
    private interface Range {
        void run(int from, int to);
    }

    /**
     * Runs an elementwise body over [0, n), split among the threads in vector-aligned ranges
     * when n is large enough. Each element gets the same operations whichever range holds it,
     * so the bits do not depend on the split.
     */
    private void elementwise(int n, Range body) {
        inRanges(n, L, n, body);
    }

    /**
     * Runs body over [0, n) in ranges aligned to {@code align}, split among as many threads as
     * give each at least {@link #PARALLEL_ELEMENTS} of the call's {@code work} elements. For bodies
     * whose items (elements, rows, column blocks) are independent: the bits do not depend on the
     * split.
     */
    private void inRanges(int n, int align, long work, Range body) {
        int tasks = pool == null || work < PARALLEL_ELEMENTS ? 1
                : (int) Math.min(Math.min(threads, work / PARALLEL_ELEMENTS), (n + (long) align - 1) / align);
        if (tasks <= 1) {
            body.run(0, n);
            return;
        }
        parallel(tasks, t -> body.run(split(n, tasks, t, align), split(n, tasks, t + 1, align)));
    }

    /** Start of part t of [0, n) split into parts contiguous ranges, aligned to {@code align}. */
    private static int split(int n, int parts, int t, int align) {
        long units = (n + (long) align - 1) / align;
        long u = units * t / parts;
        return (int) Math.min(n, u * align);
    }

    // ------------------------------------------------------------------ GEMM

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     FloatBuf a, int aOff, int lda, FloatBuf b, int bOff, int ldb,
                     float beta, FloatBuf c, int cOff, int ldc) {
        Checks.gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        float[] aa = f(a, "A"), bb = f(b, "B"), cc = f(c, "C");
        long work = (long) m * n * k;
        if (pool == null || work < PARALLEL_FLOPS || !Sgemm.isLarge(m, n, k)) {
            Sgemm.gemm(transA, transB, m, n, k, alpha, aa, aOff, lda, bb, bOff, ldb, beta, cc, cOff, ldc, scratch.get());
            return;
        }
        // Static 1-D split of C along its longer side, on micro-tile boundaries; each part is an
        // independent GEMM (its own packing), so no synchronisation and no cross-task sums. Parts
        // always take the packed path, as the whole product does on one thread: same bits.
        boolean byRows = m >= n;
        int extent = byRows ? m : n;
        int align = byRows ? Sgemm.MR : Sgemm.NR;
        int tasks = Math.min(threads, (extent + align - 1) / align);
        parallel(tasks, t -> {
            int lo = split(extent, tasks, t, align), hi = split(extent, tasks, t + 1, align);
            if (lo >= hi) {
                return;
            }
            Scratch s = scratch.get();
            if (byRows) {
                Sgemm.blocked(transA, transB, hi - lo, n, k, alpha, aa, transA ? aOff + lo : aOff + lo * lda, lda,
                        bb, bOff, ldb, beta, cc, cOff + lo * ldc, ldc, s);
            } else {
                Sgemm.blocked(transA, transB, m, hi - lo, k, alpha, aa, aOff, lda,
                        bb, transB ? bOff + lo * ldb : bOff + lo, ldb, beta, cc, cOff + lo, ldc, s);
            }
        });
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                   FloatBuf a, int aOff, int lda, int strideA,
                                   FloatBuf b, int bOff, int ldb, int strideB,
                                   float beta, FloatBuf c, int cOff, int ldc, int strideC, int batch) {
        Checks.gemmStrided(transA, transB, m, n, k, a, aOff, lda, strideA, b, bOff, ldb, strideB, c, cOff, ldc, strideC, batch);
        float[] aa = f(a, "A"), bb = f(b, "B"), cc = f(c, "C");
        int tasks = batchTasks(m, n, k, batch);
        parallel(tasks, t -> {
            Scratch s = scratch.get();
            for (int x = split(batch, tasks, t, 1), end = split(batch, tasks, t + 1, 1); x < end; x++) {
                Sgemm.gemm(transA, transB, m, n, k, alpha, aa, aOff + x * strideA, lda, bb, bOff + x * strideB, ldb,
                        beta, cc, cOff + x * strideC, ldc, s);
            }
        });
    }

    /**
     * The interaction's forward by {@link DotInteractionKernel} (only the pairs kept, no F x F
     * product).
     */
    @Override
    public void dotInteractionForward(int rows, int vectors, int dim, boolean self, FloatBuf bottom, int bottomOff,
                                      FloatBuf t, int tOff, FloatBuf r, int rOff) {
        int width = DotInteraction.checkForward(rows, vectors, dim, self, bottom, bottomOff, t, tOff, r, rOff);
        float[] bb = f(bottom, "bottom"), tt = f(t, "T"), rr = f(r, "r");
        long work = (long) rows * vectors * vectors * dim;
        int tasks = pool == null || work < PARALLEL_FLOPS ? 1 : Math.min(threads, rows);
        parallel(tasks, task -> DotInteractionKernel.forward(split(rows, tasks, task, 1), split(rows, tasks, task + 1, 1),
                vectors, dim, self, bb, bottomOff, tt, tOff, rr, rOff, width,
                scratch.get().row(DotInteractionKernel.scratchFloats(vectors, dim))));
    }

    /**
     * The interaction's backward by {@link DotInteractionKernel}: each sample's F x F gradient in
     * an L1-sized scratch instead of the reference's zeroed B x F x F matrix and column scatters;
     * the reference's operations in its order, so the same bits.
     */
    @Override
    public void dotInteractionBackward(int rows, int vectors, int dim, boolean self, FloatBuf t, int tOff,
                                       FloatBuf dr, int drOff, FloatBuf dt, int dtOff, FloatBuf dBottom, int dBottomOff) {
        int width = DotInteraction.checkBackward(rows, vectors, dim, self, t, tOff, dr, drOff, dt, dtOff,
                dBottom, dBottomOff);
        float[] tt = f(t, "T"), rr = f(dr, "dR"), dtt = f(dt, "dT"), db = f(dBottom, "dBottom");
        long work = (long) rows * vectors * vectors * dim;
        int tasks = pool == null || work < PARALLEL_FLOPS ? 1 : Math.min(threads, rows);
        parallel(tasks, task -> DotInteractionKernel.backward(split(rows, tasks, task, 1), split(rows, tasks, task + 1, 1),
                vectors, dim, self, tt, tOff, rr, drOff, width, dtt, dtOff, db, dBottomOff,
                scratch.get().row(DotInteractionKernel.backwardScratchFloats(vectors))));
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
        float[] aa = f(a, "A"), bb = f(b, "B"), cc = f(c, "C");
        if (batch == 0) {
            return;
        }
        // shapes, leading dims and the first product
        Checks.gemm(transA, transB, m, n, k, a, ao[listOff], lda, b, bo[listOff], ldb, c, co[listOff], ldc);
        // Per product only the offsets vary: test them with plain arithmetic and let Checks build
        // the message only for a failure (its messages cost a string per call: 65k per TT batch).
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        for (int x = listOff; x < listOff + batch; x++) {
            if (!fits(aa.length, ao[x], aRows, aCols, lda) || !fits(bb.length, bo[x], bRows, bCols, ldb)
                    || !fits(cc.length, co[x], m, n, ldc)) {
                Checks.gemm(transA, transB, m, n, k, a, ao[x], lda, b, bo[x], ldb, c, co[x], ldc);
                throw new IllegalArgumentException("gemm product " + (x - listOff) + " is out of range");
            }
        }
        int tasks = batchTasks(m, n, k, batch);
        parallel(tasks, t -> {
            Scratch s = scratch.get();
            for (int x = listOff + split(batch, tasks, t, 1), end = listOff + split(batch, tasks, t + 1, 1); x < end; x++) {
                Sgemm.gemm(transA, transB, m, n, k, alpha, aa, ao[x], lda, bb, bo[x], ldb, beta, cc, co[x], ldc, s);
            }
        });
    }

    /** Same condition as {@link Checks#matrix} once its shape checks passed. */
    private static boolean fits(int length, int off, int rows, int cols, int ld) {
        if (off < 0) {
            return false;
        }
        return rows == 0 || cols == 0 || off + (long) (rows - 1) * ld + cols <= length;
    }

    private int batchTasks(int m, int n, int k, int batch) {
        long work = (long) m * n * Math.max(k, 1) * batch;
        return pool == null || work < PARALLEL_FLOPS ? 1 : Math.min(threads, batch);
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public void fill(int n, float value, FloatBuf x, int xOff) {
        Checks.region("fill x", x, xOff, n);
        // Arrays.fill is an intrinsic that already emits full-width vector stores.
        Arrays.fill(f(x, "x"), xOff, xOff + n, value);
    }

    @Override
    public void axpy(int n, float alpha, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        Checks.region("axpy x", x, xOff, n);
        Checks.region("axpy y", y, yOff, n);
        float[] xs = f(x, "x"), ys = f(y, "y");
        elementwise(n, (from, to) -> {
            int j = from;
            if (!SCALAR) {
                // mul then add, not fma: the same two roundings as the reference.
                for (; j <= to - L; j += L) {
                    FloatVector.fromArray(F, xs, xOff + j).mul(alpha).add(FloatVector.fromArray(F, ys, yOff + j))
                            .intoArray(ys, yOff + j);
                }
            }
            for (; j < to; j++) {
                ys[yOff + j] += alpha * xs[xOff + j];
            }
        });
    }

    @Override
    public void scale(int n, float alpha, FloatBuf x, int xOff) {
        Checks.region("scale x", x, xOff, n);
        float[] xs = f(x, "x");
        elementwise(n, (from, to) -> {
            int j = from;
            if (!SCALAR) {
                for (; j <= to - L; j += L) {
                    FloatVector.fromArray(F, xs, xOff + j).mul(alpha).intoArray(xs, xOff + j);
                }
            }
            for (; j < to; j++) {
                xs[xOff + j] *= alpha;
            }
        });
    }

    @Override
    public void addBias(int rows, int cols, FloatBuf bias, int biasOff, FloatBuf x, int xOff, int ldx) {
        Checks.region("addBias bias", bias, biasOff, cols);
        Checks.matrix("addBias x", x, xOff, rows, cols, ldx);
        float[] bs = f(bias, "bias"), xs = f(x, "x");
        inRanges(rows, 1, (long) rows * cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int row = xOff + r * ldx;
                int c = 0;
                if (!SCALAR) {
                    for (; c <= cols - L; c += L) {
                        FloatVector.fromArray(F, xs, row + c).add(FloatVector.fromArray(F, bs, biasOff + c))
                                .intoArray(xs, row + c);
                    }
                }
                for (; c < cols; c++) {
                    xs[row + c] += bs[biasOff + c];
                }
            }
        });
    }

    @Override
    public void sumRows(int rows, int cols, FloatBuf x, int xOff, int ldx, float beta, FloatBuf y, int yOff) {
        Checks.matrix("sumRows x", x, xOff, rows, cols, ldx);
        Checks.region("sumRows y", y, yOff, cols);
        float[] xs = f(x, "x"), ys = f(y, "y");
        // split by columns: each column's sum keeps its row order
        inRanges(cols, L, (long) rows * cols, (c0, c1) -> {
            int c = c0;
            if (!SCALAR) {
                // Vectorised across columns, rows added in order: the reference's sums exactly.
                for (; c < c1; c += L) {
                    VectorMask<Float> mask = F.indexInRange(c, c1);
                    FloatVector acc = FloatVector.zero(F);
                    for (int r = 0; r < rows; r++) {
                        acc = acc.add(FloatVector.fromArray(F, xs, xOff + r * ldx + c, mask));
                    }
                    if (beta != 0f) {
                        acc = FloatVector.fromArray(F, ys, yOff + c, mask).mul(beta).add(acc);
                    }
                    acc.intoArray(ys, yOff + c, mask);
                }
            }
            for (; c < c1; c++) {
                float s = 0f;
                for (int r = 0; r < rows; r++) {
                    s += xs[xOff + r * ldx + c];
                }
                ys[yOff + c] = beta == 0f ? s : beta * ys[yOff + c] + s;
            }
        });
    }

    @Override
    public void relu(int n, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        Checks.region("relu x", x, xOff, n);
        Checks.region("relu y", y, yOff, n);
        float[] xs = f(x, "x"), ys = f(y, "y");
        elementwise(n, (from, to) -> {
            int j = from;
            if (!SCALAR) {
                FloatVector zero = FloatVector.zero(F);
                for (; j <= to - L; j += L) {
                    FloatVector v = FloatVector.fromArray(F, xs, xOff + j);
                    // blend on x > 0 rather than max: NaN and -0 become +0 as in the reference.
                    zero.blend(v, v.compare(VectorOperators.GT, 0f)).intoArray(ys, yOff + j);
                }
            }
            for (; j < to; j++) {
                float v = xs[xOff + j];
                ys[yOff + j] = v > 0f ? v : 0f;
            }
        });
    }

    @Override
    public void reluBackward(int n, FloatBuf y, int yOff, FloatBuf dy, int dyOff, FloatBuf dx, int dxOff) {
        Checks.region("reluBackward y", y, yOff, n);
        Checks.region("reluBackward dy", dy, dyOff, n);
        Checks.region("reluBackward dx", dx, dxOff, n);
        float[] ys = f(y, "y"), dys = f(dy, "dy"), dxs = f(dx, "dx");
        elementwise(n, (from, to) -> {
            int j = from;
            if (!SCALAR) {
                FloatVector zero = FloatVector.zero(F);
                for (; j <= to - L; j += L) {
                    VectorMask<Float> pos = FloatVector.fromArray(F, ys, yOff + j).compare(VectorOperators.GT, 0f);
                    zero.blend(FloatVector.fromArray(F, dys, dyOff + j), pos).intoArray(dxs, dxOff + j);
                }
            }
            for (; j < to; j++) {
                dxs[dxOff + j] = ys[yOff + j] > 0f ? dys[dyOff + j] : 0f;
            }
        });
    }

    @Override
    public void sigmoid(int n, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        Checks.region("sigmoid x", x, xOff, n);
        Checks.region("sigmoid y", y, yOff, n);
        float[] xs = f(x, "x"), ys = f(y, "y");
        // Scalar on purpose, as the reference: the vector EXP rounds differently when interpreted
        // and when compiled (SVML), which made results depend on JIT timing; DLRM applies the
        // sigmoid to one logit per sample, so its speed does not matter.
        for (int j = 0; j < n; j++) {
            ys[yOff + j] = (float) (1.0 / (1.0 + Math.exp(-xs[xOff + j])));
        }
    }

    @Override
    public void bceSigmoidBackward(int n, float scale, FloatBuf p, int pOff, FloatBuf labels, int labelsOff,
                                   FloatBuf dz, int dzOff) {
        Checks.region("bceSigmoidBackward p", p, pOff, n);
        Checks.region("bceSigmoidBackward labels", labels, labelsOff, n);
        Checks.region("bceSigmoidBackward dz", dz, dzOff, n);
        float[] ps = f(p, "p"), ls = f(labels, "labels"), ds = f(dz, "dz");
        int j = 0;
        if (!SCALAR) {
            for (; j <= n - L; j += L) {
                FloatVector.fromArray(F, ps, pOff + j).sub(FloatVector.fromArray(F, ls, labelsOff + j)).mul(scale)
                        .intoArray(ds, dzOff + j);
            }
        }
        for (; j < n; j++) {
            ds[dzOff + j] = scale * (ps[pOff + j] - ls[labelsOff + j]);
        }
    }

    @Override
    public void sum(int n, FloatBuf x, int xOff, FloatBuf out, int outOff) {
        Checks.region("sum x", x, xOff, n);
        Checks.region("sum out", out, outOff, 1);
        float[] xs = f(x, "x");
        double s = 0;
        int j = 0;
        if (!SCALAR) {
            float[] lanes = new float[L];
            while (j <= n - 2 * L) {
                // two accumulators hide the add latency; blocks bound the float rounding error
                int end = Math.min(n - 2 * L, j + BLOCK - 2 * L);
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
                for (; j <= end; j += 2 * L) {
                    a0 = a0.add(FloatVector.fromArray(F, xs, xOff + j));
                    a1 = a1.add(FloatVector.fromArray(F, xs, xOff + j + L));
                }
                // Lanes summed in index order: reduceLanes(ADD) may add them in another order
                // once compiled than when interpreted, so results would depend on JIT timing.
                a0.add(a1).intoArray(lanes, 0);
                for (int l = 0; l < L; l++) {
                    s += lanes[l];
                }
            }
        }
        for (; j < n; j++) {
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
        int j = 0;
        if (!SCALAR) {
            float[] lanes = new float[L];
            while (j <= n - 2 * L) {
                int end = Math.min(n - 2 * L, j + BLOCK - 2 * L);
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
                for (; j <= end; j += 2 * L) {
                    a0 = FloatVector.fromArray(F, xs, xOff + j).fma(FloatVector.fromArray(F, ys, yOff + j), a0);
                    a1 = FloatVector.fromArray(F, xs, xOff + j + L).fma(FloatVector.fromArray(F, ys, yOff + j + L), a1);
                }
                // Lanes summed in index order: reduceLanes(ADD) may add them in another order
                // once compiled than when interpreted, so results would depend on JIT timing.
                a0.add(a1).intoArray(lanes, 0);
                for (int l = 0; l < L; l++) {
                    s += lanes[l];
                }
            }
        }
        for (; j < n; j++) {
            s += (double) xs[xOff + j] * ys[yOff + j];
        }
        f(out, "out")[outOff] = (float) s;
    }

    @Override
    public void gatherColumns(int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcLd,
                              FloatBuf dst, int dstOff, int dstLd) {
        checkColumnCopy("gatherColumns", rows, count, cols, src, srcOff, srcLd, srcLd, dst, dstOff, count, dstLd);
        float[] s = f(src, "src"), d = f(dst, "dst");
        int[] cs = i(cols, "cols");
        for (int r = 0; r < rows; r++) {
            int sr = srcOff + r * srcLd, dr = dstOff + r * dstLd;
            int j = 0;
            if (!SCALAR) {
                for (; j <= count - L; j += L) {
                    FloatVector.fromArray(F, s, sr, cs, j).intoArray(d, dr + j);
                }
            }
            for (; j < count; j++) {
                d[dr + j] = s[sr + cs[j]];
            }
        }
    }

    @Override
    public void scatterAddColumns(int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcLd,
                                  FloatBuf dst, int dstOff, int dstLd) {
        checkColumnCopy("scatterAddColumns", rows, count, cols, src, srcOff, count, srcLd, dst, dstOff, dstLd, dstLd);
        float[] s = f(src, "src"), d = f(dst, "dst");
        int[] cs = i(cols, "cols");
        // A vector scatter would lose all but one of repeated columns; those lists take the scalar loop.
        boolean vector = !SCALAR && count >= L && distinct(cs, count, dstLd);
        inRanges(rows, 1, (long) rows * count, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int sr = srcOff + r * srcLd, dr = dstOff + r * dstLd;
                int j = 0;
                if (vector) {
                    for (; j <= count - L; j += L) {
                        FloatVector.fromArray(F, d, dr, cs, j).add(FloatVector.fromArray(F, s, sr + j))
                                .intoArray(d, dr, cs, j);
                    }
                }
                for (; j < count; j++) {
                    d[dr + cs[j]] += s[sr + j];
                }
            }
        });
    }

    /** Whether cs[0..count) holds no value twice (values in [0, range)). */
    private boolean distinct(int[] cs, int count, int range) {
        int[] seen = scratch.get().ints(range);
        Arrays.fill(seen, 0, range, 0);
        for (int j = 0; j < count; j++) {
            if (seen[cs[j]]++ != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void adagradUpdate(int n, float lr, float eps, FloatBuf grad, int gradOff, FloatBuf state, int stateOff,
                              FloatBuf w, int wOff) {
        Checks.region("adagrad grad", grad, gradOff, n);
        Checks.region("adagrad state", state, stateOff, n);
        Checks.region("adagrad w", w, wOff, n);
        float[] g = f(grad, "grad"), s = f(state, "state"), ws = f(w, "w");
        elementwise(n, (from, to) -> adagradRows(to - from, lr, eps, g, gradOff + from, s, stateOff + from, ws,
                wOff + from));
    }

    /** s += g*g; w -= lr*g / (sqrt(s) + eps), in the reference's operation order. */
    private static void adagradRows(int n, float lr, float eps, float[] g, int gOff, float[] s, int sOff,
                                    float[] w, int wOff) {
        int j = 0;
        if (!SCALAR) {
            for (; j <= n - L; j += L) {
                FloatVector gv = FloatVector.fromArray(F, g, gOff + j);
                FloatVector sv = FloatVector.fromArray(F, s, sOff + j).add(gv.mul(gv));
                sv.intoArray(s, sOff + j);
                FloatVector step = gv.mul(lr).div(sv.lanewise(VectorOperators.SQRT).add(eps));
                FloatVector.fromArray(F, w, wOff + j).sub(step).intoArray(w, wOff + j);
            }
        }
        for (; j < n; j++) {
            float gv = g[gOff + j];
            float sv = s[sOff + j] + gv * gv;
            s[sOff + j] = sv;
            w[wOff + j] -= lr * gv / ((float) Math.sqrt(sv) + eps);
        }
    }

    // ------------------------------------------------------------------ EmbeddingBag

    @Override
    public void embeddingBagForward(int rows, int dim, FloatBuf table, IntBuf indices, IntBuf offsets, int bags,
                                    FloatBuf perSampleWeights, Pooling pooling, boolean accumulate,
                                    FloatBuf out, int outOff, int ldOut) {
        checkEmbeddingBag(rows, dim, table, null, null, indices, offsets, bags, perSampleWeights, pooling,
                "out", out, outOff, ldOut);
        float[] t = f(table, "table"), o = f(out, "out");
        float[] w = perSampleWeights == null ? null : f(perSampleWeights, "perSampleWeights");
        int[] idx = i(indices, "indices"), off = i(offsets, "offsets");
        long work = (long) (off[bags] - off[0]) * dim + (long) bags * dim;
        int tasks = pool == null || work < PARALLEL_LOOKUPS ? 1 : Math.min(threads, bags);
        parallel(tasks, task -> bagForward(split(bags, tasks, task, 1), split(bags, tasks, task + 1, 1),
                dim, t, idx, off, w, pooling, accumulate, o, outOff, ldOut));
    }

    /** Pools bags [b0, b1): per column chunk, rows added in lookup order with the reference's mul-then-add. */
    private static void bagForward(int b0, int b1, int dim, float[] t, int[] idx, int[] off, float[] w,
                                   Pooling pooling, boolean accumulate, float[] o, int outOff, int ldOut) {
        for (int b = b0; b < b1; b++) {
            int ob = outOff + b * ldOut;
            int start = off[b], end = off[b + 1];
            int c = 0;
            if (!SCALAR) {
                for (; c <= dim - L; c += L) {
                    FloatVector acc = accumulate ? FloatVector.fromArray(F, o, ob + c) : FloatVector.zero(F);
                    for (int j = start; j < end; j++) {
                        float s = lookupScale(w, j, start, end, pooling);
                        acc = acc.add(FloatVector.fromArray(F, t, idx[j] * dim + c).mul(s));
                    }
                    acc.intoArray(o, ob + c);
                }
                if (c < dim) {
                    VectorMask<Float> mask = F.indexInRange(c, dim);
                    FloatVector acc = accumulate ? FloatVector.fromArray(F, o, ob + c, mask) : FloatVector.zero(F);
                    for (int j = start; j < end; j++) {
                        float s = lookupScale(w, j, start, end, pooling);
                        acc = acc.add(FloatVector.fromArray(F, t, idx[j] * dim + c, mask).mul(s));
                    }
                    acc.intoArray(o, ob + c, mask);
                    c = dim;
                }
            }
            if (c < dim) {
                if (!accumulate) {
                    Arrays.fill(o, ob + c, ob + dim, 0f);
                }
                for (int j = start; j < end; j++) {
                    float s = lookupScale(w, j, start, end, pooling);
                    int rb = idx[j] * dim;
                    for (int cc = c; cc < dim; cc++) {
                        o[ob + cc] += s * t[rb + cc];
                    }
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
        float[] st = state == null ? null : f(state, "state");
        int[] idx = i(indices, "indices"), off = i(offsets, "offsets");
        int from = off[0], count = off[bags] - from;
        if (count == 0) {
            return;
        }
        // Sort lookups by (row, position): each row's contributions are then a contiguous run in
        // lookup order, summed exactly as the reference sums them, and every row belongs to one task.
        Scratch s = scratch.get();
        long[] keys = s.keys(count);
        int[] bagOf = s.ints(count);
        for (int b = 0; b < bags; b++) {
            for (int j = off[b]; j < off[b + 1]; j++) {
                keys[j - from] = ((long) idx[j] << 32) | j;
                bagOf[j - from] = b;
            }
        }
        Arrays.sort(keys, 0, count);
        int[] runs = s.ints2(count + 1);
        int nRuns = 0;
        for (int q = 0; q < count; q++) {
            if (q == 0 || (keys[q] >>> 32) != (keys[q - 1] >>> 32)) {
                runs[nRuns++] = q;
            }
        }
        runs[nRuns] = count;
        final int runCount = nRuns;
        long work = (long) count * dim;
        int tasks = pool == null || work < PARALLEL_LOOKUPS ? 1 : Math.min(threads, runCount);
        parallel(tasks, task -> {
            float[] acc = scratch.get().grad(dim);
            for (int r = split(runCount, tasks, task, 1), end = split(runCount, tasks, task + 1, 1); r < end; r++) {
                int row = (int) (keys[runs[r]] >>> 32);
                Arrays.fill(acc, 0, dim, 0f);
                for (int q = runs[r]; q < runs[r + 1]; q++) {
                    int j = (int) keys[q];
                    int b = bagOf[j - from];
                    float sc = lookupScale(w, j, off[b], off[b + 1], pooling);
                    addScaled(dim, sc, g, gradOff + b * ldGrad, acc);
                }
                updateRow(opt, acc, dim, t, row * dim, st, row);
            }
        });
    }

    /** acc[c] += sc * g[gOff + c] (mul then add, as the reference). */
    private static void addScaled(int dim, float sc, float[] g, int gOff, float[] acc) {
        int c = 0;
        if (!SCALAR) {
            for (; c <= dim - L; c += L) {
                FloatVector.fromArray(F, g, gOff + c).mul(sc).add(FloatVector.fromArray(F, acc, c)).intoArray(acc, c);
            }
        }
        for (; c < dim; c++) {
            acc[c] += sc * g[gOff + c];
        }
    }

    /** The reference's applyRow, vectorised with the same operation order. */
    private static void updateRow(SparseOptimizer opt, float[] g, int len, float[] w, int wOff, float[] state, int row) {
        switch (opt.kind()) {
            case ACCUMULATE -> {
                int c = 0;
                if (!SCALAR) {
                    for (; c <= len - L; c += L) {
                        FloatVector.fromArray(F, state, wOff + c).add(FloatVector.fromArray(F, g, c)).intoArray(state, wOff + c);
                    }
                }
                for (; c < len; c++) {
                    state[wOff + c] += g[c];
                }
            }
            case SGD -> subScaled(len, opt.lr(), g, w, wOff);
            case ADAGRAD -> adagradRows(len, opt.lr(), opt.eps(), g, 0, state, wOff, w, wOff);
            case ROWWISE_ADAGRAD -> {
                // The row's sum of squares stays sequential (D is small) so it rounds as the reference.
                float sq = 0f;
                for (int c = 0; c < len; c++) {
                    sq += g[c] * g[c];
                }
                float sv = state[row] + sq / len;
                state[row] = sv;
                subScaled(len, opt.lr() / ((float) Math.sqrt(sv) + opt.eps()), g, w, wOff);
            }
        }
    }

    /** w[wOff + c] -= step * g[c]. */
    private static void subScaled(int len, float step, float[] g, float[] w, int wOff) {
        int c = 0;
        if (!SCALAR) {
            for (; c <= len - L; c += L) {
                FloatVector.fromArray(F, w, wOff + c).sub(FloatVector.fromArray(F, g, c).mul(step)).intoArray(w, wOff + c);
            }
        }
        for (; c < len; c++) {
            w[wOff + c] -= step * g[c];
        }
    }

    // ------------------------------------------------------------------ TT-EmbeddingBag

    /** One-shot forward on the shared kernels (tables use kernels of their own: {@link CpuTtTable}). */
    @Override
    public void ttEmbeddingBagForward(TtShape shape, FloatBuf[] cores, IntBuf indices, IntBuf offsets, int bags,
                                      FloatBuf perSampleWeights, Pooling pooling, boolean accumulate,
                                      FloatBuf out, int outOff, int ldOut) {
        checkTt(shape, cores, null, indices, offsets, bags, perSampleWeights, pooling, null, "out", out, outOff, ldOut);
        synchronized (tt) {
            tt.prepare(shape, i(indices, "indices"), i(offsets, "offsets"), bags);
            tt.forward(arrays(cores, "TT core"), perSampleWeights == null ? null : f(perSampleWeights, "perSampleWeights"),
                    pooling, accumulate, f(out, "out"), outOff, ldOut);
        }
    }

    /** One-shot backward on the shared kernels. */
    @Override
    public void ttEmbeddingBagBackward(TtShape shape, FloatBuf[] cores, FloatBuf[] states, IntBuf indices,
                                       IntBuf offsets, int bags, FloatBuf perSampleWeights, Pooling pooling,
                                       FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        Checks.notNull("optimizer", opt);
        checkTt(shape, cores, states, indices, offsets, bags, perSampleWeights, pooling, opt, "gradOut",
                gradOut, gradOff, ldGrad);
        synchronized (tt) {
            tt.prepare(shape, i(indices, "indices"), i(offsets, "offsets"), bags);
            tt.backward(arrays(cores, "TT core"), opt.kind() == SparseOptimizer.Kind.SGD ? null : arrays(states, "TT state"),
                    perSampleWeights == null ? null : f(perSampleWeights, "perSampleWeights"), pooling,
                    f(gradOut, "gradOut"), gradOff, ldGrad, opt);
        }
    }

    // ------------------------------------------------------------------ embedding tables

    /** A table with TT kernels of its own on this backend's threads: it keeps a batch's sort and the forward's products. */
    @Override
    public TtTable newTtTable(String name, TtShape shape) {
        return new CpuTtTable(this, name, shape, pool, threads);
    }

    /**
     * Tasks on this backend's pool and the caller, before returning. Tables own their
     * TT kernels and the other calls keep their scratch per thread, so calls on different tables
     * may overlap; each call splits its own work by a partition count that does not depend on
     * which thread runs it, so results are those of the tables run one after another. The
     * failure of the lowest index is thrown here once every task has ended.
     */
    @Override
    public Pending submitTables(int n, IntConsumer task) {
        Checks.nonNegative("submitTables n", n);
        if (pool == null || n <= 1 || !CONCURRENT_TABLES) {
            return super.submitTables(n, task);
        }
        // one runner per thread (the caller is one), each taking the next table not yet taken:
        // a few tables (the TT ones) carry most of the work, so a static split would idle
        AtomicInteger next = new AtomicInteger();
        RuntimeException[] failed = new RuntimeException[n];
        parallel(Math.min(threads, n), r -> {
            for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                try {
                    task.accept(i);
                } catch (RuntimeException e) {
                    failed[i] = e;
                }
            }
        });
        for (RuntimeException e : failed) {
            if (e != null) {
                throw e;
            }
        }
        return Pending.DONE;
    }

    /** {@code ttrec.cpu.concurrentTables=false} runs tables one after another (A/B runs). */
    static final boolean CONCURRENT_TABLES = Boolean.parseBoolean(System.getProperty("ttrec.cpu.concurrentTables",
            "true"));
}
