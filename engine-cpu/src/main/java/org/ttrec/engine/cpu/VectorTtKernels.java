package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;

import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

import static org.ttrec.engine.cpu.TtDotKernels.dotsAdd;
import static org.ttrec.engine.cpu.TtDotKernels.dotsT;
import static org.ttrec.engine.cpu.TtMicroKernels.adagrad;
import static org.ttrec.engine.cpu.TtMicroKernels.axpy;
import static org.ttrec.engine.cpu.TtMicroKernels.gemmRows;
import static org.ttrec.engine.cpu.TtMicroKernels.gemmRows2x2;
import static org.ttrec.engine.cpu.TtMicroKernels.gemmRowsAdd;
import static org.ttrec.engine.cpu.TtMicroKernels.gemmRowsAdd2x2;
import static org.ttrec.engine.cpu.TtMicroKernels.gemmRowsN4;
import static org.ttrec.engine.cpu.TtMicroKernels.gemmRowsN8;
import static org.ttrec.engine.cpu.TtMicroKernels.sumSquares;
import static org.ttrec.engine.cpu.TtMicroKernels.untranspose4;
import static org.ttrec.engine.cpu.TtSliceGrad.lastBack4;
import static org.ttrec.engine.cpu.TtSliceGrad.rowGradT4;
import static org.ttrec.engine.cpu.TtSliceGrad.sliceGrad;
import static org.ttrec.engine.cpu.TtSliceGrad.sliceGradQuadsSgd;
import static org.ttrec.engine.cpu.TtSliceGrad.sliceGradT;

/**
 * Fast TT-EmbeddingBag kernels on host arrays (spec sections 2-4), for the Vector API backend.
 *
 * <h2>How</h2>
 * <ul>
 *   <li>The lookups of a batch are radix-sorted (key = the row with its first two digits swapped,
 *       i.e. (i_1, i_0, i_2, ...), then position) into reusable scratch, so every distinct row is
 *       computed once, rows sharing a prefix (i_0..i_k), k >= 1, are adjacent, and rows using the
 *       same middle-core slice run back to back while it is in L1.</li>
 *   <li>Rows are walked in sorted order keeping one "group" per chain level: P_k depends only on
 *       the digits (i_0..i_k), so when the next row shares its first k+1 digits, P_k is reused.
 *       Every distinct prefix (a group) stores its P_k once.</li>
 *   <li>The small products are vectorised along the longer of the two free dimensions: along the
 *       columns q_k R_{k+1} when that is at least one vector, otherwise (narrow cores, typically
 *       the last one with R_d = 1) along the rank using a transposed copy of the touched slices.</li>
 *   <li>Backward: the gradient of each distinct row (its lookups' scaled output gradients, summed
 *       in lookup order) flows back through the group tree: a group's P_k-gradient is the sum of
 *       its children's, so a prefix shared by many rows is back-propagated once. Each group then
 *       contributes P_{k-1}^T @ dP_k to the slice (k, i_k). Contributions are summed per slice in
 *       a fixed order (groups sorted by digit, then by row) into a dense per-core gradient, and the
 *       optimiser is applied once per touched slice.</li>
 *   <li>Work is split over threads by a static partition (rows in the chain phase, slices in the
 *       reduction phase, bags in pooling), with no atomics: results are bit-identical for the same
 *       inputs and thread count. Distinct rows are processed in blocks of {@value #BLOCK} so the
 *       per-group scratch stays bounded.</li>
 *   <li>Scratch grows once and is reused; steady-state calls allocate nothing.</li>
 * </ul>
 * Instances are not thread-safe: one call at a time. Arguments are not checked here: the caller
 * ({@link CpuBackend}) runs the reference backend's checks (built on {@code Checks}) first.
 */
public final class VectorTtKernels {
    private static final VectorSpecies<Float> SP = VectorWidth.FLOAT;
    private static final int L = VectorWidth.LANES;
    private static final boolean SCALAR = VectorWidth.SCALAR;
    /** Distinct rows per block of the chain/reduction phases (bounds the group scratch). */
    static final int BLOCK = 4096;
    private static final int RADIX_BITS = 12;
    /**
     * A worker transposes a wide slice for the backward only when it expects to use it this many
     * times: transposing costs one scalar copy per slice entry, the alternative (dot products)
     * one horizontal reduction per output entry.
     */
    static final boolean SWAP_LEADING_DIGITS = Boolean.parseBoolean(System.getProperty("ttrec.tt.swap", "true"));
    static final int TRANSPOSE_MIN_USES = Integer.getInteger("ttrec.tt.transposeUses", 4);
    /**
     * Distinct rows a call needs per thread before it is split over that thread
     * ({@code ttrec.tt.minRowsPerThread}): every phase of a split call costs a fork and a join,
     * and at 128 lookups two threads ran slower than one (wall time, 2 vCPUs). The number of
     * partitions depends only on the number of distinct rows, so results stay bit-identical for
     * the same inputs and thread count.
     */
    static final int MIN_ROWS_PER_THREAD = Integer.getInteger("ttrec.tt.minRowsPerThread", 256);
    /**
     * Bytes of forward products (plus core snapshots) kept per kernel instance for reuse by the
     * following backward ({@code ttrec.tt.reuseMB}, 0 disables the reuse); by default 256 MB but
     * at most an eighth of the maximum heap, so small heaps are not crowded out.
     */
    static final long REUSE_BUDGET = Long.getLong("ttrec.tt.reuseMB",
            Math.min(256L, Runtime.getRuntime().maxMemory() / 8 >> 20)) << 20;
    /** See {@link ForwardCache.Registry#Registry}; {@code ttrec.tt.reuseMinFlopsPerByte}. */
    static final double REUSE_MIN_FLOPS_PER_BYTE =
            Double.parseDouble(System.getProperty("ttrec.tt.reuseMinFlopsPerByte", "12"));

    private final ForkJoinPool pool;
    private final int threads;
    /** Distinct rows per partition below which a call uses fewer partitions than threads. */
    private final int minRowsPerPart;
    /** Partitions (threads used) of the current call: at most threads, a function of its distinct rows. */
    private int parts = 1;
    private final ForwardCache.Registry reuse;
    /** Backward calls that reused the forward's products (for tests). */
    long reuseHits;
    /** Level-1 slices updated in the chain by {@link Worker#finishRun} (for tests). */
    long fusedRuns;

    /** @return forward products of two level-1 groups computed in one, over all workers (for tests) */
    long pairedForwards() {
        long n = 0;
        for (Worker w : workers) {
            n += w.pairedForwards;
        }
        return n;
    }
    private final Worker[] workers;

    // ---- per-call shape data (small arrays, regrown when d grows)
    private TtShape shape;
    private int d;
    /** Rows are sorted by (i_1, i_0, i_2, ...): each level-1 slice is used in one run of rows. */
    private boolean permuted;
    /** Backward: level-1 groups' dP_0 in pairs ({@link Worker#close}); D16-like shapes (q_0 = 2). */
    private boolean pairLevel1;
    static final boolean PAIR = Boolean.parseBoolean(System.getProperty("ttrec.tt.pair", "true"));
    /**
     * Backward of one partition with the whole batch in one block and SGD: each level-1 slice is
     * updated as soon as its run of rows is closed ({@link Worker#finishRun}), right after the
     * dP_0 products that read its old values, while the slice is still in L1. The reduce phase
     * would read it again from L2 or L3: at 128 lookups most middle slices (8 KB at D16 R32) are
     * touched once, and those extra reads cost as much as the arithmetic.
     */
    private boolean fuseLevel1;
    static final boolean FUSE1 = Boolean.parseBoolean(System.getProperty("ttrec.tt.fuse1", "true"));
    /**
     * Forward: P_1 of two level-1 groups on the same slice in one 4-row product
     * ({@link #gemmRows2x2}), D16-like shapes (q_0 = 2). The 2-row product needs 6 loads per 8
     * FMAs and is load-bound (about 55% of FMA peak with everything in L1); four rows share each
     * slice load. Same arithmetic per element, so the same bits.
     */
    private boolean pairForward;
    static final boolean PAIR_FWD = Boolean.parseBoolean(System.getProperty("ttrec.tt.pairFwd", "true"));
    private int[] msz = new int[0];   // floats of P_k: Q_k * R_{k+1}
    private int[] ncol = new int[0];  // q_k * R_{k+1}
    private int[] rk = new int[0];    // R_k
    private int[] qpre = new int[0];  // Q_{k-1} = q_0..q_{k-1} (rows of P_{k-1}); qpre[0] = 1
    private boolean[] narrow = new boolean[0];
    private boolean[] transposeBack = new boolean[0];
    private int[] pRadix = new int[0];
    private double[] pInv = new double[0];
    private float[][] cores;
    private int callId;

