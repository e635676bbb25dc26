package org.ttrec.dlrm.tt;

import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.tt.TtInit;
import org.ttrec.engine.tt.TtShapes;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;

/**
 * A Tensor-Train compressed EmbeddingBag (spec sections 1-7): the table is held as d cores in
 * buffers of a {@link ComputeBackend}, lookups and updates go through the backend's
 * {@code ttEmbeddingBag*} kernels, so the table is never materialised during training.
 *
 * <p>Optionally a hot-row cache ({@link TtCacheConfig}) keeps the most frequent rows
 * uncompressed; cached lookups are served by the backend's plain EmbeddingBag kernels on a cache
 * table and train only their cache row. Pooling over a bag split between cache and cores is
 * exact: both parts run with sum pooling and per-sample weights that already carry the mean's
 * 1/(full bag length).
 *
 * <p>Optimiser state is allocated on the first {@link #backward} and kept while the optimiser
 * kind stays the same (a different kind starts from a zero state).
 */
public final class TtEmbeddingBag implements EmbeddingBagLayer {
    private static final int MAGIC = 0x54544542; // "TTEB"
    private static final int VERSION = 1;

    private final String name;
    private final ComputeBackend backend;
    private final TtShape shape;
    private final Pooling pooling;
    private final FloatBuf[] cores;
    private FloatBuf[] states;
    private SparseOptimizer.Kind stateKind;

    // the last forward batch (copied: callers may reuse their arrays)
    private int[] lastIdx = new int[0];
    private int[] lastOff = new int[1];
    private float[] lastW;
    private int lastBags = -1; // -1: no forward yet
    private boolean lastWeighted;

    // split of the last batch between cores (tt*) and cache (c*), valid when the cache is populated
    private int[] ttIdx = new int[0], ttOff = new int[1], cIdx = new int[0], cOff = new int[1];
    private float[] ttW = new float[0], cW = new float[0];

    // hot-row cache
    private final TtCacheConfig cacheConfig;
    private final int[] counts;
    private int batchesSeen;
    private int batchesSinceRefresh;
    private int[] cacheRows; // sorted; null until populated
    private RowSlots cacheSlots; // cacheRows' index
    private FloatBuf cacheTable;
    /** Multiplier on the optimiser's learning rate for the cores (not for cached rows). */
    private float coreLrScale = 1f;
    private FloatBuf cacheState;
    private SparseOptimizer.Kind cacheStateKind;

    /**
     * @param name        table name used in messages, e.g. "table 2"
     * @param backend     the backend that holds the cores and runs the kernels
     * @param shape       the TT shape
     * @param pooling     sum or mean
     * @param init        core initialisation
     * @param seed        initialisation seed
     * @param cacheConfig hot-row cache settings ({@link TtCacheConfig#OFF} for none)
     */
    public TtEmbeddingBag(String name, ComputeBackend backend, TtShape shape, Pooling pooling, TtInit init, long seed,
                          TtCacheConfig cacheConfig) {
        Checks.notNull("table name", name);
        Checks.notNull(name + ": backend", backend);
        Checks.notNull(name + ": TT shape", shape);
        Checks.notNull(name + ": pooling", pooling);
        Checks.notNull(name + ": TT init", init);
        Checks.notNull(name + ": cache config", cacheConfig);
        this.name = name;
        this.backend = backend;
        this.shape = shape;
        this.pooling = pooling;
        this.cacheConfig = cacheConfig;
        float[][] host = init.create(shape, seed);
        cores = new FloatBuf[shape.cores()];
        for (int k = 0; k < cores.length; k++) {
            cores[k] = backend.allocFloats(shape.coreSize(k));
            cores[k].write(host[k]);
        }
        // this layer is the cores' only writer (besides the backward): the backend may keep a
        // forward's products for the backward unchecked
        backend.ttOwnCores(cores);
        counts = cacheConfig.enabled() && cacheConfig.capacity(shape.rows()) > 0 ? new int[shape.rows()] : null;
    }

