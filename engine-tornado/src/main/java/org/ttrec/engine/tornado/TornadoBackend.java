package org.ttrec.engine.tornado;

import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.DenseTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pending;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.TtTable;
import org.ttrec.engine.scalar.DotInteraction;
import org.ttrec.engine.scalar.Linear;
import org.ttrec.engine.tornado.kernels.Gemm;
import org.ttrec.engine.tornado.kernels.Reduce;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

/**
 * The TornadoVM backend: every call is checked on the host, then recorded into its device's
 * trace (see {@link Device}); the trace runs as one compiled program when the host needs a
 * result. Parameters, optimiser state, TT cores and activations stay in device memory; the host
 * sends staged writes (batches) and reads back only what it reads.
 *
 * <p>Bit-exact with the scalar reference where the conformance suite asks for it (elementwise
 * ops, sumRows, gathers, Adagrad, EmbeddingBag): the kernels compute as the reference's loops,
 * and the JVM runs with {@code -Dtornado.enable.fma=False -Dtornado.enable.nativeFunctions=False}
 * (no contraction into fma, correctly rounded sqrt) while programs are built with
 * {@link Heaps#COMPILER_FLAGS}. Results are the same bits run after run: no atomics, every sum
 * in a fixed order.
 */
public final class TornadoBackend implements ComputeBackend {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Device dev;
    private final Set<Region> live = ConcurrentHashMap.newKeySet();
    /** The non-finite flag: set, tag high, tag low (written by kernels). */
    private final Region flag;
    private final DotInteraction interaction = new DotInteraction(this);
    private final Map<TornadoIntBuf, ColumnIndex> columnIndexes = new WeakHashMap<>();
    private TornadoFloatBuf scratch;
    private TornadoFloatBuf ttScratch;
    private volatile boolean closed;

    /**
     * @param backendIndex TornadoVM backend index (0 = OpenCL in the SDKs built here)
     * @param deviceIndex  device within that backend
     */
    public TornadoBackend(int backendIndex, int deviceIndex) {
        dev = Device.of(backendIndex, deviceIndex);
        flag = dev.allocate(true, 3, this);
        live.add(flag);
        clearNonFinite();
    }

    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public String description() {
        return "tornado: TornadoVM OpenCL on device " + dev.id() + " (" + dev.tornadoDevice().getPhysicalDevice().getDeviceName().trim() + ")";
    }

    @Override
    public int threads() {
        return 1;
    }

    @Override
    public long memoryAvailable() {
        return dev.memoryAvailable();
    }

    /** @return programs this backend's device has compiled so far (for tests: a steady step compiles none) */
    public long programsCompiled() {
        return dev.programsBuilt();
    }

    /** @return what the device's engine compiled and ran so far, in one line */
    public String stats() {
        return dev.stats();
    }

    /** @return executions this backend's device has run so far */
    public long executions() {
        return dev.executions();
    }

    // ------------------------------------------------------------------ buffers

    Region newRegion(boolean ints, int n) {
        open();
        Region r = dev.allocate(ints, n, this);
        live.add(r);
        return r;
    }

    void forget(Region r) {
        live.remove(r);
    }

    @Override
    public FloatBuf allocFloats(int n) {
        Checks.nonNegative("allocFloats n", n);
        dev.bound();
        TornadoFloatBuf b = floatBuf(n);
        dev.zero(b.region);
        return b;
    }

    @Override
    public IntBuf allocInts(int n) {
        Checks.nonNegative("allocInts n", n);
        dev.bound();
        TornadoIntBuf b = intBuf(n);
        dev.zero(b.region);
        return b;
    }

    @Override
    public FloatBuf upload(float[] data) {
        Checks.notNull("upload data", data);
        dev.bound();
        TornadoFloatBuf b = floatBuf(data.length);
        b.write(0, data, 0, data.length);
        return b;
    }

    @Override
    public IntBuf upload(int[] data) {
        Checks.notNull("upload data", data);
        dev.bound();
        TornadoIntBuf b = intBuf(data.length);
        b.write(0, data, 0, data.length);
        return b;
    }

    TornadoFloatBuf floatBuf(int n) {
        Region r = newRegion(false, n);
        TornadoFloatBuf b = new TornadoFloatBuf(r);
        CLEANER.register(b, () -> dev.reclaim(r));
        return b;
    }

    TornadoIntBuf intBuf(int n) {
        Region r = newRegion(true, n);
        TornadoIntBuf b = new TornadoIntBuf(r);
        CLEANER.register(b, () -> dev.reclaim(r));
        return b;
    }