    // ---- per-call batch scratch
    private long[] keys = new long[0];
    private long[] sortTmp = new long[0];
    private final int[] radixCount = new int[(1 << RADIX_BITS) + 1];
    private int[] uRow = new int[0];     // distinct rows, ascending
    private int[] uStart = new int[0];   // first sorted key of distinct row u (U+1 entries)
    private int[] posU = new int[0];     // relative lookup position -> distinct row id
    private int[] bagOf = new int[0];    // relative lookup position -> bag
    private float[] rowBuf = new float[0]; // U x D: row values (forward) or row gradients (backward)
    /**
     * Per distinct row, where its value or gradient lives outside rowBuf, or -1. Forward: the
     * output row of the one bag that looks it up once, alone (the chain writes the value there
     * and the pool skips the bag). Backward: the gradOut row of its one lookup at scale 1 (the
     * chain and the last level's slice gradient read it there; no row gradient is formed).
     * Batches of bags of one lookup, the common case for Criteo's categorical features, skip the
     * copy through rowBuf both ways.
     */
    private int[] direct = new int[0];
    private boolean directOut, directGrad;
    static final boolean DIRECT = Boolean.parseBoolean(System.getProperty("ttrec.tt.direct", "true"));
    /** {@link #DIRECT} for this instance (tests compare both paths in one JVM). */
    boolean directRows = DIRECT;
    /**
     * Forward calls that wrote some rows straight to the output; backward calls that looked for
     * row gradients to read straight from gradOut (for tests).
     */
    long directForwards, directBackwards;
    private int distinct;

    // ---- per-block group scratch (slots are block-relative distinct-row ids)
    private float[][] pv = new float[0][];    // level k < d-1: P_k of the group opened at a slot (active block)
    private float[][] pvScratch = new float[0][]; // pv when the block is not kept in a ForwardCache
    private boolean pvCached;
    private boolean fuseApply;                // backward in one block: reduce applies the optimiser
    private float[][] gp = new float[0][];    // level k < d-1: dP_k of that group
    private int[][] digitAt = new int[0][];   // level k: digit of the group opened at a slot, or -1
    private int[][] parentAt = new int[0][];  // level k >= 1: slot of the parent group
    private long[] sliceKeys = new long[0];
    private int[] sliceSeg = new int[0];      // segment starts per slice (per level, reused)
    private int[] levelSlices = new int[0];   // number of slices per level in this block
    private int[] levelKeyBase = new int[0];

    // ---- dense per-core gradient and touched flags (persist across blocks of one call)
    private float[][] grad = new float[0][];
    private int[][] touched = new int[0][]; // stamp = callId when slice touched
    private int[][] touchedList = new int[0][];
    private int[] touchedCount = new int[0];

    // ---- the call's arguments (read by workers)
    private int[] idx;
    private int[] off;
    private float[] weights;
    private Pooling pooling;
    private float[] out;
    private int outOff, ldOut;
    private boolean accumulate;
    private float[] gradOut;
    private int gradOff, ldGrad;
    private float[][] states;
    private SparseOptimizer opt;
    private int bags;
    private int blockStart, blockEnd;
    private int phase;
    private static final int PHASE_ROW_GRAD = 0, PHASE_CHAIN_FWD = 1, PHASE_CHAIN_BWD = 2, PHASE_POOL = 3,
            PHASE_REDUCE = 4, PHASE_APPLY = 5, PHASE_REDUCE0 = 10;

    /**
     * @param pool    the pool to run on, or null when {@code threads == 1}
     * @param threads number of static partitions (>= 1)
     */
    public VectorTtKernels(ForkJoinPool pool, int threads) {
        this(pool, threads, REUSE_BUDGET, REUSE_MIN_FLOPS_PER_BYTE, MIN_ROWS_PER_THREAD);
    }

    /** As {@link #VectorTtKernels(ForkJoinPool, int)} with the forward-reuse policy given (tests). */
    VectorTtKernels(ForkJoinPool pool, int threads, long reuseBudget, double reuseMinFlopsPerByte) {
        this(pool, threads, reuseBudget, reuseMinFlopsPerByte, MIN_ROWS_PER_THREAD);
    }

    /** As above, with the fewest distinct rows worth a partition of its own (tests use 1). */
    VectorTtKernels(ForkJoinPool pool, int threads, long reuseBudget, double reuseMinFlopsPerByte,
                    int minRowsPerPart) {
        this.minRowsPerPart = Math.max(1, minRowsPerPart);
        this.reuse = new ForwardCache.Registry(reuseBudget, reuseMinFlopsPerByte);
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (threads > 1 && pool == null) {
            throw new IllegalArgumentException("a pool is needed for " + threads + " threads");
        }
        this.pool = pool;
        this.threads = threads;
        workers = new Worker[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = new Worker(t);
        }
    }

    /** @return the number of threads */
    public int threads() {
        return threads;
    }

    /** @return the partitions the last call used (tests) */
    int parts() {
        return parts;
    }

    /** See {@code ComputeBackend.ttOwnCores}: forwards on these cores keep their products unchecked. */
    public void own(float[][] cores) {
        reuse.own(cores);
    }

    /** See {@code ComputeBackend.ttCoresChanged}. */
    public void changed(float[][] cores) {
        reuse.changed(cores);
    }

    // ------------------------------------------------------------------ validation

    // ------------------------------------------------------------------ entry points

    /**
     * Forward: out[b] (+)= pool_j weight_j * row(indices[j]) for the table the cores represent.
     * Same contract as {@code ComputeBackend.ttEmbeddingBagForward} on host arrays.
     */
    public void forward(TtShape shape, float[][] cores, int[] indices, int[] offsets, int bags, float[] perSampleWeights,
                        Pooling pooling, boolean accumulate, float[] out, int outOff, int ldOut) {
        begin(shape, cores, indices, offsets, bags, perSampleWeights, pooling);
        this.out = out;
        this.outOff = outOff;
        this.ldOut = ldOut;
        this.accumulate = accumulate;
        ensureRowBuf();
        directOut = directRows && !accumulate && perSampleWeights == null;
        if (directOut) {
            boolean any = false;
            Arrays.fill(direct, 0, distinct, -1);
            int o0 = offsets[0];
            for (int b = 0; b < bags; b++) {
                if (offsets[b + 1] - offsets[b] == 1) {
                    int u = posU[offsets[b] - o0];
                    if (uStart[u + 1] - uStart[u] == 1) {
                        direct[u] = outOff + b * ldOut;
                        any = true;
                    }
                }
            }
            directOut = any;
            if (any) {
                directForwards++;
            }
        }
        ForwardCache fc = reuse.forForward(cores, shape, distinct, BLOCK);
        for (blockStart = 0; blockStart < distinct; blockStart += BLOCK) {
            blockEnd = Math.min(distinct, blockStart + BLOCK);
            ensureBlockScratch(blockEnd - blockStart);
            int b = blockStart / BLOCK;
            pv = fc != null && b < fc.blocks ? fc.blockPv(b, blockEnd - blockStart, msz, d) : pvScratch;
            run(PHASE_CHAIN_FWD);
        }
        long tr0 = PROFILE ? MX.getCurrentThreadCpuTime() : 0;
        if (fc != null) {
            fc.record(cores, shape, uRow, distinct, msz);
        }
        if (PROFILE) PROF[8] += MX.getCurrentThreadCpuTime() - tr0;
        run(PHASE_POOL);
        directOut = false;
        this.out = null;
        end();
    }