    /**
     * A table with suggested factors (spec section 7), one rank between all cores, the default
     * variance-matched initialisation and no cache.
     *
     * @param d    number of cores (>= 2)
     * @param rank R
     */
    public static TtEmbeddingBag create(String name, ComputeBackend backend, int rows, int dim, int d, int rank,
                                        Pooling pooling, long seed) {
        if (rank < 1) {
            throw new IllegalArgumentException(name + ": TT rank must be >= 1, got " + rank);
        }
        int[][] pq = TtShapes.suggestShapes(rows, dim, d);
        return new TtEmbeddingBag(name, backend, TtShape.uniformRank(rows, pq[0], pq[1], rank), pooling,
                TtInit.sampledGaussian(), seed, TtCacheConfig.OFF);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int rows() {
        return shape.rows();
    }

    @Override
    public int dim() {
        return shape.dim();
    }

    @Override
    public Pooling pooling() {
        return pooling;
    }

    /** @return the TT shape */
    public TtShape shape() {
        return shape;
    }

    /**
     * The live core buffers. This layer registers them with its backend as written only by the TT
     * backward ({@link org.ttrec.engine.ComputeBackend#ttOwnCores}), so a forward's products may be
     * reused by the backward unchecked: code that writes them must call {@link #coresChanged()}
     * before the next forward or backward.
     *
     * @return the core buffers (live, not copies)
     */
    public FloatBuf[] cores() {
        return cores.clone();
    }

    /** Tells the backend that the cores were written through {@link #cores()}. */
    public void coresChanged() {
        backend.ttCoresChanged(cores);
    }

    /** @return the optimiser state buffers of the cores (the dense gradient for ACCUMULATE), or null */
    public FloatBuf[] optimizerState() {
        return states == null ? null : states.clone();
    }

    /** @return the cached rows, sorted, or an empty array before the cache is populated */
    public int[] cachedRows() {
        return cacheRows == null ? new int[0] : cacheRows.clone();
    }

    /**
     * Sets a multiplier on the learning rate of the optimiser passed to {@link #backward} for the
     * TT cores; cached rows (plain rows) keep the optimiser's own rate. A core slice's gradient
     * carries the product of the other cores' (small) entries, so at the rate of an uncompressed
     * table the cores learn slowly: on 2M synthetic Kaggle-shaped rows, 10 recovered the
     * uncompressed model's test AUC (0.7816 vs 0.7818; 0.7737 at 1).
     *
     * @param scale a positive finite multiplier (1 = the optimiser's rate)
     * @throws IllegalArgumentException if scale is not positive and finite
     */
    public void setCoreLearningRateScale(double scale) {
        if (!(scale > 0 && scale < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(name + ": core learning-rate scale must be positive and finite, got "
                    + scale);
        }
        coreLrScale = (float) scale;
    }

    /** @return the multiplier on the learning rate of the cores (see {@link #setCoreLearningRateScale}) */
    public double coreLearningRateScale() {
        return coreLrScale;
    }

    /** @return whether the hot-row cache is populated */
    public boolean cachePopulated() {
        return cacheRows != null;
    }

    // ------------------------------------------------------------------ forward / backward

    @Override
    public void forward(int[] indices, int[] offsets, int bags, float[] perSampleWeights, FloatBuf out, int outOff,
                        int ldOut) {
        validate(indices, offsets, bags, perSampleWeights);
        int n = offsets[bags] - offsets[0];
        lastIdx = grow(lastIdx, n);
        System.arraycopy(indices, offsets[0], lastIdx, 0, n);
        lastOff = grow(lastOff, bags + 1);
        for (int b = 0; b <= bags; b++) {
            lastOff[b] = offsets[b] - offsets[0];
        }
        if (perSampleWeights != null) {
            lastW = growF(lastW, n);
            System.arraycopy(perSampleWeights, offsets[0], lastW, 0, n);
        }
        boolean weighted = perSampleWeights != null;
        lastBags = bags;
        lastWeighted = weighted;
        if (cacheRows == null) {
            backend.ttEmbeddingBagForward(shape, cores, backend.wrap(lastIdx), backend.wrap(lastOff), bags,
                    weighted ? backend.wrap(lastW) : null, pooling, false, out, outOff, ldOut);
            return;
        }
        split(bags, weighted);
        backend.ttEmbeddingBagForward(shape, cores, backend.wrap(ttIdx), backend.wrap(ttOff), bags,
                backend.wrap(ttW), Pooling.SUM, false, out, outOff, ldOut);
        backend.embeddingBagForward(cacheRows.length, dim(), cacheTable, backend.wrap(cIdx), backend.wrap(cOff), bags,
                backend.wrap(cW), Pooling.SUM, true, out, outOff, ldOut);
    }

    @Override
    public void backward(FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        if (lastBags < 0) {
            throw new IllegalStateException(name + ": backward without a forward");
        }
        Checks.notNull(name + ": optimizer", opt);
        boolean weighted = lastWeighted;
        int bags = lastBags;
        ensureStates(opt.kind());
        SparseOptimizer coreOpt = coreLrScale == 1f ? opt
                : new SparseOptimizer(opt.kind(), opt.lr() * coreLrScale, opt.eps());
        if (cacheRows == null) {
            backend.ttEmbeddingBagBackward(shape, cores, states, backend.wrap(lastIdx), backend.wrap(lastOff), bags,
                    weighted ? backend.wrap(lastW) : null, pooling, gradOut, gradOff, ldGrad, coreOpt);
        } else {
            // split() of the forward pass is still valid: the cached row set changes only below
            ensureCacheState(opt.kind());
            backend.ttEmbeddingBagBackward(shape, cores, states, backend.wrap(ttIdx), backend.wrap(ttOff), bags,
                    backend.wrap(ttW), Pooling.SUM, gradOut, gradOff, ldGrad, coreOpt);
            backend.embeddingBagBackward(cacheRows.length, dim(), cacheTable, cacheState, backend.wrap(cIdx),
                    backend.wrap(cOff), bags, backend.wrap(cW), Pooling.SUM, gradOut, gradOff, ldGrad, opt);
        }
        countAndMaybePopulate(lastOff[bags]);
    }

    private void validate(int[] indices, int[] offsets, int bags, float[] w) {
        Checks.notNull(name + ": indices", indices);
        Checks.notNull(name + ": offsets", offsets);
        Checks.csr(name, offsets, bags, indices.length);
        Checks.indices(name, indices, offsets[0], offsets[bags], shape.rows());
        if (w != null && w.length < offsets[bags]) {
            throw new IllegalArgumentException(name + ": " + w.length + " per-sample weights for "
                    + offsets[bags] + " lookups");
        }
    }

    /** Splits the last batch into the core part and the cache part, with explicit pooling weights. */
    private void split(int bags, boolean weighted) {
        int n = lastOff[bags];
        ttIdx = grow(ttIdx, n);
        cIdx = grow(cIdx, n);
        ttW = growF(ttW, n);
        cW = growF(cW, n);
        ttOff = grow(ttOff, bags + 1);
        cOff = grow(cOff, bags + 1);
        int nt = 0, nc = 0;
        for (int b = 0; b < bags; b++) {
            ttOff[b] = nt;
            cOff[b] = nc;
            int start = lastOff[b], end = lastOff[b + 1];
            for (int j = start; j < end; j++) {
                float s = weighted ? lastW[j] : 1f;
                if (pooling == Pooling.MEAN) {
                    s /= (end - start); // the full bag length, whichever part serves the lookup
                }
                int slot = cacheSlots.slot(lastIdx[j]);
                if (slot >= 0) {
                    cIdx[nc] = slot;
                    cW[nc++] = s;
                } else {
                    ttIdx[nt] = lastIdx[j];
                    ttW[nt++] = s;
                }
            }
        }
        ttOff[bags] = nt;
        cOff[bags] = nc;
    }

    private void ensureStates(SparseOptimizer.Kind kind) {
        if (kind == stateKind) {
            return;
        }
        stateKind = kind;
        if (kind == SparseOptimizer.Kind.SGD) {
            states = null;
            return;
        }
        states = new FloatBuf[shape.cores()];
        for (int k = 0; k < states.length; k++) {
            states[k] = backend.allocFloats(kind == SparseOptimizer.Kind.ROWWISE_ADAGRAD
                    ? shape.p(k) * shape.rank(k) : shape.coreSize(k));
        }
    }

    private void ensureCacheState(SparseOptimizer.Kind kind) {
        if (kind == cacheStateKind) {
            return;
        }
        cacheStateKind = kind;
        cacheState = allocCacheState(kind, cacheRows.length);
    }

    private FloatBuf allocCacheState(SparseOptimizer.Kind kind, int k) {
        return switch (kind) {
            case SGD -> null;
            case ROWWISE_ADAGRAD -> backend.allocFloats(Math.max(k, 1));
            case ADAGRAD, ACCUMULATE -> backend.allocFloats(Math.max(k, 1) * dim());
        };
    }

    // ------------------------------------------------------------------ the hot-row cache

    private void countAndMaybePopulate(int n) {
        if (counts == null) {
            return;
        }
        // counts serve the next populate only: with refresh off, none comes after the first (and
        // a count is a random access into an N-int array, a cache miss per lookup)
        boolean counting = cacheRows == null || cacheConfig.refreshEvery() > 0;
        for (int j = 0; counting && j < n; j++) {
            int r = lastIdx[j];
            if (counts[r] != Integer.MAX_VALUE) {
                counts[r]++;
            }
        }
        batchesSeen++;
        batchesSinceRefresh++;
        if (cacheRows == null) {
            if (batchesSeen >= cacheConfig.warmupBatches()) {
                populate();
            }
        } else if (cacheConfig.refreshEvery() > 0 && batchesSinceRefresh >= cacheConfig.refreshEvery()) {
            populate();
        }
    }

    /**
     * Picks the most frequently looked-up rows counted since the last populate and routes them to
     * the cache. Called automatically after the warm-up and every refresh interval; public so a
     * trainer can force it. Rows already cached keep their values and optimiser state. With
     * refresh off, lookups are no longer counted once the cache is populated, so a later call
     * keeps the cache as it is.
     */
    public void populate() {
        if (counts == null) {
            throw new IllegalStateException(name + ": no hot-row cache configured");
        }
        int cap = cacheConfig.capacity(rows());
        int seen = 0;
        for (int c : counts) {
            if (c > 0) {
                seen++;
            }
        }
        if (seen == 0 && cacheRows != null) {
            return; // nothing counted since the last populate (refresh off): keep the cache as it is
        }
        long[] keys = new long[seen];
        int j = 0;
        for (int r = 0; r < counts.length; r++) {
            if (counts[r] > 0) {
                // most frequent first, then smaller row id: a fixed, reproducible choice
                keys[j++] = ((long) (Integer.MAX_VALUE - counts[r]) << 32) | r;
            }
        }
        Arrays.sort(keys);
        int k = Math.min(cap, seen);
        int[] rowsNew = new int[k];
        for (int i = 0; i < k; i++) {
            rowsNew[i] = (int) keys[i];
        }
        Arrays.sort(rowsNew);
        int dim = dim();
        // rows still cached read their learned cache values here, new rows their TT values
        float[] values = materialize(rowsNew);
        FloatBuf newState = cacheStateKind == null ? null : allocCacheState(cacheStateKind, k);
        if (cacheRows != null) {
            float[] oldState = cacheState == null ? null : cacheState.toArray();
            float[] st = newState == null ? null : new float[newState.length()];
            for (int i = 0; i < k; i++) {
                int slot = Arrays.binarySearch(cacheRows, rowsNew[i]);
                if (slot >= 0) {
                    if (st != null && oldState != null) {
                        if (cacheStateKind == SparseOptimizer.Kind.ROWWISE_ADAGRAD) {
                            st[i] = oldState[slot];
                        } else {
                            System.arraycopy(oldState, slot * dim, st, i * dim, dim);
                        }
                    }
                }
            }
            if (st != null) {
                newState.write(st);
            }
        }
        cacheRows = rowsNew;
        cacheSlots = new RowSlots(rowsNew);
        cacheTable = backend.allocFloats(Math.max(k, 1) * dim);
        cacheTable.write(0, values, 0, k * dim);
        cacheState = newState;
        Arrays.fill(counts, 0);
        batchesSinceRefresh = 0;
    }

    // ------------------------------------------------------------------ materialisation and size

    /**
     * {@inheritDoc} Cached rows read their cache value, other rows their TT value.
     */
    @Override
    public float[] materialize(int[] rowIds) {
        Checks.notNull(name + ": rowIds", rowIds);
        Checks.indices(name, rowIds, 0, rowIds.length, rows());
        int dim = dim();
        float[] result = new float[rowIds.length * dim];
        int chunk = 1 << 16;
        int[] off = new int[Math.min(chunk, rowIds.length) + 1];
        for (int i = 0; i < off.length; i++) {
            off[i] = i;
        }
        FloatBuf out = backend.allocFloats(Math.min(chunk, rowIds.length) * dim);
        for (int start = 0; start < rowIds.length; start += chunk) {
            int n = Math.min(chunk, rowIds.length - start);
            int[] ids = Arrays.copyOfRange(rowIds, start, start + n);
            backend.ttEmbeddingBagForward(shape, cores, backend.wrap(ids), backend.wrap(off), n, null, Pooling.SUM,
                    false, out, 0, dim);
            out.read(0, result, start * dim, n * dim);
        }
        if (cacheRows != null && cacheRows.length > 0) {
            float[] cache = cacheTable.toArray();
            for (int i = 0; i < rowIds.length; i++) {
                int slot = cacheSlots.slot(rowIds[i]);
                if (slot >= 0) {
                    System.arraycopy(cache, slot * dim, result, i * dim, dim);
                }
            }
        }
        return result;
    }

    /** @return TT parameters plus cache rows */
    @Override
    public long parameterCount() {
        return shape.parameterCount() + (cacheRows == null ? 0 : (long) cacheRows.length * dim());
    }

    /** @return bytes of the trainable parameters (fp32) */
    public long parameterBytes() {
        return 4 * parameterCount();
    }

    /** @return N * D / {@link #parameterCount()} */
    public double compressionRatio() {
        return (double) uncompressedParameterCount() / parameterCount();
    }

    @Override
    public String describe() {
        return String.format(java.util.Locale.ROOT, "%s: TT %d x %d, p=%s q=%s ranks=%s, %d params, %.1fx compression%s",
                name, rows(), dim(), TtShapes.format(shape.p()), TtShapes.format(shape.q()),
                TtShapes.format(shape.ranks()), parameterCount(), compressionRatio(),
                counts == null ? "" : ", hot-row cache " + cacheConfig.capacity(rows()) + " rows"
                        + (cacheRows == null ? " (warming up)" : " (" + cacheRows.length + " cached)"));
    }

    // ------------------------------------------------------------------ checkpoints

    @Override
    public void save(DataOutputStream out) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeUTF(name);
        writeShape(out);
        out.writeInt(pooling.ordinal());
        for (FloatBuf c : cores) {
            writeFloats(out, c.toArray());
        }
        out.writeInt(stateKind == null ? -1 : stateKind.ordinal());
        if (states != null) {
            for (FloatBuf s : states) {
                writeFloats(out, s.toArray());
            }
        }
        out.writeBoolean(counts != null);
        if (counts != null) {
            out.writeInt(batchesSeen);
            out.writeInt(batchesSinceRefresh);
            int nz = 0;
            for (int c : counts) {
                nz += c > 0 ? 1 : 0;
            }
            out.writeInt(nz);
            for (int r = 0; r < counts.length; r++) {
                if (counts[r] > 0) {
                    out.writeInt(r);
                    out.writeInt(counts[r]);
                }
            }
            out.writeInt(cacheRows == null ? -1 : cacheRows.length);
            if (cacheRows != null) {
                for (int r : cacheRows) {
                    out.writeInt(r);
                }
                writeFloats(out, Arrays.copyOf(cacheTable.toArray(), cacheRows.length * dim()));
                out.writeInt(cacheStateKind == null ? -1 : cacheStateKind.ordinal());
                if (cacheState != null) {
                    writeFloats(out, cacheState.toArray());
                }
            }
        }
    }

    @Override
    public void load(DataInputStream in) throws IOException {
        if (in.readInt() != MAGIC) {
            throw new IOException(name + ": not a TT-EmbeddingBag checkpoint (bad magic)");
        }
        int version = in.readInt();
        if (version != VERSION) {
            throw new IOException(name + ": unsupported TT checkpoint version " + version);
        }
        String savedName = in.readUTF();
        TtShape saved;
        try {
            saved = readShape(in);
        } catch (IllegalArgumentException e) {
            throw new IOException(name + ": corrupt TT shape in checkpoint: " + e.getMessage(), e);
        }
        if (!saved.equals(shape)) {
            throw new IOException(name + ": checkpoint of '" + savedName + "' has shape " + saved
                    + " but this layer has " + shape);
        }
        int pool = in.readInt();
        if (pool != pooling.ordinal()) {
            throw new IOException(name + ": checkpoint pooling " + pool + " differs from " + pooling);
        }
        float[][] newCores = new float[cores.length][];
        for (int k = 0; k < cores.length; k++) {
            newCores[k] = readFloats(in, shape.coreSize(k), "core " + k);
        }
        int sk = in.readInt();
        SparseOptimizer.Kind kind = kindOf(sk);
        float[][] newStates = null;
        if (kind != null && kind != SparseOptimizer.Kind.SGD) {
            newStates = new float[cores.length][];
            for (int k = 0; k < cores.length; k++) {
                int n = kind == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? shape.p(k) * shape.rank(k) : shape.coreSize(k);
                newStates[k] = readFloats(in, n, "optimizer state " + k);
            }
        }
        boolean hasCache = in.readBoolean();
        if (hasCache != (counts != null)) {
            throw new IOException(name + ": checkpoint " + (hasCache ? "has" : "lacks") + " a hot-row cache, this layer "
                    + (counts != null ? "has" : "lacks") + " one");
        }
        int seen = 0, since = 0;
        int[] newCounts = null, newRows = null;
        float[] newCache = null, newCacheState = null;
        SparseOptimizer.Kind cKind = null;
        if (hasCache) {
            seen = in.readInt();
            since = in.readInt();
            int nz = in.readInt();
            if (nz < 0 || nz > rows()) {
                throw new IOException(name + ": corrupt cache counts (" + nz + " entries)");
            }
            newCounts = new int[rows()];
            for (int i = 0; i < nz; i++) {
                int r = in.readInt(), c = in.readInt();
                if (r < 0 || r >= rows() || c < 0) {
                    throw new IOException(name + ": corrupt cache count entry " + i + ": row " + r + " count " + c);
                }
                newCounts[r] = c;
            }
            int k = in.readInt();
            if (k > cacheConfig.capacity(rows()) || k < -1) {
                throw new IOException(name + ": checkpoint caches " + k + " rows, capacity is " + cacheConfig.capacity(rows()));
            }
            if (k >= 0) {
                newRows = new int[k];
                for (int i = 0; i < k; i++) {
                    newRows[i] = in.readInt();
                    if (newRows[i] < 0 || newRows[i] >= rows() || (i > 0 && newRows[i] <= newRows[i - 1])) {
                        throw new IOException(name + ": corrupt cached row list at " + i + ": " + newRows[i]);
                    }
                }
                newCache = readFloats(in, k * dim(), "cache table");
                cKind = kindOf(in.readInt());
                if (cKind != null && cKind != SparseOptimizer.Kind.SGD) {
                    int n = cKind == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? Math.max(k, 1) : Math.max(k, 1) * dim();
                    newCacheState = readFloats(in, n, "cache optimizer state");
                }
            }
        }
        // everything read and checked: install
        for (int k = 0; k < cores.length; k++) {
            cores[k].write(newCores[k]);
        }
        backend.ttCoresChanged(cores);
        stateKind = null;
        states = null;
        if (kind != null) {
            ensureStates(kind);
            if (newStates != null) {
                for (int k = 0; k < cores.length; k++) {
                    states[k].write(newStates[k]);
                }
            }
        }
        if (hasCache) {
            System.arraycopy(newCounts, 0, counts, 0, counts.length);
            batchesSeen = seen;
            batchesSinceRefresh = since;
            cacheRows = newRows;
            cacheSlots = newRows == null ? null : new RowSlots(newRows);
            cacheStateKind = null;
            cacheState = null;
            if (newRows != null) {
                cacheTable = backend.allocFloats(Math.max(newRows.length, 1) * dim());
                cacheTable.write(0, newCache, 0, newCache.length);
                if (cKind != null) {
                    ensureCacheState(cKind);
                    if (newCacheState != null) {
                        cacheState.write(newCacheState);
                    }
                }
            }
        }
    }

    private SparseOptimizer.Kind kindOf(int ordinal) throws IOException {
        if (ordinal == -1) {
            return null;
        }
        if (ordinal < 0 || ordinal >= SparseOptimizer.Kind.values().length) {
            throw new IOException(name + ": corrupt optimizer kind " + ordinal);
        }
        return SparseOptimizer.Kind.values()[ordinal];
    }

    private void writeShape(DataOutputStream out) throws IOException {
        out.writeInt(shape.rows());
        out.writeInt(shape.dim());
        out.writeInt(shape.cores());
        for (int x : shape.p()) {
            out.writeInt(x);
        }
        for (int x : shape.q()) {
            out.writeInt(x);
        }
        for (int x : shape.ranks()) {
            out.writeInt(x);
        }
    }

    private TtShape readShape(DataInputStream in) throws IOException {
        int n = in.readInt(), dim = in.readInt(), d = in.readInt();
        if (d < 2 || d > 64) {
            throw new IOException(name + ": corrupt TT checkpoint: d = " + d);
        }
        int[] p = new int[d], q = new int[d], r = new int[d + 1];
        for (int k = 0; k < d; k++) {
            p[k] = in.readInt();
        }
        for (int k = 0; k < d; k++) {
            q[k] = in.readInt();
        }
        for (int k = 0; k <= d; k++) {
            r[k] = in.readInt();
        }
        return new TtShape(n, dim, p, q, r);
    }

    private static void writeFloats(DataOutputStream out, float[] a) throws IOException {
        out.writeInt(a.length);
        byte[] buf = new byte[4 * Math.min(a.length, 1 << 14)];
        for (int start = 0; start < a.length; start += buf.length / 4) {
            int n = Math.min(buf.length / 4, a.length - start);
            for (int i = 0; i < n; i++) {
                int bits = Float.floatToRawIntBits(a[start + i]);
                buf[4 * i] = (byte) (bits >>> 24);
                buf[4 * i + 1] = (byte) (bits >>> 16);
                buf[4 * i + 2] = (byte) (bits >>> 8);
                buf[4 * i + 3] = (byte) bits;
            }
            out.write(buf, 0, 4 * n);
        }
    }

    private float[] readFloats(DataInputStream in, int expected, String what) throws IOException {
        int n = in.readInt();
        if (n != expected) {
            throw new IOException(name + ": checkpoint " + what + " has " + n + " floats, expected " + expected);
        }
        float[] a = new float[n];
        byte[] buf = new byte[4 * Math.min(n, 1 << 14)];
        for (int start = 0; start < n; start += buf.length / 4) {
            int m = Math.min(buf.length / 4, n - start);
            in.readFully(buf, 0, 4 * m);
            for (int i = 0; i < m; i++) {
                int bits = ((buf[4 * i] & 0xff) << 24) | ((buf[4 * i + 1] & 0xff) << 16)
                        | ((buf[4 * i + 2] & 0xff) << 8) | (buf[4 * i + 3] & 0xff);
                a[start + i] = Float.intBitsToFloat(bits);
            }
        }
        return a;
    }

    private static int[] grow(int[] a, int n) {
        return a.length >= n ? a : new int[Math.max(n, a.length + (a.length >> 1))];
    }

    private static float[] growF(float[] a, int n) {
        return a != null && a.length >= n ? a : new float[Math.max(n, a == null ? 0 : a.length + (a.length >> 1))];
    }
}