    /** The region of a float buffer of this backend's device; throws naming the operand otherwise. */
    Region fr(FloatBuf b, String name) {
        Checks.notNull(name, b);
        if (b instanceof TornadoFloatBuf t && t.region.device == dev) {
            if (t.region.released()) {
                throw new IllegalStateException(name + ": buffer used after close()");
            }
            return t.region;
        }
        throw new IllegalArgumentException(name + " is a " + b.getClass().getSimpleName()
                + ", not a buffer of this tornado backend's device: pass buffers allocated by it");
    }

    /** The int buffer of this backend's device; throws naming the operand otherwise. */
    TornadoIntBuf ib(IntBuf b, String name) {
        Checks.notNull(name, b);
        if (b instanceof TornadoIntBuf t && t.region.device == dev) {
            return t;
        }
        throw new IllegalArgumentException(name + " is a " + b.getClass().getSimpleName()
                + ", not a buffer of this tornado backend's device: pass buffers allocated by it");
    }

    /** @return the heap offset of a region's first element */
    static int off(Region r) {
        return (int) r.off;
    }

    void record(Op op, Region... regions) {
        open();
        dev.record(op, regions);
    }

    Device device() {
        return dev;
    }

    @Override
    public void sync() {
        dev.flush();
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("tornado backend used after close()");
        }
    }

    /** Runs pending work, then releases every buffer, table and plan this backend created. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            dev.flush();
            if (Boolean.getBoolean("ttrec.tornado.stats")) {
                System.err.println("[tornado] device " + dev.id() + ": " + dev.stats());
            }
        } finally {
            closed = true;
            for (Region r : new ArrayList<>(live)) {
                r.run();
            }
        }
    }

    // ------------------------------------------------------------------ GEMM

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, FloatBuf a, int aOff, int lda,
                     FloatBuf b, int bOff, int ldb, float beta, FloatBuf c, int cOff, int ldc) {
        Checks.gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        Region ra = fr(a, "A"), rb = fr(b, "B"), rc = fr(c, "C");
        tiled(transA, transB, m, n, k, alpha, off(ra) + aOff, lda, off(rb) + bOff, ldb, beta, off(rc) + cOff, ldc,
                false, false, 0, ra, rb, rc, null);
    }

    /** Records a tiled GEMM (or, with linear, the fused linear layer) on heap offsets. */
    private void tiled(boolean transA, boolean transB, int m, int n, int k, float alpha, int a, int lda, int b, int ldb,
                       float beta, int c, int ldc, boolean linear, boolean relu, int bias, Region ra, Region rb,
                       Region rc, Region rbias) {
        if (m == 0 || n == 0) {
            return;
        }
        long gx = (long) ((n + Gemm.BT - 1) / Gemm.BT) * Gemm.WG;
        long gy = (long) ((m + Gemm.BT - 1) / Gemm.BT) * Gemm.WG;
        record(new Op(Kernels.GEMM, new int[0], new int[] {transA ? 1 : 0, transB ? 1 : 0, m, n, k, a, lda, b, ldb, c, ldc,
                linear ? 1 : 0, relu ? 1 : 0, bias}, new float[] {alpha, beta}, gx, gy), ra, rb, rc, rbias);
    }

    @Override
    public void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                   FloatBuf a, int aOff, int lda, int strideA, FloatBuf b, int bOff, int ldb, int strideB,
                                   float beta, FloatBuf c, int cOff, int ldc, int strideC, int batch) {
        Checks.gemmStrided(transA, transB, m, n, k, a, aOff, lda, strideA, b, bOff, ldb, strideB, c, cOff, ldc, strideC,
                batch);
        Region ra = fr(a, "A"), rb = fr(b, "B"), rc = fr(c, "C");
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        record(Op.of(Kernels.GEMM_BATCHED, (long) batch * m * n, new int[] {transA ? 1 : 0, transB ? 1 : 0, m, n, k, lda,
                ldb, ldc, batch, off(ra) + aOff, strideA, off(rb) + bOff, strideB, off(rc) + cOff, strideC, 0, 0, 0, 0},
                alpha, beta), ra, rb, rc);
    }

    @Override
    public void gemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
                            FloatBuf a, IntBuf aOffsets, int lda, FloatBuf b, IntBuf bOffsets, int ldb,
                            float beta, FloatBuf c, IntBuf cOffsets, int ldc, int listOff, int batch) {
        Checks.nonNegative("gemm batch", batch);
        Checks.region("gemm aOffsets", aOffsets, listOff, batch);
        Checks.region("gemm bOffsets", bOffsets, listOff, batch);
        Checks.region("gemm cOffsets", cOffsets, listOff, batch);
        TornadoIntBuf ao = ib(aOffsets, "aOffsets"), bo = ib(bOffsets, "bOffsets"), co = ib(cOffsets, "cOffsets");
        for (int x = listOff; x < listOff + batch; x++) {
            Checks.gemm(transA, transB, m, n, k, a, ao.host()[x], lda, b, bo.host()[x], ldb, c, co.host()[x], ldc);
        }
        Region ra = fr(a, "A"), rb = fr(b, "B"), rc = fr(c, "C");
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        // the kernel reads heap offsets: the lists hold buffer offsets, so the host shifts them
        int[] shifted = new int[3 * batch];
        for (int x = 0; x < batch; x++) {
            shifted[x] = off(ra) + ao.host()[listOff + x];
            shifted[batch + x] = off(rb) + bo.host()[listOff + x];
            shifted[2 * batch + x] = off(rc) + co.host()[listOff + x];
        }
        TornadoIntBuf lists = scratchInts(shifted);
        int l = off(lists.region);
        record(Op.of(Kernels.GEMM_BATCHED, (long) batch * m * n, new int[] {transA ? 1 : 0, transB ? 1 : 0, m, n, k, lda,
                ldb, ldc, batch, 0, 0, 0, 0, 0, 0, 1, l, l + batch, l + 2 * batch}, alpha, beta), ra, rb, rc, lists.region);
        lists.close();
    }

    /** An int buffer holding {@code data} for one recorded launch; closing it right after is safe (released after the run). */
    private TornadoIntBuf scratchInts(int[] data) {
        TornadoIntBuf b = intBuf(data.length);
        b.writeInternal(data);
        return b;
    }

    // ------------------------------------------------------------------ elementwise and reductions

    @Override
    public void fill(int n, float value, FloatBuf x, int xOff) {
        Checks.region("fill x", x, xOff, n);
        Region r = fr(x, "x");
        if (n > 0) {
            record(Op.of(Kernels.FILL, n, new int[] {n, off(r) + xOff}, value), r);
        }
    }

    @Override
    public void copy(int n, FloatBuf src, int srcOff, FloatBuf dst, int dstOff) {
        Checks.region("copy src", src, srcOff, n);
        Checks.region("copy dst", dst, dstOff, n);
        Region rs = fr(src, "src"), rd = fr(dst, "dst");
        if (n == 0 || (rs == rd && srcOff == dstOff)) {
            return;
        }
        if (rs == rd && Math.abs(srcOff - dstOff) < n) {
            // overlapping: through scratch, so the result is memmove's
            Region t = scratch(n);
            record(Op.of(Kernels.COPY, n, new int[] {n, off(rs) + srcOff, off(t)}), rs, t);
            record(Op.of(Kernels.COPY, n, new int[] {n, off(t), off(rd) + dstOff}), t, rd);
        } else {
            record(Op.of(Kernels.COPY, n, new int[] {n, off(rs) + srcOff, off(rd) + dstOff}), rs, rd);
        }
    }

    private Region scratch(int n) {
        if (scratch == null || scratch.length() < n) {
            if (scratch != null) {
                scratch.close();
            }
            scratch = floatBuf(Math.max(n, scratch == null ? 0 : scratch.length() * 2));
        }
        return scratch.region;
    }

    @Override
    public void copy2d(int rows, int cols, FloatBuf src, int srcOff, int srcLd, FloatBuf dst, int dstOff, int dstLd) {
        Checks.matrix("copy2d src", src, srcOff, rows, cols, srcLd);
        Checks.matrix("copy2d dst", dst, dstOff, rows, cols, dstLd);
        Region rs = fr(src, "src"), rd = fr(dst, "dst");
        if (rows > 0 && cols > 0) {
            record(Op.of(Kernels.COPY2D, (long) rows * cols, new int[] {rows, cols, off(rs) + srcOff, srcLd,
                    off(rd) + dstOff, dstLd}), rs, rd);
        }
    }

    @Override
    public void axpy(int n, float alpha, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        Checks.region("axpy x", x, xOff, n);
        Checks.region("axpy y", y, yOff, n);
        Region rx = fr(x, "x"), ry = fr(y, "y");
        if (n > 0) {
            record(Op.of(Kernels.AXPY, n, new int[] {n, off(rx) + xOff, off(ry) + yOff}, alpha), rx, ry);
        }
    }

    @Override
    public void scale(int n, float alpha, FloatBuf x, int xOff) {
        Checks.region("scale x", x, xOff, n);
        Region rx = fr(x, "x");
        if (n > 0) {
            record(Op.of(Kernels.SCALE, n, new int[] {n, off(rx) + xOff}, alpha), rx);
        }
    }

    @Override
    public void addBias(int rows, int cols, FloatBuf bias, int biasOff, FloatBuf x, int xOff, int ldx) {
        Checks.region("addBias bias", bias, biasOff, cols);
        Checks.matrix("addBias x", x, xOff, rows, cols, ldx);
        Region rb = fr(bias, "bias"), rx = fr(x, "x");
        if (rows > 0 && cols > 0) {
            record(Op.of(Kernels.ADD_BIAS, (long) rows * cols, new int[] {rows, cols, off(rb) + biasOff, off(rx) + xOff,
                    ldx}), rb, rx);
        }
    }

    @Override
    public void sumRows(int rows, int cols, FloatBuf x, int xOff, int ldx, float beta, FloatBuf y, int yOff) {
        Checks.matrix("sumRows x", x, xOff, rows, cols, ldx);
        Checks.region("sumRows y", y, yOff, cols);
        Region rx = fr(x, "x"), ry = fr(y, "y");
        if (cols > 0) {
            record(Op.of(Kernels.SUM_ROWS, cols, new int[] {rows, cols, off(rx) + xOff, ldx, off(ry) + yOff}, beta), rx, ry);
        }
    }

    @Override
    public void relu(int n, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        Checks.region("relu x", x, xOff, n);
        Checks.region("relu y", y, yOff, n);
        Region rx = fr(x, "x"), ry = fr(y, "y");
        if (n > 0) {
            record(Op.of(Kernels.RELU, n, new int[] {n, off(rx) + xOff, off(ry) + yOff}), rx, ry);
        }
    }

    @Override
    public void reluBackward(int n, FloatBuf y, int yOff, FloatBuf dy, int dyOff, FloatBuf dx, int dxOff) {
        Checks.region("reluBackward y", y, yOff, n);
        Checks.region("reluBackward dy", dy, dyOff, n);
        Checks.region("reluBackward dx", dx, dxOff, n);
        Region ry = fr(y, "y"), rdy = fr(dy, "dy"), rdx = fr(dx, "dx");
        if (n > 0) {
            record(Op.of(Kernels.RELU_BACKWARD, n, new int[] {n, off(ry) + yOff, off(rdy) + dyOff, off(rdx) + dxOff}),
                    ry, rdy, rdx);
        }
    }

    @Override
    public void sigmoid(int n, FloatBuf x, int xOff, FloatBuf y, int yOff) {
        Checks.region("sigmoid x", x, xOff, n);
        Checks.region("sigmoid y", y, yOff, n);
        Region rx = fr(x, "x"), ry = fr(y, "y");
        if (n > 0) {
            record(Op.of(Kernels.SIGMOID, n, new int[] {n, off(rx) + xOff, off(ry) + yOff}), rx, ry);
        }
    }

    @Override
    public void bceLoss(int n, FloatBuf p, int pOff, FloatBuf labels, int labelsOff, FloatBuf out, int outOff) {
        Checks.region("bceLoss p", p, pOff, n);
        Checks.region("bceLoss labels", labels, labelsOff, n);
        Checks.region("bceLoss out", out, outOff, 1);
        reduce(Reduce.BCE, n, fr(p, "p"), pOff, fr(labels, "labels"), labelsOff, fr(out, "out"), outOff);
    }

    @Override
    public void bceSigmoidBackward(int n, float scale, FloatBuf p, int pOff, FloatBuf labels, int labelsOff,
                                   FloatBuf dz, int dzOff) {
        Checks.region("bceSigmoidBackward p", p, pOff, n);
        Checks.region("bceSigmoidBackward labels", labels, labelsOff, n);
        Checks.region("bceSigmoidBackward dz", dz, dzOff, n);
        Region rp = fr(p, "p"), rl = fr(labels, "labels"), rd = fr(dz, "dz");
        if (n > 0) {
            record(Op.of(Kernels.BCE_BACKWARD, n, new int[] {n, off(rp) + pOff, off(rl) + labelsOff, off(rd) + dzOff},
                    scale), rp, rl, rd);
        }
    }

    @Override
    public void sum(int n, FloatBuf x, int xOff, FloatBuf out, int outOff) {
        Checks.region("sum x", x, xOff, n);
        Checks.region("sum out", out, outOff, 1);
        Region rx = fr(x, "x");
        reduce(Reduce.SUM, n, rx, xOff, rx, xOff, fr(out, "out"), outOff);
    }

    @Override
    public void dot(int n, FloatBuf x, int xOff, FloatBuf y, int yOff, FloatBuf out, int outOff) {
        Checks.region("dot x", x, xOff, n);
        Checks.region("dot y", y, yOff, n);
        Checks.region("dot out", out, outOff, 1);
        reduce(Reduce.DOT, n, fr(x, "x"), xOff, fr(y, "y"), yOff, fr(out, "out"), outOff);
    }

    private void reduce(int mode, int n, Region x, int xOff, Region y, int yOff, Region out, int outOff) {
        record(Op.of(Kernels.REDUCE, Reduce.GROUP, new int[] {n, off(x) + xOff, off(y) + yOff, off(out) + outOff, mode}),
                x, y, out);
    }

    @Override
    public void checkFinite(int n, FloatBuf x, int xOff, long tag) {
        Checks.region("checkFinite x", x, xOff, n);
        if (tag < 0) {
            throw new IllegalArgumentException("checkFinite tag must be >= 0, got " + tag);
        }
        Region rx = fr(x, "x");
        if (n > 0) {
            record(Op.of(Kernels.CHECK_FINITE, Reduce.GROUP, new int[] {n, off(rx) + xOff, off(flag), (int) (tag >>> 32),
                    (int) tag}), rx, flag);
        }
    }

    @Override
    public long firstNonFinite() {
        open();
        int[] v = new int[3];
        dev.readDeviceInts(flag, 0, v, 0, 3);
        return v[0] == 0 ? -1 : ((long) v[1] << 32) | (v[2] & 0xffffffffL);
    }

    @Override
    public void clearNonFinite() {
        open();
        dev.writeInts(flag, 0, new int[3], 0, 3);
    }

    @Override
    public void gatherColumns(int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcLd,
                              FloatBuf dst, int dstOff, int dstLd) {
        checkColumnCopy("gatherColumns", rows, count, cols, src, srcOff, srcLd, srcLd, dst, dstOff, count, dstLd);
        Region rs = fr(src, "src"), rd = fr(dst, "dst");
        TornadoIntBuf c = ib(cols, "cols");
        if (rows > 0 && count > 0) {
            record(Op.of(Kernels.GATHER_COLUMNS, (long) rows * count, new int[] {rows, count, off(c.region), off(rs) + srcOff,
                    srcLd, off(rd) + dstOff, dstLd}), rs, rd, c.region);
        }
    }

    @Override
    public void scatterAddColumns(int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcLd,
                                  FloatBuf dst, int dstOff, int dstLd) {
        checkColumnCopy("scatterAddColumns", rows, count, cols, src, srcOff, count, srcLd, dst, dstOff, dstLd, dstLd);
        Region rs = fr(src, "src"), rd = fr(dst, "dst");
        TornadoIntBuf c = ib(cols, "cols");
        if (rows == 0 || count == 0) {
            return;
        }
        ColumnIndex ci = columnIndex(c, count);
        int base = off(ci.buf.region);
        record(Op.of(Kernels.SCATTER_ADD_COLUMNS, (long) rows * ci.distinct, new int[] {rows, ci.distinct, base,
                base + ci.distinct, base + 2 * ci.distinct + 1, off(rs) + srcOff, srcLd, off(rd) + dstOff, dstLd}),
                rs, rd, ci.buf.region);
    }

    /**
     * The first {@code count} entries of a column list inverted: its distinct columns (ascending),
     * and for each the positions that name it (ascending), as {distinct columns, starts, positions}
     * in one int buffer. Kept per list while the list is unchanged (the dot interaction's lists
     * are the same every step).
     */
    private record ColumnIndex(long version, int count, int distinct, TornadoIntBuf buf) {}

    private ColumnIndex columnIndex(TornadoIntBuf cols, int count) {
        synchronized (columnIndexes) {
            ColumnIndex ci = columnIndexes.get(cols);
            if (ci != null && ci.version == cols.version() && ci.count == count) {
                return ci;
            }
            int[] c = cols.host();
            int max = 0;
            for (int j = 0; j < count; j++) {
                max = Math.max(max, c[j]);
            }
            int[] start = new int[max + 2];
            for (int j = 0; j < count; j++) {
                start[c[j] + 1]++;
            }
            int distinct = 0;
            for (int v = 0; v <= max; v++) {
                if (start[v + 1] > 0) {
                    distinct++;
                }
                start[v + 1] += start[v];
            }
            int[] data = new int[2 * distinct + 1 + count];
            int u = 0;
            for (int v = 0; v <= max; v++) {
                if (start[v + 1] > start[v]) {
                    data[u] = v;
                    data[distinct + u] = start[v];
                    u++;
                }
            }
            data[2 * distinct] = count;
            int[] next = start.clone();
            for (int j = 0; j < count; j++) {
                data[2 * distinct + 1 + next[c[j]]++] = j;
            }
            if (ci != null) {
                ci.buf.close();
            }
            TornadoIntBuf buf = scratchInts(data);
            ci = new ColumnIndex(cols.version(), count, distinct, buf);
            columnIndexes.put(cols, ci);
            return ci;
        }
    }

    /** The reference's checks of gatherColumns/scatterAddColumns, on the host copy of the list. */
    private void checkColumnCopy(String what, int rows, int count, IntBuf cols, FloatBuf src, int srcOff, int srcCols,
                                 int srcLd, FloatBuf dst, int dstOff, int dstCols, int dstLd) {
        Checks.nonNegative(what, " rows", rows);
        Checks.nonNegative(what, " count", count);
        Checks.region(what, " cols", cols, 0, count);
        int range = what.startsWith("gather") ? srcLd : dstLd;
        int[] cs = ib(cols, "cols").host();
        for (int j = 0; j < count; j++) {
            if (cs[j] < 0 || cs[j] >= range) {
                throw new IllegalArgumentException(what + ": column " + cs[j] + " at position " + j
                        + " is out of range [0, " + range + ")");
            }
        }
        Checks.matrix(what, " src", src, srcOff, rows, srcCols, srcLd);
        Checks.matrix(what, " dst", dst, dstOff, rows, dstCols, dstLd);
    }

    @Override
    public void adagradUpdate(int n, float lr, float eps, FloatBuf grad, int gradOff, FloatBuf state, int stateOff,
                              FloatBuf w, int wOff) {
        Checks.region("adagrad grad", grad, gradOff, n);
        Checks.region("adagrad state", state, stateOff, n);
        Checks.region("adagrad w", w, wOff, n);
        Region rg = fr(grad, "grad"), rs = fr(state, "state"), rw = fr(w, "w");
        if (n > 0) {
            record(Op.of(Kernels.ADAGRAD, n, new int[] {n, off(rg) + gradOff, off(rs) + stateOff, off(rw) + wOff}, lr, eps),
                    rg, rs, rw);
        }
    }

    // ------------------------------------------------------------------ layers

    @Override
    public void linearForward(int rows, int in, int out, FloatBuf x, int xOff, FloatBuf w, int wOff,
                              FloatBuf bias, int biasOff, boolean relu, FloatBuf y, int yOff) {
        Linear.checkForward(rows, in, out, x, xOff, w, wOff, bias, biasOff, y, yOff);
        Region rx = fr(x, "x"), rw = fr(w, "W"), rb = fr(bias, "bias"), ry = fr(y, "y");
        tiled(false, true, rows, out, in, 1f, off(rx) + xOff, in, off(rw) + wOff, in, 0f, off(ry) + yOff, out, true, relu,
                off(rb) + biasOff, rx, rw, ry, rb);
    }

    @Override
    public void linearBackward(int rows, int in, int out, FloatBuf x, int xOff, FloatBuf w, int wOff,
                               boolean relu, FloatBuf y, int yOff, FloatBuf dy, int dyOff,
                               FloatBuf dw, int dwOff, FloatBuf dbias, int dbiasOff, FloatBuf dx, int dxOff) {
        Linear.backward(this, rows, in, out, x, xOff, w, wOff, relu, y, yOff, dy, dyOff, dw, dwOff, dbias, dbiasOff, dx, dxOff);
    }

    @Override
    public void dotInteractionForward(int rows, int vectors, int dim, boolean self, FloatBuf bottom, int bottomOff,
                                      FloatBuf t, int tOff, FloatBuf r, int rOff) {
        interaction.forward(rows, vectors, dim, self, bottom, bottomOff, t, tOff, r, rOff);
    }

    @Override
    public void dotInteractionBackward(int rows, int vectors, int dim, boolean self, FloatBuf t, int tOff,
                                       FloatBuf dr, int drOff, FloatBuf dt, int dtOff, FloatBuf dBottom, int dBottomOff) {
        interaction.backward(rows, vectors, dim, self, t, tOff, dr, drOff, dt, dtOff, dBottom, dBottomOff);
    }

    // ------------------------------------------------------------------ embedding tables

    /**
     * The reference's checks of an EmbeddingBag call, on the host copies of the lists: table,
     * optimiser state (backward), bag structure, output or gradient matrix.
     */
    private void checkEmbeddingBag(int rows, int dim, FloatBuf table, FloatBuf state, SparseOptimizer opt,
                                   IntBuf indices, IntBuf offsets, int bags, FloatBuf weights, Pooling pooling,
                                   String matName, FloatBuf mat, int matOff, int ld) {
        Checks.positive("embeddingBag rows", rows);
        Checks.positive("embeddingBag dim", dim);
        Checks.notNull("pooling", pooling);
        Checks.region("embeddingBag table", table, 0, (long) rows * dim);
        if (opt != null) {
            Checks.embeddingState(rows, dim, state, opt);
        }
        checkBags("embeddingBag", rows, indices, offsets, bags, weights);
        Checks.matrix("embeddingBag ", matName, mat, matOff, bags, dim, ld);
    }

    private void checkBags(String what, int rows, IntBuf indices, IntBuf offsets, int bags, FloatBuf weights) {
        Checks.notNull(what, " indices", indices);
        Checks.notNull(what, " offsets", offsets);
        int[] idx = ib(indices, "indices").host();
        int[] off = ib(offsets, "offsets").host();
        Checks.csr(what, off, bags, idx.length);
        Checks.indices(what, idx, off[0], off[bags], rows);
        if (weights != null) {
            Checks.region(what, " per-sample weights", weights, 0, off[bags]);
        }
    }

    private void checkTt(TtShape shape, FloatBuf[] cores, FloatBuf[] states, IntBuf indices, IntBuf offsets, int bags,
                         FloatBuf weights, Pooling pooling, SparseOptimizer opt, String matName, FloatBuf mat,
                         int matOff, int ld) {
        Checks.ttCores(shape, cores, states, opt);
        Checks.notNull("pooling", pooling);
        checkBags("TT-EmbeddingBag", shape.rows(), indices, offsets, bags, weights);
        Checks.matrix("TT-EmbeddingBag ", matName, mat, matOff, bags, shape.dim(), ld);
        TableOps.checkShape("TT-EmbeddingBag", shape);
    }

    /**
     * A one-shot call's batch on the device: sorted on the host from the lists' host copies,
     * in an int buffer released once the trace ran (the caller closes the returned plan's buffer).
     */
    private DevicePlan oneShotPlan(int[] p, IntBuf indices, IntBuf offsets, int bags, FloatBuf weights) {
        int[] off = ib(offsets, "offsets").host();
        HostPlan h = new HostPlan(p);
        h.set(ib(indices, "indices").host(), off, bags);
        TornadoIntBuf lists = scratchInts(h.data);
        Region w = weights == null ? null : fr(weights, "perSampleWeights");
        return new DevicePlan(h, lists.region, w, w == null ? 0 : off(w) + off[0]);
    }

    private Region[] regions(FloatBuf[] bufs, String name) {
        if (bufs == null) {
            return null;
        }
        Region[] r = new Region[bufs.length];
        for (int k = 0; k < r.length; k++) {
            r[k] = fr(bufs[k], name + " " + k);
        }
        return r;
    }

    @Override
    public void embeddingBagForward(int rows, int dim, FloatBuf table, IntBuf indices, IntBuf offsets, int bags,
                                    FloatBuf perSampleWeights, Pooling pooling, boolean accumulate,
                                    FloatBuf out, int outOff, int ldOut) {
        checkEmbeddingBag(rows, dim, table, null, null, indices, offsets, bags, perSampleWeights, pooling,
                "out", out, outOff, ldOut);
        Region rt = fr(table, "table"), ro = fr(out, "out");
        TornadoIntBuf idx = ib(indices, "indices"), off = ib(offsets, "offsets");
        Region rw = perSampleWeights == null ? null : fr(perSampleWeights, "perSampleWeights");
        if (bags > 0) {
            // no sort needed: lookups are read from the caller's lists as they are
            record(Op.of(TtKernels.POOL, (long) bags * dim, new int[] {bags, dim, off(ro) + outOff, ldOut,
                    accumulate ? 1 : 0, pooling == Pooling.MEAN ? 1 : 0, rw == null ? 0 : 1, rw == null ? 0 : off(rw),
                    off(off.region), off(idx.region), off(rt)}), rt, ro, rw, idx.region, off.region);
        }
    }

    @Override
    public void embeddingBagBackward(int rows, int dim, FloatBuf table, FloatBuf state, IntBuf indices, IntBuf offsets,
                                     int bags, FloatBuf perSampleWeights, Pooling pooling,
                                     FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        Checks.notNull("optimizer", opt);
        checkEmbeddingBag(rows, dim, table, state, opt, indices, offsets, bags, perSampleWeights, pooling,
                "gradOut", gradOut, gradOff, ldGrad);
        Region rt = fr(table, "table"), rg = fr(gradOut, "gradOut");
        Region rs = opt.kind() == SparseOptimizer.Kind.SGD ? null : fr(state, "state");
        DevicePlan p = oneShotPlan(null, indices, offsets, bags, perSampleWeights);
        TableOps.denseBackward(this, rt, dim, rs, p, pooling, rg, gradOff, ldGrad, opt);
        p.lists().run();
    }

    @Override
    public void ttEmbeddingBagForward(TtShape shape, FloatBuf[] cores, IntBuf indices, IntBuf offsets, int bags,
                                      FloatBuf perSampleWeights, Pooling pooling, boolean accumulate,
                                      FloatBuf out, int outOff, int ldOut) {
        checkTt(shape, cores, null, indices, offsets, bags, perSampleWeights, pooling, null, "out", out, outOff, ldOut);
        Region[] rc = regions(cores, "TT core");
        Region ro = fr(out, "out");
        DevicePlan p = oneShotPlan(shape.p(), indices, offsets, bags, perSampleWeights);
        TornadoIntBuf desc = descriptor(shape, rc);
        TableOps.ttForward(this, shape, rc, desc == null ? null : desc.region, p, pooling, accumulate, ro, outOff, ldOut);
        p.lists().run();
        if (desc != null) {
            desc.close();
        }
    }

    @Override
    public void ttEmbeddingBagBackward(TtShape shape, FloatBuf[] cores, FloatBuf[] states, IntBuf indices,
                                       IntBuf offsets, int bags, FloatBuf perSampleWeights, Pooling pooling,
                                       FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        Checks.notNull("optimizer", opt);
        checkTt(shape, cores, states, indices, offsets, bags, perSampleWeights, pooling, opt, "gradOut",
                gradOut, gradOff, ldGrad);
        Region[] rc = regions(cores, "TT core");
        Region[] rs = opt.kind() == SparseOptimizer.Kind.SGD ? null : regions(states, "TT state");
        Region rg = fr(gradOut, "gradOut");
        DevicePlan p = oneShotPlan(shape.p(), indices, offsets, bags, perSampleWeights);
        TornadoIntBuf desc = descriptor(shape, rc);
        TableOps.ttBackward(this, shape, rc, rs, desc == null ? null : desc.region, p, pooling, rg, gradOff, ldGrad, opt);
        p.lists().run();
        if (desc != null) {
            desc.close();
        }
    }

    /** The generic kernels' shape descriptor for these cores, or null when the d = 3 kernels run the shape. */
    private TornadoIntBuf descriptor(TtShape shape, Region[] cores) {
        if (TableOps.fast(shape)) {
            return null;
        }
        int[] offs = new int[cores.length];
        for (int k = 0; k < offs.length; k++) {
            offs[k] = off(cores[k]);
        }
        return scratchInts(TableOps.descriptor(shape, offs));
    }

    /** A float region of at least n elements for TT and EmbeddingBag scratch, reused call after call. */
    Region ttScratch(long n) {
        if (n > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("tornado backend: a batch needs " + n + " floats of scratch, more than one"
                    + " buffer holds; use smaller batches");
        }
        if (ttScratch == null || ttScratch.length() < n) {
            if (ttScratch != null) {
                ttScratch.close();
            }
            ttScratch = floatBuf((int) Math.max(n, ttScratch == null ? 0 : Math.min(Integer.MAX_VALUE - 64L,
                    ttScratch.length() + (long) (ttScratch.length() >> 1))));
        }
        return ttScratch.region;
    }

    @Override
    public TtTable newTtTable(String name, TtShape shape) {
        open();
        return new TornadoTtTable(this, name, shape);
    }

    @Override
    public DenseTable newDenseTable(String name, int rows, int dim) {
        open();
        return new TornadoDenseTable(this, name, rows, dim);
    }

    /** Records the tasks one after another in index order: the device runs them in that order. */
    @Override
    public Pending submitTables(int n, IntConsumer task) {
        Checks.nonNegative("submitTables n", n);
        for (int i = 0; i < n; i++) {
            task.accept(i);
        }
        return Pending.DONE;
    }
}