    /**
     * Backward with the fused optimiser. Same contract as
     * {@code ComputeBackend.ttEmbeddingBagBackward} on host arrays.
     */
    public void backward(TtShape shape, float[][] cores, float[][] states, int[] indices, int[] offsets, int bags,
                         float[] weights, Pooling pooling, float[] gradOut, int gradOff, int ldGrad,
                         SparseOptimizer opt) {
        long tb0 = PROFILE ? MX.getCurrentThreadCpuTime() : 0;
        begin(shape, cores, indices, offsets, bags, weights, pooling);
        if (PROFILE) PROF[6] += MX.getCurrentThreadCpuTime() - tb0;
        this.gradOut = gradOut;
        this.gradOff = gradOff;
        this.ldGrad = ldGrad;
        this.states = states;
        this.opt = opt;
        ensureRowBuf();
        ensureGrad();
        int n = offsets[bags] - offsets[0];
        for (int b = 0; b < bags; b++) {
            for (int j = offsets[b]; j < offsets[b + 1]; j++) {
                bagOf[j - offsets[0]] = b;
            }
        }
        fuseApply = distinct <= BLOCK;
        directGrad = directRows && dense(d - 1);
        if (directGrad) {
            directBackwards++;
        }
        if (n > 0) {
            run(PHASE_ROW_GRAD);
        }
        // the forward's P_k, when it ran on bitwise the same rows and core slices (see ForwardCache)
        long tm0 = PROFILE ? MX.getCurrentThreadCpuTime() : 0;
        ForwardCache fc = reuse.forBackward(cores, shape, uRow, distinct);
        fuseApply = distinct <= BLOCK;
        if (PROFILE) PROF[9] += MX.getCurrentThreadCpuTime() - tm0;
        if (fc != null) {
            reuseHits++;
        }
        for (blockStart = 0; blockStart < distinct; blockStart += BLOCK) {
            blockEnd = Math.min(distinct, blockStart + BLOCK);
            ensureBlockScratch(blockEnd - blockStart);
            int b = blockStart / BLOCK;
            pvCached = fc != null && b < fc.blocks;
            pv = pvCached ? fc.pv[b] : pvScratch;
            int perThread = (blockEnd - blockStart) / parts;
            for (int k = 0; k < d; k++) {
                transposeBack[k] = !SCALAR && (long) perThread >= (long) TRANSPOSE_MIN_USES * shape.p(k);
            }
            pairLevel1 = PAIR && permuted && d >= 3 && !narrow[1] && transposeBack[1] && qpre[1] == 2
                    && rk[1] % (2 * L) == 0;
            // the reduce phase's sgdInRegisters condition for level 1: the fused update runs the
            // same kernel on the same rows in the same order, so the bits are those of the reduce
            fuseLevel1 = FUSE1 && permuted && fuseApply && parts == 1 && !SCALAR && !narrow[1]
                    && opt.kind() == SparseOptimizer.Kind.SGD && ncol[1] % (4 * L) == 0 && (rk[1] & 3) == 0;
            lastInChain = sumLastInChain && parts == 1 && dense(d - 1);
            // lastSliceGrad's rowGradT4 condition, and levelBackward's gemmRowsAdd on the
            // transposed slice with rows in pairs (Q_{d-1} even): the arithmetic lastBack4 repeats
            fuseLast = fuseLastLevel && lastInChain && !SCALAR && narrow[d - 1] && ncol[d - 1] == 4
                    && rk[d - 1] % (2 * L) == 0 && (qpre[d - 1] & 1) == 0;
            level0InChain = sumLevel0InChain && fuseLevel1 && dense(0);
            // one partition (level0InChain implies it): worker 0 alone uses the ring
            gMask = ringScratch && level0InChain && ringRows < blockEnd - blockStart ? ringRows - 1 : -1;
            if (gMask != -1) {
                ringBlocks++;
            }
            if (level0InChain) {
                level0Chains++;
            }
            run(PHASE_CHAIN_BWD);
            if (dense(0)) {
                denseReduces++;
            }
            long tb1 = PROFILE ? MX.getCurrentThreadCpuTime() : 0;
            buildSliceLists();
            if (PROFILE) PROF[7] += MX.getCurrentThreadCpuTime() - tb1;
            run(PHASE_REDUCE);
            run(PHASE_REDUCE0);
        }
        pvCached = false;
        fuseLevel1 = false;
        lastInChain = false;
        level0InChain = false;
        gMask = -1;
        if (!fuseApply) {
            run(PHASE_APPLY); // changes the cores: a later backward must not reuse this forward
        }
        fuseApply = false;
        directGrad = false;
        if (fc != null) {
            fc.invalidate();
        }
        this.gradOut = null;
        this.states = null;
        this.opt = null;
        end();
    }

    // ------------------------------------------------------------------ set-up

    private void begin(TtShape s, float[][] c, int[] indices, int[] offsets, int nBags, float[] w, Pooling p) {
        shape = s;
        cores = c;
        idx = indices;
        off = offsets;
        bags = nBags;
        weights = w;
        pooling = p;
        callId++;
        if (callId == Integer.MAX_VALUE) { // stamps would wrap: clear them
            callId = 1;
            for (Worker wk : workers) {
                wk.resetStamps();
            }
            for (int[] t : touched) {
                Arrays.fill(t, 0);
            }
        }
        d = s.cores();
        if (msz.length < d) {
            msz = new int[d];
            ncol = new int[d];
            rk = new int[d + 1];
            qpre = new int[d];
            narrow = new boolean[d];
            transposeBack = new boolean[d];
            pRadix = new int[d];
            pInv = new double[d];
        }
        int qq = 1;
        for (int k = 0; k < d; k++) {
            qpre[k] = qq;
            qq *= s.q(k);
            rk[k] = s.rank(k);
            ncol[k] = s.q(k) * s.rank(k + 1);
            msz[k] = qq * s.rank(k + 1);
            narrow[k] = !SCALAR && ncol[k] < L;
            pRadix[k] = s.p(k);
            pInv[k] = 1.0 / s.p(k);
        }
        rk[d] = 1;
        int n = offsets[nBags] - offsets[0];
        if (keys.length < n) {
            keys = new long[n];
            sortTmp = new long[Math.max(n, sortTmp.length)];
            posU = new int[n];
            bagOf = new int[n];
        }
        int o0 = offsets[0];
        boolean permute = SWAP_LEADING_DIGITS && d >= 3 && prodP(s) < Integer.MAX_VALUE;
        permuted = permute;
        pairForward = PAIR_FWD && permute && !SCALAR && !narrow[1] && qpre[1] == 2 && ncol[1] % (4 * L) == 0;
        if (sortedValid && n == sortedN && (s == sortedShape || s.equals(sortedShape))
                && Arrays.equals(indices, o0, o0 + n, sortedIdx, 0, n)) {
            // the rows of the last call (a backward after its forward): keys, distinct rows and
            // positions are still those of these indices
            sortReuses++;
        } else {
            sortRows(s, indices, o0, n, permute);
        }
        // from the distinct rows alone: a forward and a backward on the same rows split them the
        // same way, which the reuse of the forward's products (ForwardCache) relies on
        parts = (int) Math.max(1, Math.min(threads, distinct / minRowsPerPart));
        for (Worker wk : workers) {
            wk.ensure();
        }
    }

    /** The indices whose sort the keys, distinct rows and positions hold (see {@link #begin}). */
    private int[] sortedIdx = new int[0];
    private int sortedN;
    private TtShape sortedShape;
    private boolean sortedValid;
    /** Calls that found their rows already sorted (for tests). */
    long sortReuses;

    /** Sorts a call's lookups by row (in the permuted digit order), then lists the distinct rows. */
    private void sortRows(TtShape s, int[] indices, int o0, int n, boolean permute) {
        sortedValid = false;
        int p0 = s.p(0), p1 = s.p(1);
        long tail = permute ? prodP(s) / ((long) p0 * p1) : 1;
        double tailInv = 1.0 / tail, p1Inv = 1.0 / p1;
        long maxKey = 0;
        for (int j = 0; j < n; j++) {
            int row = indices[o0 + j];
            long key = row;
            if (permute) {
                // order rows by (i_1, i_0, i_2, ...): rows sharing the (largest) middle slice run
                // back to back and find it in L1; groups (i_0..i_k) for k >= 1 stay contiguous
                long lead = quotient(row, tail, tailInv), rest = row - lead * tail;
                long i0 = quotient(lead, p1, p1Inv), i1 = lead - i0 * p1;
                key = (i1 * p0 + i0) * tail + rest;
            }
            keys[j] = (key << 32) | j;
            maxKey = Math.max(maxKey, key);
        }
        radixSort(keys, 0, n, maxKey);
        // distinct rows
        if (uRow.length < n + 1) {
            uRow = new int[n + 1];
            uStart = new int[n + 1];
        }
        int u = -1;
        int prev = -1;
        for (int t = 0; t < n; t++) {
            int row = indices[o0 + (int) keys[t]];
            if (row != prev) {
                u++;
                uRow[u] = row;
                uStart[u] = t;
                prev = row;
            }
            posU[(int) keys[t]] = u;
        }
        distinct = u + 1;
        uStart[distinct] = n;
        if (sortedIdx.length < n) {
            sortedIdx = new int[Math.max(n, sortedIdx.length + (sortedIdx.length >> 1))];
        }
        System.arraycopy(indices, o0, sortedIdx, 0, n);
        sortedN = n;
        sortedShape = s;
        sortedValid = true;
    }

