package org.ttrec.dlrm.tt;

import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.engine.Checks;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.DenseTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.TtTable;
import org.ttrec.engine.tt.TtInit;
import org.ttrec.engine.tt.TtShapes;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;

/**
 * A Tensor-Train compressed EmbeddingBag (docs/tt-layout.md): the table is a {@link TtTable} of
 * the backend, which holds the d cores and their optimiser state and runs the lookups and the
 * fused updates, so the table is never materialised during training. Each batch is copied to
 * the backend once, into a {@link LookupPlan} that the forward and the backward share (the cpu
 * backend sorts the lookups there once for both).
 *
 * <p>Optionally a hot-row cache ({@link TtCacheConfig}, docs/tt-cache.md) keeps the most
 * frequent rows uncompressed in a {@link DenseTable}; cached lookups are served and trained
 * there, and the cores get no gradient from them. Pooling over a bag split between cache and
 * cores is exact: both parts run with sum pooling and per-sample weights that already carry the
 * mean's 1/(full bag length).
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
    private final TtTable table;
    /** The cores' share of each batch (all of it while no row is cached). */
    private final LookupPlan plan;
    /** The pooling the last forward ran the cores with (the cache split pools by explicit weights). */
    private Pooling planPooling;
    private boolean haveBatch;
    /** Whether the last forward split its batch between cores and cache. */
    private boolean lastSplit;
    /** Multiplier on the optimiser's learning rate for the cores (not for cached rows). */
    private float coreLrScale = 1f;
    /** The initialisation the cores were created with (null for an inference table). */
    private final TtInit init;
    /** The update rule of the cores, or null for the optimiser passed to {@link #backward}. */
    private SparseOptimizer.Kind coreKind;

    // hot-row cache: the last batch on the host (counted, then split between cores and cache)
    private final TtCacheConfig cacheConfig;
    private final int[] counts;
    private int batchesSeen;
    private int batchesSinceRefresh;
    private int[] cacheRows; // sorted; null until populated
    private RowSlots cacheSlots; // cacheRows' index
    private DenseTable cacheTable;
    private LookupPlan cachePlan;
    private int[] lastIdx = new int[0];
    private int[] lastOff = new int[1];
    private float[] lastW;
    private int lastBags;
    private boolean lastWeighted;
    private int[] ttIdx = new int[0], ttOff = new int[1], cIdx = new int[0], cOff = new int[1];
    private float[] ttW = new float[0], cW = new float[0];

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
        Checks.notNull(name, ": backend", backend);
        Checks.notNull(name, ": TT shape", shape);
        Checks.notNull(name, ": pooling", pooling);
        Checks.notNull(name, ": TT init", init);
        Checks.notNull(name, ": cache config", cacheConfig);
        this.name = name;
        this.backend = backend;
        this.shape = shape;
        this.pooling = pooling;
        this.cacheConfig = cacheConfig;
        this.init = init;
        float[][] host = init.create(shape, seed);
        this.table = newTable(backend, name, shape, host);
        this.plan = newPlan(table);
        counts = cacheConfig.enabled() && cacheConfig.capacity(shape.rows()) > 0 ? new int[shape.rows()] : null;
    }

    /**
     * A table for inference with given cores and, optionally, a frozen hot-row cache: the trained
     * state of a model file. The cache answers lookups of its rows exactly as the trained table's
     * populated cache did (same split, same pooling weights, so the same bits); it counts nothing
     * and is never re-picked, since an inference table is not trained. Such a table cannot be
     * checkpointed ({@link #save} throws).
     *
     * @param name        table name used in messages
     * @param backend     the backend that holds the cores and runs the kernels
     * @param shape       the TT shape
     * @param pooling     sum or mean
     * @param cores       one array per core, {@link TtShape#coreSize(int)} floats each (copied)
     * @param cacheRows   the cached rows in increasing order, or null for no cache (an empty array
     *                    is a populated cache of no rows, which pools as a cache does)
     * @param cacheValues {@code cacheRows.length x D} values of the cached rows (null without a cache)
     * @return the table
     */
    public static TtEmbeddingBag forInference(String name, ComputeBackend backend, TtShape shape, Pooling pooling,
                                              float[][] cores, int[] cacheRows, float[] cacheValues) {
        TtEmbeddingBag t = new TtEmbeddingBag(name, backend, shape, pooling, cores);
        if (cacheRows != null) {
            try {
                t.installFrozenCache(cacheRows, cacheValues);
            } catch (RuntimeException | Error e) {
                t.close();
                throw e;
            }
        }
        return t;
    }

    private TtEmbeddingBag(String name, ComputeBackend backend, TtShape shape, Pooling pooling, float[][] cores) {
        Checks.notNull("table name", name);
        Checks.notNull(name, ": backend", backend);
        Checks.notNull(name, ": TT shape", shape);
        Checks.notNull(name, ": pooling", pooling);
        if (cores.length != shape.cores()) {
            throw new IllegalArgumentException(name + ": " + cores.length + " cores given, the shape has " + shape.cores());
        }
        for (int k = 0; k < cores.length; k++) {
            if (cores[k].length != shape.coreSize(k)) {
                throw new IllegalArgumentException(name + ": core " + k + " has " + cores[k].length + " floats, the shape needs "
                        + shape.coreSize(k));
            }
        }
        this.name = name;
        this.backend = backend;
        this.shape = shape;
        this.pooling = pooling;
        this.cacheConfig = TtCacheConfig.OFF;
        this.init = null;
        this.table = newTable(backend, name, shape, cores);
        this.plan = newPlan(table);
        this.counts = null;
    }

    private void installFrozenCache(int[] rowsIn, float[] values) {
        int k = rowsIn.length;
        for (int i = 0; i < k; i++) {
            if (rowsIn[i] < 0 || rowsIn[i] >= shape.rows() || (i > 0 && rowsIn[i] <= rowsIn[i - 1])) {
                throw new IllegalArgumentException(name + ": cached row list not increasing within [0, "
                        + shape.rows() + ") at " + i + ": " + rowsIn[i]);
            }
        }
        if (values == null || values.length != (long) k * dim()) {
            throw new IllegalArgumentException(name + ": " + (values == null ? 0 : values.length) + " cache values for "
                    + k + " rows of " + dim());
        }
        DenseTable next = backend.newDenseTable(name + " cache", Math.max(k, 1), dim());
        try {
            next.writeRows(0, values, 0, k);
            cachePlan = next.newPlan();
        } catch (RuntimeException | Error e) {
            next.close();
            throw e;
        }
        cacheTable = next;
        cacheRows = rowsIn.clone();
        cacheSlots = new RowSlots(cacheRows);
    }

    /** @return a table of the backend holding the given cores (closed again if writing fails) */
    private static TtTable newTable(ComputeBackend backend, String name, TtShape shape, float[][] host) {
        TtTable table = backend.newTtTable(name, shape);
        try {
            for (int k = 0; k < host.length; k++) {
                table.writeCore(k, host[k]);
            }
            return table;
        } catch (RuntimeException | Error e) {
            table.close();
            throw e;
        }
    }

    /** @return a plan of the table (which is closed if that fails) */
    private static LookupPlan newPlan(TtTable table) {
        try {
            return table.newPlan();
        } catch (RuntimeException | Error e) {
            table.close();
            throw e;
        }
    }

    /**
     * A table with suggested factors (docs/tt-layout.md), one rank between all cores, the default
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
     * The backend's table that holds the cores and their optimiser state: read them with
     * {@link TtTable#readCore}/{@link TtTable#readState}, change them with {@link TtTable#writeCore}
     * (the table then drops what it kept from the last forward). Cached rows are not in it.
     *
     * @return the TT table
     */
    public TtTable table() {
        return table;
    }

    /** @return the cached rows, sorted, or an empty array before the cache is populated */
    public int[] cachedRows() {
        return cacheRows == null ? new int[0] : cacheRows.clone();
    }

    /**
     * Sets a multiplier on the learning rate of the optimiser passed to {@link #backward} for the
     * TT cores; cached rows (plain rows) keep the optimiser's own rate. A core slice's gradient
     * carries the product of the other cores' (small) entries, so at the rate of an uncompressed
     * table the cores learn slowly ({@link TtCoreRate}; {@link #setCoreTraining} sets the rule's
     * rate).
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

    /**
     * Sets the cores' update rule and rate from {@link TtCoreRate}: the multiplier on the model's
     * rate is {@code lrScale * TtCoreRate.scale(kind, shape, init)}, from the initialisation the
     * table was created with, not from its current cores, so a resumed run gets the same rate.
     *
     * A table made for inference is never trained and ignores this.
     *
     * @param kind    the cores' update rule (SGD, ADAGRAD or ROWWISE_ADAGRAD), or null for the
     *                optimiser passed to backward at its own rate (runs made before the rule)
     * @param lrScale a further positive multiplier (1: the rule's rate)
     */
    public void setCoreTraining(SparseOptimizer.Kind kind, double lrScale) {
        if (init == null) {
            return;
        }
        setCoreOptimizer(kind);
        setCoreLearningRateScale(lrScale * TtCoreRate.scale(kind, shape, init));
    }

    /** @return the multiplier on the learning rate of the cores (see {@link #setCoreLearningRateScale}) */
    public double coreLearningRateScale() {
        return coreLrScale;
    }

    /**
     * Sets the update rule of the cores, independent of the optimiser passed to {@link #backward}
     * (which keeps serving cached rows); its learning rate times {@link #coreLearningRateScale} is
     * the cores' rate, its epsilon theirs.
     *
     * @param kind SGD, ADAGRAD or ROWWISE_ADAGRAD; null: the optimiser passed to backward
     * @throws IllegalArgumentException for ACCUMULATE
     */
    private void setCoreOptimizer(SparseOptimizer.Kind kind) {
        if (kind == SparseOptimizer.Kind.ACCUMULATE) {
            throw new IllegalArgumentException(name + ": the cores' optimiser must update them, not ACCUMULATE");
        }
        coreKind = kind;
    }

    /** @return the cores' own update rule, or null when they follow the optimiser passed to backward */
    public SparseOptimizer.Kind coreOptimizer() {
        return coreKind;
    }

    /** @return whether the hot-row cache is populated */
    public boolean cachePopulated() {
        return cacheRows != null;
    }

    // ------------------------------------------------------------------ forward / backward

    @Override
    public void forward(int[] indices, int[] offsets, int bags, float[] perSampleWeights, FloatBuf out, int outOff,
                        int ldOut) {
        haveBatch = false;
        lastSplit = false;
        if (counts == null && cacheRows == null) {
            // no cache: the batch goes to the backend as it is (the plan checks it)
            plan.set(indices, offsets, bags, perSampleWeights);
            planPooling = pooling;
            table.forward(plan, pooling, false, out, outOff, ldOut);
            haveBatch = true;
            return;
        }
        validate(indices, offsets, bags, perSampleWeights);
        keepBatch(indices, offsets, bags, perSampleWeights);
        if (cacheRows == null) {
            plan.set(lastIdx, lastOff, bags, lastWeighted ? lastW : null);
            planPooling = pooling;
            table.forward(plan, pooling, false, out, outOff, ldOut);
        } else {
            split(bags, lastWeighted);
            // either part may get the whole batch next time: room for it in both, so the split
            // moving from batch to batch allocates nothing
            int n = lastOff[bags];
            plan.reserve(n, bags);
            cachePlan.reserve(n, bags);
            plan.set(ttIdx, ttOff, bags, ttW);
            planPooling = Pooling.SUM;
            table.forward(plan, Pooling.SUM, false, out, outOff, ldOut);
            cachePlan.set(cIdx, cOff, bags, cW);
            cacheTable.forward(cachePlan, Pooling.SUM, true, out, outOff, ldOut);
            lastSplit = true;
        }
        haveBatch = true;
    }

    @Override
    public void backward(FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        if (!haveBatch) {
            throw new IllegalStateException(name + ": backward without a forward");
        }
        Checks.notNull(name, ": optimizer", opt);
        // ACCUMULATE (a caller that applies the update itself) wins over the cores' own rule
        SparseOptimizer.Kind kind = coreKind == null || opt.kind() == SparseOptimizer.Kind.ACCUMULATE
                ? opt.kind() : coreKind;
        SparseOptimizer coreOpt = coreLrScale == 1f && kind == opt.kind() ? opt
                : new SparseOptimizer(kind, opt.lr() * coreLrScale, opt.eps());
        table.backward(plan, planPooling, gradOut, gradOff, ldGrad, coreOpt);
        if (lastSplit) {
            // the forward's split is still valid: the cached row set changes only below (or on load,
            // which drops the batch)
            cacheTable.backward(cachePlan, Pooling.SUM, gradOut, gradOff, ldGrad, opt);
        }
        if (counts != null) { // a frozen cache (forInference) counts nothing
            countAndMaybePopulate(lastOff[lastBags]);
        }
    }

    private void validate(int[] indices, int[] offsets, int bags, float[] w) {
        Checks.batch(name, shape.rows(), indices, offsets, bags, w);
    }

    /** Copies the batch to the host arrays the cache counts and splits (offsets rebased to 0). */
    private void keepBatch(int[] indices, int[] offsets, int bags, float[] w) {
        int n = offsets[bags] - offsets[0];
        lastIdx = grow(lastIdx, n);
        System.arraycopy(indices, offsets[0], lastIdx, 0, n);
        lastOff = grow(lastOff, bags + 1);
        for (int b = 0; b <= bags; b++) {
            lastOff[b] = offsets[b] - offsets[0];
        }
        lastWeighted = w != null;
        if (lastWeighted) {
            lastW = growF(lastW, n);
            System.arraycopy(w, offsets[0], lastW, 0, n);
        }
        lastBags = bags;
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

    // ------------------------------------------------------------------ the hot-row cache

    private void countAndMaybePopulate(int n) {
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
        SparseOptimizer.Kind kind = cacheTable == null ? null : cacheTable.stateKind();
        float[] state = null;
        if (kind != null && kind != SparseOptimizer.Kind.SGD) {
            boolean rowwise = kind == SparseOptimizer.Kind.ROWWISE_ADAGRAD;
            state = new float[Math.max(k, 1) * (rowwise ? 1 : dim)];
            float[] old = cacheTable.readState();
            for (int i = 0; i < k; i++) {
                int slot = Arrays.binarySearch(cacheRows, rowsNew[i]);
                if (slot >= 0) {
                    if (rowwise) {
                        state[i] = old[slot];
                    } else {
                        System.arraycopy(old, slot * dim, state, i * dim, dim);
                    }
                }
            }
        }
        DenseTable next = backend.newDenseTable(name + " cache", Math.max(k, 1), dim);
        LookupPlan nextPlan;
        try {
            next.writeRows(0, values, 0, k);
            next.writeState(kind, state);
            nextPlan = next.newPlan();
        } catch (RuntimeException | Error e) {
            next.close();
            throw e;
        }
        closeCache();
        cacheRows = rowsNew;
        cacheSlots = new RowSlots(rowsNew);
        cacheTable = next;
        cachePlan = nextPlan;
        Arrays.fill(counts, 0);
        batchesSinceRefresh = 0;
    }

    /** @return how many rows the hot-row cache may hold; 0 when the layer has no cache */
    public int cacheCapacity() {
        return counts == null ? 0 : cacheConfig.capacity(rows());
    }

    /**
     * Installs cached rows given from outside, e.g. by a safetensors import (docs/safetensors.md):
     * a model's predictions depend on the cached values, which after training differ from what the
     * cores give for those rows. The rows start with no optimiser state, and the lookup counts and
     * the refresh clock start again. {@code rows == null} puts the cache back to warming up (no
     * row cached, counting from zero), which is what a file without cached rows means.
     *
     * @param rows   cached row ids, ascending, unique, in [0, N), at most {@link #cacheCapacity()};
     *               or null for none
     * @param values rows.length x D values, row-major (ignored when rows is null)
     * @throws IllegalStateException    if the layer has no hot-row cache
     * @throws IllegalArgumentException if the rows or values are not as described (nothing changes)
     */
    public void restoreCache(int[] rows, float[] values) {
        if (counts == null) {
            throw new IllegalStateException(name + ": no hot-row cache configured");
        }
        DenseTable next = null;
        LookupPlan nextPlan = null;
        if (rows != null) {
            if (rows.length > cacheCapacity()) {
                throw new IllegalArgumentException(name + ": " + rows.length + " cached rows given, the capacity is "
                        + cacheCapacity());
            }
            for (int i = 0; i < rows.length; i++) {
                if (rows[i] < 0 || rows[i] >= rows() || (i > 0 && rows[i] <= rows[i - 1])) {
                    throw new IllegalArgumentException(name + ": cached row " + rows[i] + " at position " + i
                            + " is out of range [0, " + rows() + ") or not above the one before");
                }
            }
            if (values == null || values.length != rows.length * dim()) {
                throw new IllegalArgumentException(name + ": " + rows.length + " cached rows need "
                        + rows.length * dim() + " values, got " + (values == null ? "none" : values.length));
            }
            next = backend.newDenseTable(name + " cache", Math.max(rows.length, 1), dim());
            try {
                next.writeRows(0, values, 0, rows.length);
                nextPlan = next.newPlan();
            } catch (RuntimeException | Error e) {
                next.close();
                throw e;
            }
        }
        closeCache();
        cacheRows = rows == null ? null : rows.clone();
        cacheSlots = rows == null ? null : new RowSlots(cacheRows);
        cacheTable = next;
        cachePlan = nextPlan;
        Arrays.fill(counts, 0);
        batchesSinceRefresh = 0;
        if (rows == null) {
            batchesSeen = 0; // the warm-up starts again
        }
        haveBatch = false; // the last forward's split no longer matches the cache
    }

    private void closeCache() {
        if (cachePlan != null) {
            cachePlan.close();
            cachePlan = null;
        }
        if (cacheTable != null) {
            cacheTable.close();
            cacheTable = null;
        }
    }

    // ------------------------------------------------------------------ materialisation and size

    /**
     * {@inheritDoc} Cached rows read their cache value, other rows their TT value.
     */
    @Override
    public float[] materialize(int[] rowIds) {
        float[] result = table.materialize(rowIds);
        if (cacheRows != null && cacheRows.length > 0) {
            int dim = dim();
            float[] cache = new float[cacheRows.length * dim];
            cacheTable.readRows(0, cache, 0, cacheRows.length);
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
                counts == null ? (cacheRows == null ? "" : ", frozen hot-row cache of " + cacheRows.length + " rows") : ", hot-row cache " + cacheConfig.capacity(rows()) + " rows"
                        + (cacheRows == null ? " (warming up)" : " (" + cacheRows.length + " cached)"));
    }

    /** Releases the backend's tables and plans (cores, cache). */
    @Override
    public void close() {
        try {
            closeCache();
            plan.close();
        } finally {
            table.close();
        }
    }

    // ------------------------------------------------------------------ checkpoints

    @Override
    public void save(DataOutputStream out) throws IOException {
        if (counts == null && cacheRows != null) {
            throw new IllegalStateException(name + ": an inference table with a frozen hot-row cache has no checkpoint form");
        }
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeUTF(name);
        writeShape(out);
        out.writeInt(pooling.ordinal());
        int d = shape.cores();
        for (int k = 0; k < d; k++) {
            writeFloats(out, table.readCore(k));
        }
        SparseOptimizer.Kind stateKind = table.stateKind();
        out.writeInt(stateKind == null ? -1 : stateKind.ordinal());
        float[] state0 = table.readState(0);
        if (state0 != null) {
            writeFloats(out, state0);
            for (int k = 1; k < d; k++) {
                writeFloats(out, table.readState(k));
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
                float[] cache = new float[cacheRows.length * dim()];
                cacheTable.readRows(0, cache, 0, cacheRows.length);
                writeFloats(out, cache);
                SparseOptimizer.Kind cacheStateKind = cacheTable.stateKind();
                out.writeInt(cacheStateKind == null ? -1 : cacheStateKind.ordinal());
                float[] cacheState = cacheTable.readState();
                if (cacheState != null) {
                    writeFloats(out, cacheState);
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
        int d = shape.cores();
        float[][] newCores = new float[d][];
        for (int k = 0; k < d; k++) {
            newCores[k] = readFloats(in, shape.coreSize(k), "core " + k);
        }
        int sk = in.readInt();
        SparseOptimizer.Kind kind = kindOf(sk);
        float[][] newStates = null;
        if (kind != null && kind != SparseOptimizer.Kind.SGD) {
            newStates = new float[d][];
            for (int k = 0; k < d; k++) {
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
        DenseTable nextCache = null;
        LookupPlan nextPlan = null;
        if (hasCache && newRows != null) {
            nextCache = backend.newDenseTable(name + " cache", Math.max(newRows.length, 1), dim());
            try {
                nextCache.writeRows(0, newCache, 0, newRows.length);
                nextCache.writeState(cKind, newCacheState);
                nextPlan = nextCache.newPlan();
            } catch (RuntimeException | Error e) {
                nextCache.close();
                throw e;
            }
        }
        for (int k = 0; k < d; k++) {
            table.writeCore(k, newCores[k]);
        }
        table.writeStates(kind, newStates);
        haveBatch = false;
        if (hasCache) {
            System.arraycopy(newCounts, 0, counts, 0, counts.length);
            batchesSeen = seen;
            batchesSinceRefresh = since;
            closeCache();
            cacheRows = newRows;
            cacheSlots = newRows == null ? null : new RowSlots(newRows);
            cacheTable = nextCache;
            cachePlan = nextPlan;
        }
    }

    @Override
    public org.ttrec.dlrm.layers.TrainableState trainableState() {
        if (counts != null) {
            throw new UnsupportedOperationException(name + ": a TT table with a hot-row cache cannot be averaged across "
                    + "replicas (each replica caches its own rows); train it without the cache (--tt-cache-fraction 0)");
        }
        int d = shape.cores();
        java.util.List<float[]> cores = new java.util.ArrayList<>(d);
        for (int k = 0; k < d; k++) {
            cores.add(table.readCore(k));
        }
        java.util.List<float[]> states = new java.util.ArrayList<>(d);
        SparseOptimizer.Kind kind = table.stateKind();
        if (table.readState(0) != null) {
            for (int k = 0; k < d; k++) {
                states.add(table.readState(k));
            }
        }
        return new org.ttrec.dlrm.layers.TrainableState(cores, kind, states);
    }

    @Override
    public void loadTrainableState(org.ttrec.dlrm.layers.TrainableState s) {
        if (counts != null) {
            throw new UnsupportedOperationException(name + ": a TT table with a hot-row cache cannot take an averaged state");
        }
        int d = shape.cores();
        if (s.weights().size() != d) {
            throw new IllegalArgumentException(name + ": trainable state holds " + s.weights().size() + " cores, the table " + d);
        }
        for (int k = 0; k < d; k++) {
            if (s.weights().get(k).length != shape.coreSize(k)) {
                throw new IllegalArgumentException(name + ": core " + k + " has " + s.weights().get(k).length
                        + " floats, the table's " + shape.coreSize(k));
            }
        }
        float[][] states = null;
        if (s.stateKind() == null || s.optimizerState().isEmpty()) {
            if (!s.optimizerState().isEmpty()) {
                throw new IllegalArgumentException(name + ": optimiser state without an optimiser");
            }
        } else {
            if (s.optimizerState().size() != d) {
                throw new IllegalArgumentException(name + ": " + s.optimizerState().size() + " optimiser states for " + d + " cores");
            }
            states = new float[d][];
            for (int k = 0; k < d; k++) {
                long want = s.stateKind() == SparseOptimizer.Kind.ROWWISE_ADAGRAD ? (long) shape.p(k) * shape.rank(k)
                        : shape.coreSize(k);
                if (s.optimizerState().get(k).length != want) {
                    throw new IllegalArgumentException(name + ": optimiser state " + k + " has "
                            + s.optimizerState().get(k).length + " floats, expected " + want);
                }
                states[k] = s.optimizerState().get(k);
            }
        }
        for (int k = 0; k < d; k++) {
            table.writeCore(k, s.weights().get(k));
        }
        table.writeStates(s.stateKind(), states);
        haveBatch = false;
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