    /**
     * Sorts {@code a[from, from + n)} by the high 32 bits (a non-negative key <= maxKey), stably;
     * callers put ascending payloads in the low 32 bits, so the result equals a plain sort of the
     * longs. LSD radix sort in passes of up to {@value #RADIX_BITS} bits: O(n), versus
     * O(n log n) comparisons.
     */
    private void radixSort(long[] a, int from, int n, long maxKey) {
        if (n < 256) {
            Arrays.sort(a, from, from + n);
            return;
        }
        if (sortTmp.length < n) {
            sortTmp = new long[Math.max(n, sortTmp.length + (sortTmp.length >> 1))];
        }
        int bits = Math.max(1, 64 - Long.numberOfLeadingZeros(maxKey));
        int passes = (bits + RADIX_BITS - 1) / RADIX_BITS;
        int width = (bits + passes - 1) / passes;
        int mask = (1 << width) - 1;
        int[] count = radixCount;
        long[] src = a, dst = sortTmp;
        int srcOff = from, dstOff = 0;
        for (int pass = 0; pass < passes; pass++) {
            int shift = 32 + pass * width;
            Arrays.fill(count, 0, mask + 2, 0);
            for (int i = 0; i < n; i++) {
                count[(int) ((src[srcOff + i] >>> shift) & mask) + 1]++;
            }
            for (int b = 0; b <= mask; b++) {
                count[b + 1] += count[b];
            }
            for (int i = 0; i < n; i++) {
                long v = src[srcOff + i];
                dst[dstOff + count[(int) ((v >>> shift) & mask)]++] = v;
            }
            long[] t = src;
            src = dst;
            dst = t;
            int o = srcOff;
            srcOff = dstOff;
            dstOff = o;
        }
        if (src != a) {
            System.arraycopy(src, srcOff, a, from, n);
        }
    }

    /**
     * x / d for 0 <= x < 2^31 and d >= 1, from the double reciprocal corrected by one step: a
     * long division takes tens of cycles, and the sort key needs two per lookup.
     */
    static long quotient(long x, long d, double inv) {
        long q = (long) (x * inv);
        long r = x - q * d;
        if (r < 0) {
            q--;
        } else if (r >= d) {
            q++;
        }
        return q;
    }

    private static long prodP(TtShape s) {
        long prod = 1;
        for (int k = 0; k < s.cores(); k++) {
            prod = Math.min(prod * s.p(k), Long.MAX_VALUE / Integer.MAX_VALUE);
        }
        return prod;
    }

    private void end() {
        cores = null;
        idx = null;
        off = null;
        weights = null;
    }

    private void ensureRowBuf() {
        if (direct.length < distinct) {
            direct = new int[Math.max(distinct, direct.length + (direct.length >> 1))];
        }
        long need = (long) distinct * shape.dim();
        if (rowBuf.length < need) {
            rowBuf = new float[(int) Math.min(Integer.MAX_VALUE - 16, Math.max(need, rowBuf.length + (rowBuf.length >> 1)))];
        }
    }

    private void ensureBlockScratch(int rows) {
        if (gp.length < d) {
            gp = Arrays.copyOf(gp, d);
            digitAt = Arrays.copyOf(digitAt, d);
            parentAt = Arrays.copyOf(parentAt, d);
            levelSlices = new int[d];
            levelKeyBase = new int[d];
        }
        if (pvScratch.length < d) {
            pvScratch = Arrays.copyOf(pvScratch, d);
        }
        for (int k = 0; k < d; k++) {
            if (k < d - 1) {
                long need = (long) rows * msz[k];
                if (gp[k] == null || gp[k].length < need) {
                    gp[k] = new float[(int) need];
                }
                if (k > 0 && (pvScratch[k] == null || pvScratch[k].length < need)) {
                    pvScratch[k] = new float[(int) need];
                }
            }
            if (digitAt[k] == null || digitAt[k].length < rows) {
                digitAt[k] = new int[rows];
                parentAt[k] = new int[rows];
            }
            Arrays.fill(digitAt[k], 0, rows, -1);
        }
        if (sliceKeys.length < (long) rows * d) {
            sliceKeys = new long[rows * d];
            sliceSeg = new int[rows * d + d];
        }
    }

    private void ensureGrad() {
        if (grad.length < d) {
            grad = Arrays.copyOf(grad, d);
            touched = Arrays.copyOf(touched, d);
            touchedList = Arrays.copyOf(touchedList, d);
            touchedCount = new int[d];
        }
        for (int k = 0; k < d; k++) {
            if (grad[k] == null || grad[k].length < shape.coreSize(k)) {
                grad[k] = new float[shape.coreSize(k)];
            }
            if (touched[k] == null || touched[k].length < shape.p(k)) {
                touched[k] = new int[shape.p(k)];
                touchedList[k] = new int[shape.p(k)];
            }
            touchedCount[k] = 0;
        }
    }

    /**
     * Whether level k's slice gradients are summed in slot order into the dense gradient
     * ({@code Worker.reduceDense}) instead of per slice from sorted slice lists: levels 0 and d-1
     * when the whole batch is one block (the step follows at once, so the dense gradient is
     * zero again when the call ends).
     */
    private boolean dense(int k) {
        return denseReduce && fuseApply && (k == 0 || k == d - 1);
    }

    /** Level 0's slice gradients are summed in the backward's chain (needs fuseLevel1). */
    private boolean level0InChain;
    /** Whether {@link #level0InChain} may be used (tests compare both paths in one JVM). */
    boolean sumLevel0InChain = Boolean.parseBoolean(System.getProperty("ttrec.tt.level0InChain", "true"));
    /** Backward blocks that summed level 0 in the chain (for tests). */
    long level0Chains;

    /**
     * Ring indexing of the backward's dP_0 and dP_1 scratch (gp[0], gp[1]): slot & gMask instead of
     * slot, or -1 when off. With levels 0 and 1 summed in the chain (level0InChain), a group's dP
     * is dead once the run of rows on its level-1 slice has been stepped, so only the groups of
     * about two runs are live at once. A ring of a few dozen slots keeps that scratch in L1; over
     * a whole block it would be 1.5 MB at D16 R32 and 2048 rows, written and read once per call,
     * pushing the level-1 slices and the forward's products out of L2. The chain doubles the
     * ring, moving the live groups, before a new group would land on a live one
     * ({@link Worker#ringFits}), so any row order is served. Same arithmetic in the same order
     * as plain slots: the bits do not change.
     */
    private int gMask = -1;
    /** Ring slots to start a block with (a power of two; grows with the longest runs seen). */
    private int ringRows = 64;
    /** Whether the ring may be used (tests and the kernel A/B compare both paths in one JVM). */
    boolean ringScratch = Boolean.parseBoolean(System.getProperty("ttrec.tt.ring", "true"));
    /** Backward blocks that started on the ring, and times a chain doubled it (for tests). */
    long ringBlocks, ringGrowths;

    /** The last level's slice gradients are summed in the backward's chain (one partition only). */
    private boolean lastInChain;
    static final boolean LAST_IN_CHAIN = Boolean.parseBoolean(System.getProperty("ttrec.tt.lastInChain", "true"));
    /** {@link #LAST_IN_CHAIN} for this instance (tests compare both paths in one JVM). */
    boolean sumLastInChain = LAST_IN_CHAIN;

    /**
     * The last level's two backward products of a row (dP_{d-2} and its slice-gradient term) in
     * one kernel, {@link #lastBack4}, when q_{d-1} = 4 and the terms are summed in the chain.
     */
    private boolean fuseLast;
    static final boolean FUSE_LAST = Boolean.parseBoolean(System.getProperty("ttrec.tt.fuseLast", "true"));
    /** {@link #FUSE_LAST} for this instance (tests compare both paths in one JVM). */
    boolean fuseLastLevel = FUSE_LAST;
    /** Rows whose last level ran in {@link #lastBack4} (for tests). */
    long fusedLastRows;

    /** Whether reduceDense turns q = 4 gradients back with {@link #untranspose4} (tests compare). */
    boolean vectorUntranspose = Boolean.parseBoolean(System.getProperty("ttrec.tt.untranspose4", "true"));

    /** {@link #DENSE_REDUCE} for this instance (tests compare both paths in one JVM). */
    boolean denseReduce = DENSE_REDUCE;
    /** Backward calls that summed levels 0 and d-1 in slot order (for tests). */
    long denseReduces;

    static final boolean DENSE_REDUCE = Boolean.parseBoolean(System.getProperty("ttrec.tt.denseReduce", "true"));

    /** Sorts each level's groups of the current block by (digit, slot): one segment per slice. */
    private void buildSliceLists() {
        int rows = blockEnd - blockStart;
        int base = 0;
        int segBase = 0;
        for (int k = 0; k < d; k++) {
            if (dense(k) || (k == 1 && fuseLevel1)) {
                levelSlices[k] = 0;
                levelKeyBase[k] = segBase;
                continue;
            }
            int[] dig = digitAt[k];
            int n = 0;
            for (int u = 0; u < rows; u++) {
                if (dig[u] >= 0) {
                    sliceKeys[base + n++] = ((long) dig[u] << 32) | u;
                }
            }
            radixSort(sliceKeys, base, n, shape.p(k) - 1);
            // segments
            int slices = 0;
            long prevDigit = -1;
            for (int t = 0; t < n; t++) {
                long digit = sliceKeys[base + t] >>> 32;
                if (digit != prevDigit) {
                    sliceSeg[segBase + slices++] = base + t;
                    prevDigit = digit;
                    int dg = (int) digit;
                    if (touched[k][dg] != callId) {
                        touched[k][dg] = callId;
                        touchedList[k][touchedCount[k]++] = dg;
                    }
                }
            }
            sliceSeg[segBase + slices] = base + n;
            levelSlices[k] = slices;
            levelKeyBase[k] = segBase;
            base += n;
            segBase += slices + 1;
        }
    }

    // ------------------------------------------------------------------ threading

    /**
     * Development aid ({@code ttrec.tt.profile}, single-threaded instances only): CPU nanoseconds
     * per phase summed into {@link #PROF} (index = phase, 10 the level-0 reduce; 6 sort, 7 slice
     * lists, 8 reuse snapshot, 9 reuse check). A constant false folds the timing away.
     */
    static final boolean PROFILE = Boolean.getBoolean("ttrec.tt.profile");
    static final long[] PROF = new long[16];
    static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

    private void run(int ph) {
        phase = ph;
        if (parts == 1) {
            long t0 = PROFILE ? MX.getCurrentThreadCpuTime() : 0;
            workers[0].work();
            if (PROFILE) PROF[ph] += MX.getCurrentThreadCpuTime() - t0;
            return;
        }
        for (int t = 0; t < parts; t++) {
            workers[t].reinitialize();
        }
        // the calling thread takes partition 0 so a pool of threads-1 workers suffices
        for (int t = 1; t < parts; t++) {
            pool.execute(workers[t]);
        }
        workers[0].work();
        for (int t = 1; t < parts; t++) {
            workers[t].join();
        }
    }

    /** A growable list of ints (digits, slots). */
    static final class IntList {
        int[] a = new int[16];
        int n;

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, 2 * n);
            }
            a[n++] = v;
        }
    }

    private static int split(int n, int parts, int t) {
        return (int) ((long) n * t / parts);
    }

    /** One static partition of every phase, with its own scratch. */
    private final class Worker extends RecursiveAction {
        final int t;
        int[] cur = new int[0], dg = new int[0], open = new int[0], ahead = new int[0];
        float[] acc = new float[0], accT = new float[0], tmp = new float[0];
        /** Lanes of one vector, for the fixed-order horizontal sum in {@link #dot}. */
        final float[] red = new float[Math.max(L, 1)];
        int[] pOffs = new int[16], dOffs = new int[16];
        // transposed slices of narrow cores: tcache[k][digit * slice] = slice^T, valid when stamp == callId
        float[][] tcache = new float[0][];
        int[][] gatherIdx = new int[0][]; // per level: i * ncol, i < L (column gather of a slice)
        int[][] tstamp = new int[0][];
        /** The transposed array the last {@link #transposed} call returned an offset into. */
        float[] tArr;
        /** Level 1 in row order (i_1, i_0, ...): the current transposed slice, its digit and call. */
        float[] tslice1 = new float[0];
        int tsliceDigit = -1, tsliceCall = -1;

        Worker(int t) {
            this.t = t;
        }

        void ensure() {
            if (cur.length < d) {
                cur = new int[d];
                dg = new int[d];
                ahead = new int[d];
                open = new int[d];
                tcache = Arrays.copyOf(tcache, d);
                tstamp = Arrays.copyOf(tstamp, d);
                gatherIdx = Arrays.copyOf(gatherIdx, d);
            }
            for (int k = 0; k < d; k++) {
                if (gatherIdx[k] == null) {
                    gatherIdx[k] = new int[L];
                }
                for (int i = 0; i < L; i++) {
                    gatherIdx[k][i] = i * ncol[k];
                }
            }
            int maxSlice = 0, maxM = 0;
            for (int k = 0; k < d; k++) {
                maxSlice = Math.max(maxSlice, shape.sliceSize(k));
                maxM = Math.max(maxM, msz[k]);
                // (level 1 in (i_1, i_0, ...) row order transposes into tslice1, one slice)
                if (k > 0 && !(k == 1 && permuted) && (narrow[k] || !SCALAR)) {
                    if (tcache[k] == null || tcache[k].length < shape.coreSize(k)) {
                        tcache[k] = new float[shape.coreSize(k)];
                    }
                    if (tstamp[k] == null || tstamp[k].length < shape.p(k)) {
                        tstamp[k] = new int[shape.p(k)];
                    }
                }
            }
            if (acc.length < maxSlice) {
                acc = new float[maxSlice];
                accT = new float[maxSlice];
            }
            if (tmp.length < maxM) {
                tmp = new float[maxM];
            }
        }

        void resetStamps() {
            tsliceCall = -1;
            for (int[] s : tstamp) {
                if (s != null) {
                    Arrays.fill(s, 0);
                }
            }
        }

        @Override
        protected void compute() {
            work();
        }

        void work() {
            switch (phase) {
                case PHASE_ROW_GRAD -> rowGrads(split(distinct, parts, t), split(distinct, parts, t + 1));
                case PHASE_CHAIN_FWD, PHASE_CHAIN_BWD -> {
                    int rows = blockEnd - blockStart;
                    chain(blockStart + split(rows, parts, t), blockStart + split(rows, parts, t + 1),
                            phase == PHASE_CHAIN_BWD);
                }
                case PHASE_POOL -> pool(split(bags, parts, t), split(bags, parts, t + 1));
                // level 0 last: its fused step changes core 0, whose slices are level 1's P_0
                case PHASE_REDUCE -> reduce(1, d);
                case PHASE_REDUCE0 -> reduce(0, 1);
                case PHASE_APPLY -> apply();
                default -> throw new IllegalStateException("phase " + phase);
            }
        }

        /**
         * Mixed-radix digits of a row, first digit most significant. Integer division by a
         * runtime divisor costs tens of cycles; a multiply by the double reciprocal, corrected by
         * at most one step, gives the exact quotient for any int row.
         */
        void digits(int row, int[] out) {
            long r = row;
            for (int k = d - 1; k > 0; k--) {
                long pk = pRadix[k];
                long quo = (long) (r * pInv[k]);
                long rem = r - quo * pk;
                if (rem < 0) {
                    quo--;
                    rem += pk;
                } else if (rem >= pk) {
                    quo++;
                    rem -= pk;
                }
                out[k] = (int) rem;
                r = quo;
            }
            out[0] = (int) r;
        }

        /**
         * Transposed slice (ncol x R_k) of core k for a digit, built once per call, in
         * {@link #tArr} at the returned offset. Level 1 under the (i_1, i_0, ...) row order uses
         * its slices one run of rows at a time, so it keeps just the current slice, which stays
         * in L1: a transposed copy of the whole core (1.8 MB for Kaggle's largest table at D16
         * R32) was written and read back through the cache on every backward.
         */
        int transposed(int k, int digit) {
            int ss = shape.sliceSize(k);
            if (k == 1 && permuted) {
                if (tslice1.length < ss) {
                    tslice1 = new float[ss];
                }
                tArr = tslice1;
                if (tsliceCall != callId || tsliceDigit != digit) {
                    tsliceCall = callId;
                    tsliceDigit = digit;
                    transpose(k, digit * ss, tslice1, 0);
                }
                return 0;
            }
            int base = digit * ss;
            tArr = tcache[k];
            if (tstamp[k][digit] != callId) {
                tstamp[k][digit] = callId;
                transpose(k, base, tcache[k], base);
            }
            return base;
        }

        /** tc[to + c * R_k + a] = core k [from + a * ncol + c]: one slice transposed. */
        void transpose(int k, int from, float[] tc, int to) {
            float[] g = cores[k];
            int kk = rk[k], nc = ncol[k];
            if (VectorWidth.SIXTEEN && (kk & 15) == 0 && (nc & 15) == 0) {
                // 16 x 16 blocks transposed in registers: a gather costs about a load per lane
                // (JFR: these transposes were a sixth of the backward's chain at 2048 lookups)
                for (int a = 0; a < kk; a += 16) {
                    for (int c = 0; c < nc; c += 16) {
                        Sgemm.transpose16(g, from + a * nc + c, nc, tc, to + c * kk + a, kk);
                    }
                }
            } else if (!SCALAR && kk >= L) {
                // gather a column (stride nc), store it as a contiguous row: one vector op per
                // L entries instead of a scalar load and a strided store each
                int[] ix = gatherIdx[k];
                for (int c = 0; c < nc; c++) {
                    int a = 0;
                    for (; a + L <= kk; a += L) {
                        FloatVector.fromArray(SP, g, from + a * nc + c, ix, 0).intoArray(tc, to + c * kk + a);
                    }
                    for (; a < kk; a++) {
                        tc[to + c * kk + a] = g[from + a * nc + c];
                    }
                }
            } else {
                for (int a = 0; a < kk; a++) {
                    for (int c = 0; c < nc; c++) {
                        tc[to + c * kk + a] = g[from + a * nc + c];
                    }
                }
            }
        }

        /** Row gradients: sum over a row's lookups (in lookup order) of scale * gradOut[bag]. */
        void rowGrads(int u0, int u1) {
            int dim = shape.dim();
            int o0 = off[0];
            for (int u = u0; u < u1; u++) {
                int dst = u * dim;
                if (directGrad) {
                    direct[u] = -1;
                    if (uStart[u + 1] - uStart[u] == 1) {
                        int j = (int) keys[uStart[u]];
                        int b = bagOf[j];
                        float s = weights == null ? 1f : weights[o0 + j];
                        if (pooling == Pooling.MEAN) {
                            s /= (off[b + 1] - off[b]);
                        }
                        if (s == 1f) { // the row gradient would be this gradOut row, copied
                            direct[u] = gradOff + b * ldGrad;
                            continue;
                        }
                    }
                }
                Arrays.fill(rowBuf, dst, dst + dim, 0f);
                for (int t2 = uStart[u]; t2 < uStart[u + 1]; t2++) {
                    int j = (int) keys[t2];
                    int b = bagOf[j];
                    float s = weights == null ? 1f : weights[o0 + j];
                    if (pooling == Pooling.MEAN) {
                        s /= (off[b + 1] - off[b]);
                    }
                    axpy(dim, s, gradOut, gradOff + b * ldGrad, rowBuf, dst);
                }
            }
        }

        /**
         * Walks distinct rows [u0, u1) in order, opening a group per level when a digit changes,
         * computing each group's P_k once; the last level writes row values (forward) or pushes
         * row gradients back through the groups (backward).
         */
        void chain(int u0, int u1, boolean backward) {
            int dim = shape.dim();
            int last = d - 1;
            pairedSlot = -1;
            runCount = 0; // nothing left from a call that failed midway
            lastDigits.n = 0;
            level0Digits.n = 0;
            run0.n = 0;
            for (int u = u0; u < u1; u++) {
                int slot = u - blockStart;
                digits(uRow[u], dg);
                int k0 = 0;
                if (u > u0) {
                    while (dg[k0] == cur[k0]) {
                        k0++; // rows are distinct, so k0 <= d-1
                    }
                    if (backward) {
                        for (int k = last - 1; k >= k0; k--) {
                            close(k);
                        }
                    }
                }
                for (int k = k0; k < last; k++) {
                    if (k == 1 && backward && runCount > 0 && dg[1] != runDigit) {
                        finishRun(true); // rows run by i_1: no later row uses the previous slice
                    }
                    digitAt[k][slot] = dg[k];
                    open[k] = slot;
                    if (k == 0 && backward && level0InChain) {
                        run0.add(slot);
                        if (gMask != -1) {
                            ringFits(slot);
                        }
                    }
                    int dst = slot * msz[k];
                    if (k > 0) { // P_0 is the slice G_0[i_0] itself: read in place, never copied
                        parentAt[k][slot] = open[k - 1];
                        if (!pvCached && !(k == 1 && slot == pairedSlot)) {
                            int s2 = k == 1 && pairForward ? nextGroupOnSlice(u, u1) : -1;
                            if (s2 >= 0) {
                                // this group and the next one on the same slice, in one product
                                gemmRows2x2(rk[1], ncol[1], cores[0], pOff(0, open[0]), ahead[0] * msz[0],
                                        cores[1], dg[1] * shape.sliceSize(1), pv[1], dst, s2 * msz[1]);
                                pairedSlot = s2;
                                pairedForwards++;
                            } else {
                                levelForward(k, dg[k], pArr(k - 1), pOff(k - 1, open[k - 1]), pv[k], dst);
                            }
                        }
                    }
                    // (with fuseLast, this row's last level writes dP_{d-2} of the group it opens)
                    if (backward && !(fuseLast && k == last - 1)) {
                        int gdst = go(k, slot);
                        Arrays.fill(gp[k], gdst, gdst + msz[k], 0f);
                    }
                    cur[k] = dg[k];
                }
                cur[last] = dg[last];
                int parent = open[last - 1];
                if (!backward) {
                    int to = directOut ? direct[u] : -1;
                    levelForward(last, dg[last], pArr(last - 1), pOff(last - 1, parent), to >= 0 ? out : rowBuf,
                            to >= 0 ? to : u * dim);
                } else {
                    digitAt[last][slot] = dg[last];
                    parentAt[last][slot] = parent;
                    int from = directGrad ? direct[u] : -1;
                    float[] src = from >= 0 ? gradOut : rowBuf;
                    int srcOff = from >= 0 ? from : u * dim;
                    if (fuseLast) {
                        touch(last, dg[last], lastDigits);
                        int bt = transposed(last, dg[last]);
                        lastBack4(qpre[last], rk[last], pArr(last - 1), pOff(last - 1, parent), src, srcOff,
                                tArr, bt, gp[last - 1], go(last - 1, parent), parent == slot,
                                grad[last], dg[last] * shape.sliceSize(last));
                        fusedLastRows++; // one partition only: no race
                    } else {
                        levelBackward(last, dg[last], src, srcOff, gp[last - 1], go(last - 1, parent));
                    }
                    if (lastInChain && !fuseLast) {
                        // one partition: this row's slice-gradient term now, in the same slot
                        // order reduceDense would use (same bits), while the chain's work hides
                        // the read of P_{d-2}, which the forward left far from L1
                        lastSliceGrad(dg[last], parent, src, srcOff);
                    }
                }
            }
            if (backward && u1 > u0) {
                for (int k = last - 1; k >= 1; k--) {
                    close(k);
                }
                flushPending();
                if (runCount > 0) {
                    finishRun(false);
                }
                if (level0InChain && run0.n > 0) {
                    level0Terms(false);
                }
            }
        }

        /** Slot of a level-1 group whose P_1 was computed with the previous group's, or -1. */
        int pairedSlot = -1;
        /** Products of two level-1 groups this worker computed in one (for tests). */
        long pairedForwards;

        /**
         * Slot of the next level-1 group after the one that distinct row u opens, when it lies on
         * the same slice (same i_1, another i_0) before row u1; -1 otherwise. Its digits are left
         * in {@link #ahead}. Rows run by (i_1, i_0, ...), so the scan stops at the first row of
         * another group.
         */
        int nextGroupOnSlice(int u, int u1) {
            for (int v = u + 1; v < u1; v++) {
                digits(uRow[v], ahead);
                if (ahead[1] != dg[1]) {
                    return -1;
                }
                if (ahead[0] != dg[0]) {
                    return v - blockStart;
                }
            }
            return -1;
        }

        /** Level-1 groups (slots) closed on slice runDigit whose update waits (see fuseLevel1). */
        int[] runSlots = new int[0];
        int runCount, runDigit;

        /**
         * SGD step of level-1 slice runDigit from its closed groups, as the reduce phase would do
         * it (groups in ascending slot order, sliceGradQuadsSgd), after the last dP_0 that reads the
         * slice's old values.
         */
        void finishRun(boolean more) {
            flushPending();
            int cnt = runCount;
            if (pOffs.length < cnt) {
                pOffs = new int[Math.max(cnt, 2 * pOffs.length)];
                dOffs = new int[pOffs.length];
            }
            for (int e = 0; e < cnt; e++) {
                int slot = runSlots[e];
                pOffs[e] = pOff(0, parentAt[1][slot]);
                dOffs[e] = go(1, slot);
            }
            sliceGradQuadsSgd(qpre[1], rk[1], ncol[1], pArr(0), pOffs, gp[1], dOffs, cnt, cores[1],
                    runDigit * shape.sliceSize(1), -opt.lr());
            runCount = 0;
            fusedRuns++; // one partition only: no race
            if (level0InChain) {
                level0Terms(more);
            }
        }

        /** Level-0 groups (slots, ascending) opened since the last {@link #level0Terms}. */
        final IntList run0 = new IntList();
        /**
         * Digits of levels 0 and d-1 whose dense gradient this worker has summed in this call (in
         * the chain, or in reduceDense), each listed once: the slices reduceDense then updates.
         */
        final IntList level0Digits = new IntList(), lastDigits = new IntList();

        /** Lists a digit of level k the first time this call sums into its slice. */
        void touch(int k, int digit, IntList list) {
            if (touched[k][digit] != callId) {
                touched[k][digit] = callId;
                list.add(digit);
            }
        }

        /**
         * Adds dP_0 of each finished level-0 group to the dense gradient of its slice, as
         * reduceDense would, in ascending slot order per digit (same bits), while dP_0 is still in
         * L1. At the end of a run every dP_0 of its groups is complete (its pending pair flushed),
         * except that of the level-0 group still open (more rows follow), which waits for the
         * next run.
         */
        void level0Terms(boolean more) {
            int ss = shape.sliceSize(0);
            float[] g = grad[0];
            int keep = 0;
            for (int e = 0; e < run0.n; e++) {
                int slot = run0.a[e];
                if (more && slot == open[0]) {
                    run0.a[keep++] = slot;
                    continue;
                }
                int digit = digitAt[0][slot];
                touch(0, digit, level0Digits);
                axpy(ss, 1f, gp[0], go(0, slot), g, digit * ss);
            }
            run0.n = keep;
        }

        /**
         * A closed level-1 group whose dP_0 waits for a partner on the same slice (slot, or -1),
         * its slice digit and the slot of the level-0 group its dP_0 goes to.
         */
        int pendSlot = -1, pendDigit, pendDst0;

        /** dP_0 of the waiting level-1 group, alone. */
        void flushPending() {
            if (pendSlot >= 0) {
                levelBackward(1, pendDigit, gp[1], go(1, pendSlot), gp[0], go(0, pendDst0));
                pendSlot = -1;
            }
        }

        /** Offset in gp[k] of dP_k of the group opened at a block slot (see {@link #gMask}). */
        int go(int k, int slot) {
            return (k <= 1 ? slot & gMask : slot) * msz[k];
        }

        /**
         * Before a level-0 group opened at slot takes its place: if the oldest group still live
         * lies a whole ring behind, doubles the ring until it fits, moving the live groups of
         * levels 0 and 1.
         *
         * <p>Live at level 0: the groups listed in run0, summed into their slices at the end of
         * their run (one still open then is carried into the next run). Live at level 1: the
         * closed groups of the current run (runSlots), waiting for the slice's step. Each of those
         * opened at a row that opened a level-0 group too, or at the run's first row, whose
         * level-0 group (opened there or carried) is still in run0. So run0's first slot is never
         * later than level 1's oldest, and a group opened at level 1 alone (a run's first row,
         * k0 = 1) finds the previous run stepped: this one check serves both levels.
         */
        void ringFits(int slot) {
            int oldest = run0.a[0]; // slot itself is listed
            if (slot - oldest <= gMask) {
                return;
            }
            int old = gMask, mask = gMask;
            while (slot - oldest > mask) {
                mask = 2 * mask + 1;
            }
            ringRows = Math.max(ringRows, mask + 1); // later blocks and calls start with it
            if (mask + 1 >= blockEnd - blockStart) {
                mask = -1; // a ring as large as the block: plain slots
            }
            moveLive(0, run0.a, run0.n, old, mask);
            moveLive(1, runSlots, runCount, old, mask);
            gMask = mask;
            ringGrowths++; // one partition only: no race
        }

        /** Moves dP_k of the n listed slots from their places under ring mask old to mask. */
        void moveLive(int k, int[] slots, int n, int old, int mask) {
            int m = msz[k];
            if (ringTmp.length < n * m) {
                ringTmp = new float[n * m];
            }
            for (int e = 0; e < n; e++) {
                System.arraycopy(gp[k], (slots[e] & old) * m, ringTmp, e * m, m);
            }
            for (int e = 0; e < n; e++) {
                System.arraycopy(ringTmp, e * m, gp[k], (slots[e] & mask) * m, m);
            }
        }

        /** moveLive's copy of the live groups (old and new places may overlap). */
        float[] ringTmp = new float[0];

        /** Where P_k of the group at a block slot lives: P_0 is core 0's slice, read in place. */
        float[] pArr(int k) {
            return k == 0 ? cores[0] : pv[k];
        }

        /** See {@link #pArr}. */
        int pOff(int k, int slot) {
            return k == 0 ? digitAt[0][slot] * msz[0] : slot * msz[k];
        }

        /** The group open at level k >= 1 ends: push its gradient into its parent. */
        void close(int k) {
            if (k == 0) {
                return;
            }
            int slot = open[k];
            int digit = digitAt[k][slot];
            if (k == 1 && fuseLevel1) {
                if (runCount == runSlots.length) {
                    runSlots = Arrays.copyOf(runSlots, Math.max(16, 2 * runCount));
                }
                runSlots[runCount++] = slot;
                runDigit = digit;
            }
            if (k == 1 && pairLevel1) {
                // rows run by i_1, so consecutive level-1 groups share their slice: two groups'
                // dP_0 in one 4-row product load each slice vector once for both (the 2-row
                // product is load-bound); each row's arithmetic is unchanged, so are the bits
                if (pendSlot >= 0 && pendDigit == digit) {
                    int bt = transposed(1, digit);
                    gemmRowsAdd2x2(ncol[1], rk[1], gp[1], go(1, pendSlot), go(1, slot), tArr, bt, gp[0],
                            go(0, pendDst0), go(0, open[0]));
                    pendSlot = -1;
                    return;
                }
                flushPending();
                pendSlot = slot;
                pendDigit = digit;
                pendDst0 = open[0];
                return;
            }
            levelBackward(k, digit, gp[k], go(k, slot), gp[k - 1], go(k - 1, open[k - 1]));
        }

        /** P_k (M x ncol) = P_{k-1} (M x R_k) @ G_k[digit] (R_k x ncol), M = Q_{k-1}. */
        void levelForward(int k, int digit, float[] a, int aOff, float[] c, int cOff) {
            int m = qpre[k], kk = rk[k], nc = ncol[k];
            if (narrow[k] && nc == 4) {
                gemmRowsN4(m, kk, a, aOff, cores[k], digit * shape.sliceSize(k), c, cOff);
            } else if (narrow[k] && nc == 8) {
                gemmRowsN8(m, kk, a, aOff, cores[k], digit * shape.sliceSize(k), c, cOff);
            } else if (narrow[k]) {
                int bt = transposed(k, digit);
                dotsT(m, kk, nc, a, aOff, tArr, bt, c, cOff, red);
            } else {
                gemmRows(m, kk, nc, a, aOff, cores[k], digit * shape.sliceSize(k), c, cOff);
            }
        }

        /** dP_{k-1} (M x R_k) += dP_k (M x ncol) @ G_k[digit]^T. */
        void levelBackward(int k, int digit, float[] g, int gOff, float[] dst, int dstOff) {
            int m = qpre[k], kk = rk[k], nc = ncol[k];
            if (narrow[k] || transposeBack[k]) {
                int bt = transposed(k, digit);
                gemmRowsAdd(m, nc, kk, g, gOff, tArr, bt, dst, dstOff);
            } else {
                dotsAdd(m, nc, kk, g, gOff, cores[k], digit * shape.sliceSize(k), dst, dstOff, red);
            }
        }

        /** Slice gradients of this worker's share of the block's slices, added to the dense gradient. */
        void reduce(int kFrom, int kTo) {
            for (int k = kFrom; k < kTo; k++) {
                if (k == 1 && fuseLevel1) {
                    continue; // every level-1 slice was updated in the chain (finishRun)
                }
                if (dense(k)) {
                    reduceDense(k);
                    continue;
                }
                int slices = levelSlices[k];
                int segBase = levelKeyBase[k];
                int s0 = split(slices, parts, t), s1 = split(slices, parts, t + 1);
                int ss = shape.sliceSize(k);
                int m = qpre[k], kk = rk[k], nc = ncol[k];
                for (int s = s0; s < s1; s++) {
                    int from = sliceSeg[segBase + s], to = sliceSeg[segBase + s + 1];
                    int digit = (int) (sliceKeys[from] >>> 32);
                    // one block holds the whole batch: the slice's gradient is complete here, so it
                    // is summed in L1-resident scratch and applied at once (same arithmetic as
                    // summing into the zeroed dense gradient, without its stores, reloads and clearing)
                    float[] gk = fuseApply ? acc : grad[k];
                    int gBase = fuseApply ? 0 : digit * ss;
                    boolean sgdInRegisters = fuseApply && k > 0 && !narrow[k] && !SCALAR
                            && opt.kind() == SparseOptimizer.Kind.SGD && nc % (4 * L) == 0 && (kk & 3) == 0;
                    if (fuseApply && !sgdInRegisters) {
                        Arrays.fill(acc, 0, ss, 0f);
                    }
                    if (k == 0) {
                        for (int e = from; e < to; e++) {
                            int slot = (int) sliceKeys[e];
                            axpy(ss, 1f, gp[0], slot * msz[0], gk, gBase);
                        }
                        if (fuseApply) {
                            applySlice(k, digit, acc, 0);
                        }
                        continue;
                    }
                    float[] src = k == d - 1 ? rowBuf : gp[k];
                    int srcStride = k == d - 1 ? shape.dim() : msz[k];
                    int srcShift = k == d - 1 ? blockStart * shape.dim() : 0;
                    int cnt = to - from;
                    if (pOffs.length < cnt) {
                        pOffs = new int[Math.max(cnt, 2 * pOffs.length)];
                        dOffs = new int[pOffs.length];
                    }
                    for (int e = 0; e < cnt; e++) {
                        int slot = (int) sliceKeys[from + e];
                        pOffs[e] = pOff(k - 1, parentAt[k][slot]);
                        dOffs[e] = srcShift + slot * srcStride;
                    }
                    if (sgdInRegisters) {
                        // the SGD step straight from the accumulators: same bits as storing the
                        // gradient into the zeroed scratch and applying it, without that traffic
                        sliceGradQuadsSgd(m, kk, nc, pArr(k - 1), pOffs, src, dOffs, cnt, cores[k], digit * ss,
                                -opt.lr());
                        continue;
                    }
                    if (narrow[k]) {
                        Arrays.fill(accT, 0, ss, 0f);
                        sliceGradT(m, kk, nc, pArr(k - 1), pOffs, src, dOffs, cnt, accT, 0);
                        for (int a = 0; a < kk; a++) {
                            for (int c = 0; c < nc; c++) {
                                gk[gBase + a * nc + c] += accT[c * kk + a];
                            }
                        }
                    } else {
                        sliceGrad(m, kk, nc, pArr(k - 1), pOffs, src, dOffs, cnt, gk, gBase);
                    }
                    if (fuseApply) {
                        applySlice(k, digit, acc, 0);
                    }
                }
            }
        }

        /**
         * The slice gradients of level k (0 or d-1) summed straight into the zeroed dense gradient,
         * walking the block's groups in slot order, then each touched slice's optimiser step. The
         * slice-list path visits a slice's groups in the same ascending slot order with the same
         * kernel, so the bits are the same; but at the last level it reads each row's P_{d-2}
         * (for D16 R32: 512 bytes, written by the forward and long out of L1 and L2) in slice
         * order, one scattered read per row; in slot order they stream, and the slice being summed
         * (128 floats) stays in cache. This worker takes the digits [p_k t / parts, p_k (t+1) / parts).
         */
        void reduceDense(int k) {
            int rows = blockEnd - blockStart;
            int pk = shape.p(k);
            int lo = split(pk, parts, t), hi = split(pk, parts, t + 1);
            int ss = shape.sliceSize(k);
            int m = qpre[k], kk = rk[k], nc = ncol[k];
            float[] g = grad[k];
            int[] dig = digitAt[k];
            IntList digits = k == 0 ? level0Digits : lastDigits;
            // summed in the chain already (level0Terms, lastSliceGrad), or here
            if (k == 0 && !level0InChain) {
                for (int slot = 0; slot < rows; slot++) {
                    int digit = dig[slot];
                    if (digit >= lo && digit < hi) {
                        touch(0, digit, digits);
                        axpy(ss, 1f, gp[0], slot * msz[0], g, digit * ss);
                    }
                }
            } else if (k > 0 && !lastInChain) {
                for (int slot = 0; slot < rows; slot++) {
                    int digit = dig[slot];
                    if (digit >= lo && digit < hi) {
                        int u = blockStart + slot;
                        int from = directGrad ? direct[u] : -1;
                        lastSliceGrad(digit, parentAt[k][slot], from >= 0 ? gradOut : rowBuf,
                                from >= 0 ? from : u * shape.dim());
                    }
                }
            }
            int n = digits.n;
            digits.n = 0;
            for (int i = 0; i < n; i++) {
                int digit = digits.a[i];
                int base = digit * ss;
                if (k > 0 && narrow[k]) {
                    // summed transposed (n x k), as sliceGradT works; the step wants k x n
                    if (vectorUntranspose && nc == 4 && VectorWidth.SIXTEEN && kk % 16 == 0) {
                        untranspose4(kk, g, base, acc);
                    } else {
                        for (int a = 0; a < kk; a++) {
                            for (int c = 0; c < nc; c++) {
                                acc[a * nc + c] = 0f + g[base + c * kk + a];
                            }
                        }
                    }
                    applySlice(k, digit, acc, 0);
                } else {
                    applySlice(k, digit, g, base);
                }
                Arrays.fill(g, base, base + ss, 0f);
            }
        }

        /**
         * One row's term of the last level's slice gradient, into the dense gradient of its slice
         * (digit, listed in lastDigits): P_{d-2} of the parent group (slot) times the row
         * gradient at src[from].
         */
        void lastSliceGrad(int digit, int parentSlot, float[] src, int from) {
            int k = d - 1;
            touch(k, digit, lastDigits);
            int ss = shape.sliceSize(k);
            int m = qpre[k], kk = rk[k], nc = ncol[k];
            float[] g = grad[k];
            float[] pa = pArr(k - 1);
            pOffs[0] = pOff(k - 1, parentSlot);
            dOffs[0] = from;
            if (narrow[k] && nc == 4 && kk % (2 * L) == 0) {
                rowGradT4(m, kk, pa, pOffs[0], src, from, g, digit * ss);
            } else if (narrow[k]) {
                sliceGradT(m, kk, nc, pa, pOffs, src, dOffs, 1, g, digit * ss);
            } else {
                sliceGrad(m, kk, nc, pa, pOffs, src, dOffs, 1, g, digit * ss);
            }
        }

        /** Applies the optimiser to this worker's share of the touched slices and clears their gradient. */
        void apply() {
            for (int k = 0; k < d; k++) {
                int n = touchedCount[k];
                int ss = shape.sliceSize(k);
                float[] g = grad[k];
                for (int i = split(n, parts, t); i < split(n, parts, t + 1); i++) {
                    int digit = touchedList[k][i];
                    int base = digit * ss;
                    applySlice(k, digit, g, base);
                    Arrays.fill(g, base, base + ss, 0f);
                }
            }
        }

        /** The optimiser step of slice (k, digit) from its gradient at g[gOff, gOff + sliceSize). */
        void applySlice(int k, int digit, float[] g, int gOff) {
            int ss = shape.sliceSize(k);
            int kk = rk[k], nc = ncol[k];
            int base = digit * ss;
            float[] w = cores[k];
            float[] st = states == null ? null : states[k];
            switch (opt.kind()) {
                case ACCUMULATE -> axpy(ss, 1f, g, gOff, st, base);
                case SGD -> axpy(ss, -opt.lr(), g, gOff, w, base);
                case ADAGRAD -> adagrad(ss, opt.lr(), opt.eps(), g, gOff, st, base, w, base);
                case ROWWISE_ADAGRAD -> {
                    for (int a = 0; a < kk; a++) {
                        float sq = sumSquares(nc, g, gOff + a * nc);
                        float sv = st[digit * kk + a] + sq / nc;
                        st[digit * kk + a] = sv;
                        float step = opt.lr() / ((float) Math.sqrt(sv) + opt.eps());
                        axpy(nc, -step, g, gOff + a * nc, w, base + a * nc);
                    }
                }
            }
        }

        /** Pools row values into the output for bags [b0, b1). */
        void pool(int b0, int b1) {
            int dim = shape.dim();
            int o0 = off[0];
            for (int b = b0; b < b1; b++) {
                int ob = outOff + b * ldOut;
                int start = off[b], end = off[b + 1];
                if (directOut && end - start == 1 && direct[posU[start - o0]] >= 0) {
                    continue; // the chain wrote this bag's one row here
                }
                if (!accumulate) {
                    Arrays.fill(out, ob, ob + dim, 0f);
                }
                for (int j = start; j < end; j++) {
                    float s = weights == null ? 1f : weights[j];
                    if (pooling == Pooling.MEAN) {
                        s /= (end - start);
                    }
                    axpy(dim, s, rowBuf, posU[j - o0] * dim, out, ob);
                }
            }
        }
    }
}
