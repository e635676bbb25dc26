package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;

import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

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

    // ------------------------------------------------------------------ small vector kernels
    // Each loops over plain arrays; vectors never cross a method boundary (no boxing).

    /** y[yo + i] += alpha * x[xo + i]. */
    static void axpy(int n, float alpha, float[] x, int xo, float[] y, int yo) {
        int i = 0;
        if (!SCALAR) {
            FloatVector av = FloatVector.broadcast(SP, alpha);
            for (; i <= n - L; i += L) {
                FloatVector.fromArray(SP, x, xo + i).fma(av, FloatVector.fromArray(SP, y, yo + i)).intoArray(y, yo + i);
            }
            if (i < n) {
                VectorMask<Float> mk = SP.indexInRange(i, n);
                FloatVector.fromArray(SP, x, xo + i, mk).fma(av, FloatVector.fromArray(SP, y, yo + i, mk))
                        .intoArray(y, yo + i, mk);
                return;
            }
        }
        for (; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    static float sumSquares(int n, float[] x, int xo) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += x[xo + i] * x[xo + i];
        }
        return s;
    }

    /** Elementwise Adagrad on n entries. */
    static void adagrad(int n, float lr, float eps, float[] g, int go, float[] s, int so, float[] w, int wo) {
        int i = 0;
        if (!SCALAR) {
            FloatVector lrv = FloatVector.broadcast(SP, lr), epsv = FloatVector.broadcast(SP, eps);
            for (; i <= n - L; i += L) {
                FloatVector gv = FloatVector.fromArray(SP, g, go + i);
                FloatVector sv = gv.fma(gv, FloatVector.fromArray(SP, s, so + i));
                sv.intoArray(s, so + i);
                FloatVector wv = FloatVector.fromArray(SP, w, wo + i);
                wv.sub(lrv.mul(gv).div(sv.sqrt().add(epsv))).intoArray(w, wo + i);
            }
        }
        for (; i < n; i++) {
            float gv = g[go + i];
            float sv = s[so + i] + gv * gv;
            s[so + i] = sv;
            w[wo + i] -= lr * gv / ((float) Math.sqrt(sv) + eps);
        }
    }

    /**
     * Two 2-row products with the same B: C[c0] (2 x n) = A[a0] (2 x k) @ B and C[c2] = A[a2] @ B,
     * for n a multiple of 4L. Each B vector feeds four rows, and each element gets the FMAs of
     * {@link #gemmRows} in the same order (t ascending from zero), so the bits are the same.
     * A copy of gemmRows' 4-vector block on purpose: Vector API kernels stay in registers only as
     * straight-line bodies.
     */
    static void gemmRows2x2(int k, int n, float[] a, int a0, int a2, float[] b, int bo, float[] c, int c0,
                            int c2) {
        int a1 = a0 + k, a3 = a2 + k;
        for (int j = 0; j < n; j += 4 * L) {
            FloatVector c00 = FloatVector.zero(SP), c01 = FloatVector.zero(SP);
            FloatVector c02 = FloatVector.zero(SP), c03 = FloatVector.zero(SP);
            FloatVector c10 = FloatVector.zero(SP), c11 = FloatVector.zero(SP);
            FloatVector c12 = FloatVector.zero(SP), c13 = FloatVector.zero(SP);
            FloatVector c20 = FloatVector.zero(SP), c21 = FloatVector.zero(SP);
            FloatVector c22 = FloatVector.zero(SP), c23 = FloatVector.zero(SP);
            FloatVector c30 = FloatVector.zero(SP), c31 = FloatVector.zero(SP);
            FloatVector c32 = FloatVector.zero(SP), c33 = FloatVector.zero(SP);
            for (int t = 0; t < k; t++) {
                int bt = bo + t * n + j;
                FloatVector b0 = FloatVector.fromArray(SP, b, bt);
                FloatVector b1 = FloatVector.fromArray(SP, b, bt + L);
                FloatVector b2 = FloatVector.fromArray(SP, b, bt + 2 * L);
                FloatVector b3 = FloatVector.fromArray(SP, b, bt + 3 * L);
                FloatVector x = FloatVector.broadcast(SP, a[a0 + t]);
                c00 = b0.fma(x, c00);
                c01 = b1.fma(x, c01);
                c02 = b2.fma(x, c02);
                c03 = b3.fma(x, c03);
                x = FloatVector.broadcast(SP, a[a1 + t]);
                c10 = b0.fma(x, c10);
                c11 = b1.fma(x, c11);
                c12 = b2.fma(x, c12);
                c13 = b3.fma(x, c13);
                x = FloatVector.broadcast(SP, a[a2 + t]);
                c20 = b0.fma(x, c20);
                c21 = b1.fma(x, c21);
                c22 = b2.fma(x, c22);
                c23 = b3.fma(x, c23);
                x = FloatVector.broadcast(SP, a[a3 + t]);
                c30 = b0.fma(x, c30);
                c31 = b1.fma(x, c31);
                c32 = b2.fma(x, c32);
                c33 = b3.fma(x, c33);
            }
            int o0 = c0 + j, o1 = o0 + n, o2 = c2 + j, o3 = o2 + n;
            c00.intoArray(c, o0);
            c01.intoArray(c, o0 + L);
            c02.intoArray(c, o0 + 2 * L);
            c03.intoArray(c, o0 + 3 * L);
            c10.intoArray(c, o1);
            c11.intoArray(c, o1 + L);
            c12.intoArray(c, o1 + 2 * L);
            c13.intoArray(c, o1 + 3 * L);
            c20.intoArray(c, o2);
            c21.intoArray(c, o2 + L);
            c22.intoArray(c, o2 + 2 * L);
            c23.intoArray(c, o2 + 3 * L);
            c30.intoArray(c, o3);
            c31.intoArray(c, o3 + L);
            c32.intoArray(c, o3 + 2 * L);
            c33.intoArray(c, o3 + 3 * L);
        }
    }

    /**
     * C (m x n) = A (m x k) @ B (k x n), all row-major and dense; vectorised along n, two rows of
     * C and two vectors of columns at a time so each B load feeds two FMAs.
     */
    static void gemmRows(int m, int k, int n, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        if (SCALAR) {
            for (int r = 0; r < m; r++) {
                for (int j = 0; j < n; j++) {
                    float s = 0f;
                    for (int t = 0; t < k; t++) {
                        s += a[ao + r * k + t] * b[bo + t * n + j];
                    }
                    c[co + r * n + j] = s;
                }
            }
            return;
        }
        int r = 0;
        for (; r + 1 < m; r += 2) {
            int a0 = ao + r * k, a1 = a0 + k;
            int j = 0;
            // 2 rows x 4 vectors: eight independent FMA chains hide the FMA latency
            for (; j + 4 * L <= n; j += 4 * L) {
                FloatVector c00 = FloatVector.zero(SP), c01 = FloatVector.zero(SP);
                FloatVector c02 = FloatVector.zero(SP), c03 = FloatVector.zero(SP);
                FloatVector c10 = FloatVector.zero(SP), c11 = FloatVector.zero(SP);
                FloatVector c12 = FloatVector.zero(SP), c13 = FloatVector.zero(SP);
                for (int t = 0; t < k; t++) {
                    int bt = bo + t * n + j;
                    FloatVector b0 = FloatVector.fromArray(SP, b, bt);
                    FloatVector b1 = FloatVector.fromArray(SP, b, bt + L);
                    FloatVector b2 = FloatVector.fromArray(SP, b, bt + 2 * L);
                    FloatVector b3 = FloatVector.fromArray(SP, b, bt + 3 * L);
                    FloatVector x0 = FloatVector.broadcast(SP, a[a0 + t]);
                    FloatVector x1 = FloatVector.broadcast(SP, a[a1 + t]);
                    c00 = b0.fma(x0, c00);
                    c01 = b1.fma(x0, c01);
                    c02 = b2.fma(x0, c02);
                    c03 = b3.fma(x0, c03);
                    c10 = b0.fma(x1, c10);
                    c11 = b1.fma(x1, c11);
                    c12 = b2.fma(x1, c12);
                    c13 = b3.fma(x1, c13);
                }
                int c0o = co + r * n + j, c1o = c0o + n;
                c00.intoArray(c, c0o);
                c01.intoArray(c, c0o + L);
                c02.intoArray(c, c0o + 2 * L);
                c03.intoArray(c, c0o + 3 * L);
                c10.intoArray(c, c1o);
                c11.intoArray(c, c1o + L);
                c12.intoArray(c, c1o + 2 * L);
                c13.intoArray(c, c1o + 3 * L);
            }
            for (; j + 2 * L <= n; j += 2 * L) {
                FloatVector c00 = FloatVector.zero(SP), c01 = FloatVector.zero(SP);
                FloatVector c10 = FloatVector.zero(SP), c11 = FloatVector.zero(SP);
                for (int t = 0; t < k; t++) {
                    int bt = bo + t * n + j;
                    FloatVector b0 = FloatVector.fromArray(SP, b, bt);
                    FloatVector b1 = FloatVector.fromArray(SP, b, bt + L);
                    FloatVector x0 = FloatVector.broadcast(SP, a[a0 + t]);
                    FloatVector x1 = FloatVector.broadcast(SP, a[a1 + t]);
                    c00 = b0.fma(x0, c00);
                    c01 = b1.fma(x0, c01);
                    c10 = b0.fma(x1, c10);
                    c11 = b1.fma(x1, c11);
                }
                c00.intoArray(c, co + r * n + j);
                c01.intoArray(c, co + r * n + j + L);
                c10.intoArray(c, co + (r + 1) * n + j);
                c11.intoArray(c, co + (r + 1) * n + j + L);
            }
            for (; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.zero(SP), c1 = FloatVector.zero(SP);
                for (int t = 0; t < k; t++) {
                    FloatVector bv = FloatVector.fromArray(SP, b, bo + t * n + j, mk);
                    c0 = bv.fma(FloatVector.broadcast(SP, a[a0 + t]), c0);
                    c1 = bv.fma(FloatVector.broadcast(SP, a[a1 + t]), c1);
                }
                c0.intoArray(c, co + r * n + j, mk);
                c1.intoArray(c, co + (r + 1) * n + j, mk);
            }
        }
        for (; r < m; r++) {
            int a0 = ao + r * k;
            for (int j = 0; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.zero(SP);
                for (int t = 0; t < k; t++) {
                    c0 = FloatVector.fromArray(SP, b, bo + t * n + j, mk).fma(FloatVector.broadcast(SP, a[a0 + t]), c0);
                }
                c0.intoArray(c, co + r * n + j, mk);
            }
        }
    }

    /**
     * C (m x n) += A (m x k) @ B (k x n), vectorised along n (used with B = a transposed slice).
     * Two vectors of columns and even/odd k run as four independent FMA chains.
     */
    static void gemmRowsAdd(int m, int k, int n, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        int r = 0;
        if (!SCALAR) {
            // Split in two: as one method C1 ran out of registers compiling it, and it then never
            // reached C2 (Vector API code left unintrinsified).
            r = gemmRowsAddPairs(m, k, n, a, ao, b, bo, c, co);
            gemmRowsAddSingles(m, k, n, a, ao, b, bo, c, co, r);
            return;
        }
        for (; r < m; r++) {
            for (int j = 0; j < n; j++) {
                float s = c[co + r * n + j];
                for (int t = 0; t < k; t++) {
                    s += a[ao + r * k + t] * b[bo + t * n + j];
                }
                c[co + r * n + j] = s;
            }
        }
    }

    /**
     * Two 2-row {@link #gemmRowsAdd} products on the same B (k x n, n a multiple of 2L): rows
     * A[a0], A[a0 + k] into C[c0], C[c0 + n] and A[a1], A[a1 + k] into C[c1], C[c1 + n]. Per C
     * row the same even/odd-k chains as {@link #gemmRowsAddPairs}, so the same bits; each B
     * vector now feeds four rows.
     */
    static void gemmRowsAdd2x2(int k, int n, float[] a, int a0, int a1, float[] b, int bo, float[] c, int c0,
                               int c1) {
        int a0b = a0 + k, a1b = a1 + k;
        int c0b = c0 + n, c1b = c1 + n;
        for (int j = 0; j < n; j += 2 * L) {
            FloatVector p0 = FloatVector.fromArray(SP, c, c0 + j), p1 = FloatVector.fromArray(SP, c, c0 + j + L);
            FloatVector q0 = FloatVector.fromArray(SP, c, c0b + j), q1 = FloatVector.fromArray(SP, c, c0b + j + L);
            FloatVector r0 = FloatVector.fromArray(SP, c, c1 + j), r1 = FloatVector.fromArray(SP, c, c1 + j + L);
            FloatVector s0 = FloatVector.fromArray(SP, c, c1b + j), s1 = FloatVector.fromArray(SP, c, c1b + j + L);
            FloatVector po0 = FloatVector.zero(SP), po1 = FloatVector.zero(SP);
            FloatVector qo0 = FloatVector.zero(SP), qo1 = FloatVector.zero(SP);
            FloatVector ro0 = FloatVector.zero(SP), ro1 = FloatVector.zero(SP);
            FloatVector so0 = FloatVector.zero(SP), so1 = FloatVector.zero(SP);
            int t = 0;
            for (; t + 1 < k; t += 2) {
                int bt = bo + t * n + j;
                FloatVector b0 = FloatVector.fromArray(SP, b, bt), b1 = FloatVector.fromArray(SP, b, bt + L);
                FloatVector b2 = FloatVector.fromArray(SP, b, bt + n), b3 = FloatVector.fromArray(SP, b, bt + n + L);
                FloatVector x = FloatVector.broadcast(SP, a[a0 + t]);
                p0 = b0.fma(x, p0);
                p1 = b1.fma(x, p1);
                x = FloatVector.broadcast(SP, a[a0 + t + 1]);
                po0 = b2.fma(x, po0);
                po1 = b3.fma(x, po1);
                x = FloatVector.broadcast(SP, a[a0b + t]);
                q0 = b0.fma(x, q0);
                q1 = b1.fma(x, q1);
                x = FloatVector.broadcast(SP, a[a0b + t + 1]);
                qo0 = b2.fma(x, qo0);
                qo1 = b3.fma(x, qo1);
                x = FloatVector.broadcast(SP, a[a1 + t]);
                r0 = b0.fma(x, r0);
                r1 = b1.fma(x, r1);
                x = FloatVector.broadcast(SP, a[a1 + t + 1]);
                ro0 = b2.fma(x, ro0);
                ro1 = b3.fma(x, ro1);
                x = FloatVector.broadcast(SP, a[a1b + t]);
                s0 = b0.fma(x, s0);
                s1 = b1.fma(x, s1);
                x = FloatVector.broadcast(SP, a[a1b + t + 1]);
                so0 = b2.fma(x, so0);
                so1 = b3.fma(x, so1);
            }
            if (t < k) {
                int bt = bo + t * n + j;
                FloatVector b0 = FloatVector.fromArray(SP, b, bt), b1 = FloatVector.fromArray(SP, b, bt + L);
                FloatVector x = FloatVector.broadcast(SP, a[a0 + t]);
                p0 = b0.fma(x, p0);
                p1 = b1.fma(x, p1);
                x = FloatVector.broadcast(SP, a[a0b + t]);
                q0 = b0.fma(x, q0);
                q1 = b1.fma(x, q1);
                x = FloatVector.broadcast(SP, a[a1 + t]);
                r0 = b0.fma(x, r0);
                r1 = b1.fma(x, r1);
                x = FloatVector.broadcast(SP, a[a1b + t]);
                s0 = b0.fma(x, s0);
                s1 = b1.fma(x, s1);
            }
            p0.add(po0).intoArray(c, c0 + j);
            p1.add(po1).intoArray(c, c0 + j + L);
            q0.add(qo0).intoArray(c, c0b + j);
            q1.add(qo1).intoArray(c, c0b + j + L);
            r0.add(ro0).intoArray(c, c1 + j);
            r1.add(ro1).intoArray(c, c1 + j + L);
            s0.add(so0).intoArray(c, c1b + j);
            s1.add(so1).intoArray(c, c1b + j + L);
        }
    }

    /** Rows of C two at a time ({@link #gemmRowsAdd}); returns the first row not done. */
    private static int gemmRowsAddPairs(int m, int k, int n, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        int r = 0;
        // two rows x two vectors x even/odd k: eight independent FMA chains
        for (; r + 1 < m; r += 2) {
            int a0 = ao + r * k, a1 = a0 + k;
            int cr = co + r * n, cr1 = cr + n;
            int j = 0;
            for (; j + 2 * L <= n; j += 2 * L) {
                FloatVector e0 = FloatVector.fromArray(SP, c, cr + j), e1 = FloatVector.fromArray(SP, c, cr + j + L);
                FloatVector f0 = FloatVector.fromArray(SP, c, cr1 + j), f1 = FloatVector.fromArray(SP, c, cr1 + j + L);
                FloatVector o0 = FloatVector.zero(SP), o1 = FloatVector.zero(SP);
                FloatVector g0 = FloatVector.zero(SP), g1 = FloatVector.zero(SP);
                int t = 0;
                for (; t + 1 < k; t += 2) {
                    int bt = bo + t * n + j;
                    FloatVector b0 = FloatVector.fromArray(SP, b, bt), b1 = FloatVector.fromArray(SP, b, bt + L);
                    FloatVector b2 = FloatVector.fromArray(SP, b, bt + n), b3 = FloatVector.fromArray(SP, b, bt + n + L);
                    FloatVector x0 = FloatVector.broadcast(SP, a[a0 + t]);
                    FloatVector x1 = FloatVector.broadcast(SP, a[a0 + t + 1]);
                    FloatVector y0 = FloatVector.broadcast(SP, a[a1 + t]);
                    FloatVector y1 = FloatVector.broadcast(SP, a[a1 + t + 1]);
                    e0 = b0.fma(x0, e0);
                    e1 = b1.fma(x0, e1);
                    o0 = b2.fma(x1, o0);
                    o1 = b3.fma(x1, o1);
                    f0 = b0.fma(y0, f0);
                    f1 = b1.fma(y0, f1);
                    g0 = b2.fma(y1, g0);
                    g1 = b3.fma(y1, g1);
                }
                if (t < k) {
                    int bt = bo + t * n + j;
                    FloatVector b0 = FloatVector.fromArray(SP, b, bt), b1 = FloatVector.fromArray(SP, b, bt + L);
                    FloatVector x0 = FloatVector.broadcast(SP, a[a0 + t]);
                    FloatVector y0 = FloatVector.broadcast(SP, a[a1 + t]);
                    e0 = b0.fma(x0, e0);
                    e1 = b1.fma(x0, e1);
                    f0 = b0.fma(y0, f0);
                    f1 = b1.fma(y0, f1);
                }
                e0.add(o0).intoArray(c, cr + j);
                e1.add(o1).intoArray(c, cr + j + L);
                f0.add(g0).intoArray(c, cr1 + j);
                f1.add(g1).intoArray(c, cr1 + j + L);
            }
            for (; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.fromArray(SP, c, cr + j, mk);
                FloatVector c1 = FloatVector.fromArray(SP, c, cr1 + j, mk);
                for (int t = 0; t < k; t++) {
                    FloatVector bv = FloatVector.fromArray(SP, b, bo + t * n + j, mk);
                    c0 = bv.fma(FloatVector.broadcast(SP, a[a0 + t]), c0);
                    c1 = bv.fma(FloatVector.broadcast(SP, a[a1 + t]), c1);
                }
                c0.intoArray(c, cr + j, mk);
                c1.intoArray(c, cr1 + j, mk);
            }
        }
        return r;
    }

    /** Rows of C from {@code r} on, one at a time ({@link #gemmRowsAdd}). */
    private static void gemmRowsAddSingles(int m, int k, int n, float[] a, int ao, float[] b, int bo, float[] c, int co,
                                           int r) {
        for (; r < m; r++) {
            int a0 = ao + r * k;
            int cr = co + r * n;
            for (int j = 0; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.fromArray(SP, c, cr + j, mk);
                FloatVector c1 = FloatVector.zero(SP);
                int t = 0;
                for (; t + 1 < k; t += 2) {
                    c0 = FloatVector.fromArray(SP, b, bo + t * n + j, mk).fma(FloatVector.broadcast(SP, a[a0 + t]), c0);
                    c1 = FloatVector.fromArray(SP, b, bo + (t + 1) * n + j, mk).fma(FloatVector.broadcast(SP, a[a0 + t + 1]), c1);
                }
                if (t < k) {
                    c0 = FloatVector.fromArray(SP, b, bo + t * n + j, mk).fma(FloatVector.broadcast(SP, a[a0 + t]), c0);
                }
                c0.add(c1).intoArray(c, cr + j, mk);
            }
        }
    }

    /** C[r, j] = dot(A[r, :], Bt[j, :]) with A m x k and Bt n x k (vectorised along k). */
    static void dotsT(int m, int k, int n, float[] a, int ao, float[] bt, int bo, float[] c, int co, float[] red) {
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                c[co + r * n + j] = dot(k, a, ao + r * k, bt, bo + j * k, red);
            }
        }
    }

    /** C[r, j] += dot(A[r, :], B[j, :]) with A m x k and B n x k (vectorised along k). */
    static void dotsAdd(int m, int k, int n, float[] a, int ao, float[] b, int bo, float[] c, int co, float[] red) {
        int j0 = 0;
        if (VectorWidth.SIXTEEN && n >= 16) {
            for (int r = 0; r < m; r++) {
                dotsAdd16(k, n, a, ao + r * k, b, bo, c, co + r * n);
            }
            j0 = n & ~15;
        }
        for (int r = 0; r < m; r++) {
            for (int j = j0; j < n; j++) {
                c[co + r * n + j] += dot(k, a, ao + r * k, b, bo + j * k, red);
            }
        }
    }

    private static final VectorMask<Float> M8 = VectorWidth.BIT8, M4 = VectorWidth.BIT4, M2 = VectorWidth.BIT2,
            M1 = VectorWidth.BIT1;
    private static final VectorShuffle<Float> S8 = VectorWidth.XOR8, S4 = VectorWidth.XOR4, S2 = VectorWidth.XOR2,
            S1 = VectorWidth.XOR1;

    /**
     * C[j] += dot(A, B[j, :]) for j < n rounded down to 16, with A of length k at a[ar] and B
     * (n x k, row-major) at b[bo]: sixteen dot products at a time, vectorised along k, for 16-lane
     * vectors only. Their sixteen horizontal sums come out of one transpose-and-add tree: two
     * vectors u, v become u.blend(v, M) + v.blend(u, M).rearrange(i -> i ^ h), which adds lane
     * pairs (i, i ^ h) of u into the lanes where bit h is clear and those of v where it is set;
     * four levels (h = 8, 4, 2, 1) leave lane l holding the whole sum of accumulator bitrev4(l),
     * so accumulator x_i takes B row bitrev4(i) and the result lands in natural order. That is
     * 15 shuffles for 16 sums instead of a horizontal reduction each (those took a third of
     * TT forward + backward at 128 bags in JFR); the order of additions is fixed, so results are the same in
     * every JIT tier.
     */
    static void dotsAdd16(int k, int n, float[] a, int ar, float[] b, int bo, float[] c, int cr) {
        // whole vectors only, the rest of k in dotsTail: masked loads made this method too big
        // for C1's register allocator, and a method C1 gives up on never reaches C2
        int kv = k & ~15;
        for (int j0 = 0; j0 + 16 <= n; j0 += 16) {
            int r0 = bo + j0 * k;
            FloatVector x0 = FloatVector.zero(SP), x1 = FloatVector.zero(SP), x2 = FloatVector.zero(SP);
            FloatVector x3 = FloatVector.zero(SP), x4 = FloatVector.zero(SP), x5 = FloatVector.zero(SP);
            FloatVector x6 = FloatVector.zero(SP), x7 = FloatVector.zero(SP), x8 = FloatVector.zero(SP);
            FloatVector x9 = FloatVector.zero(SP), x10 = FloatVector.zero(SP), x11 = FloatVector.zero(SP);
            FloatVector x12 = FloatVector.zero(SP), x13 = FloatVector.zero(SP), x14 = FloatVector.zero(SP);
            FloatVector x15 = FloatVector.zero(SP);
            for (int t = 0; t < kv; t += 16) {
                FloatVector av = FloatVector.fromArray(SP, a, ar + t);
                int bt = r0 + t;
                x0 = FloatVector.fromArray(SP, b, bt).fma(av, x0);
                x1 = FloatVector.fromArray(SP, b, bt + 8 * k).fma(av, x1);
                x2 = FloatVector.fromArray(SP, b, bt + 4 * k).fma(av, x2);
                x3 = FloatVector.fromArray(SP, b, bt + 12 * k).fma(av, x3);
                x4 = FloatVector.fromArray(SP, b, bt + 2 * k).fma(av, x4);
                x5 = FloatVector.fromArray(SP, b, bt + 10 * k).fma(av, x5);
                x6 = FloatVector.fromArray(SP, b, bt + 6 * k).fma(av, x6);
                x7 = FloatVector.fromArray(SP, b, bt + 14 * k).fma(av, x7);
                x8 = FloatVector.fromArray(SP, b, bt + k).fma(av, x8);
                x9 = FloatVector.fromArray(SP, b, bt + 9 * k).fma(av, x9);
                x10 = FloatVector.fromArray(SP, b, bt + 5 * k).fma(av, x10);
                x11 = FloatVector.fromArray(SP, b, bt + 13 * k).fma(av, x11);
                x12 = FloatVector.fromArray(SP, b, bt + 3 * k).fma(av, x12);
                x13 = FloatVector.fromArray(SP, b, bt + 11 * k).fma(av, x13);
                x14 = FloatVector.fromArray(SP, b, bt + 7 * k).fma(av, x14);
                x15 = FloatVector.fromArray(SP, b, bt + 15 * k).fma(av, x15);
            }
            x0 = x0.blend(x1, M8).add(x1.blend(x0, M8).rearrange(S8));
            x2 = x2.blend(x3, M8).add(x3.blend(x2, M8).rearrange(S8));
            x4 = x4.blend(x5, M8).add(x5.blend(x4, M8).rearrange(S8));
            x6 = x6.blend(x7, M8).add(x7.blend(x6, M8).rearrange(S8));
            x8 = x8.blend(x9, M8).add(x9.blend(x8, M8).rearrange(S8));
            x10 = x10.blend(x11, M8).add(x11.blend(x10, M8).rearrange(S8));
            x12 = x12.blend(x13, M8).add(x13.blend(x12, M8).rearrange(S8));
            x14 = x14.blend(x15, M8).add(x15.blend(x14, M8).rearrange(S8));
            x0 = x0.blend(x2, M4).add(x2.blend(x0, M4).rearrange(S4));
            x4 = x4.blend(x6, M4).add(x6.blend(x4, M4).rearrange(S4));
            x8 = x8.blend(x10, M4).add(x10.blend(x8, M4).rearrange(S4));
            x12 = x12.blend(x14, M4).add(x14.blend(x12, M4).rearrange(S4));
            x0 = x0.blend(x4, M2).add(x4.blend(x0, M2).rearrange(S2));
            x8 = x8.blend(x12, M2).add(x12.blend(x8, M2).rearrange(S2));
            x0 = x0.blend(x8, M1).add(x8.blend(x0, M1).rearrange(S1));
            int cj = cr + j0;
            FloatVector.fromArray(SP, c, cj).add(x0).intoArray(c, cj);
        }
        if (kv < k) {
            dotsTail(kv, k, n & ~15, a, ar, b, bo, c, cr);
        }
    }

    /** C[j] += A[kv..k) . B[j, kv..k) for j < n: the tail of {@link #dotsAdd16}'s dot products. */
    private static void dotsTail(int kv, int k, int n, float[] a, int ar, float[] b, int bo, float[] c, int cr) {
        for (int j = 0; j < n; j++) {
            float s = 0f;
            for (int t = kv; t < k; t++) {
                s += a[ar + t] * b[bo + j * k + t];
            }
            c[cr + j] += s;
        }
    }

    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256, F128 = FloatVector.SPECIES_128;

    /**
     * x . y over k entries, vectorised along k. The horizontal sum stores the accumulator's lanes
     * to {@code red} (L floats) and adds them in a fixed order. Not reduceLanes(ADD): its float
     * summation order differs between the interpreter and C2, so results would depend on JIT
     * timing. Not lane(i) either: extracting lanes one by one was a fifth of the TT forward's time
     * (JFR), the store and four scalar loads per half are much cheaper.
     */
    static float dot(int k, float[] x, int xo, float[] y, int yo, float[] red) {
        int t = 0;
        float s = 0f;
        if (!SCALAR) {
            FloatVector acc = FloatVector.zero(SP);
            for (; t <= k - L; t += L) {
                acc = FloatVector.fromArray(SP, x, xo + t).fma(FloatVector.fromArray(SP, y, yo + t), acc);
            }
            if (t < k) {
                VectorMask<Float> mk = SP.indexInRange(t, k);
                acc = FloatVector.fromArray(SP, x, xo + t, mk).fma(FloatVector.fromArray(SP, y, yo + t, mk), acc);
            }
            acc.intoArray(red, 0);
            return sumLanes(red);
        }
        for (; t < k; t++) {
            s += x[xo + t] * y[yo + t];
        }
        return s;
    }

    /** The L floats of {@code red} added as a balanced tree in a fixed order. */
    private static float sumLanes(float[] red) {
        if (L == 16) {
            return (((red[0] + red[8]) + (red[4] + red[12])) + ((red[2] + red[10]) + (red[6] + red[14])))
                    + (((red[1] + red[9]) + (red[5] + red[13])) + ((red[3] + red[11]) + (red[7] + red[15])));
        }
        if (L == 8) {
            return ((red[0] + red[4]) + (red[2] + red[6])) + ((red[1] + red[5]) + (red[3] + red[7]));
        }
        if (L == 4) {
            return (red[0] + red[2]) + (red[1] + red[3]);
        }
        float s = 0f;
        for (int i = 0; i < L; i++) { // 2 lanes, or wider than AVX-512 (long SVE)
            s += red[i];
        }
        return s;
    }

    /**
     * C (m x 4) = A (m x k) @ B (k x 4): the narrow last core at q = 4, R_d = 1 (D = 16 with
     * q = (2, 2, 4), D = 64 with q = (4, 4, 4)). Each B row is exactly one 128-bit vector, so no
     * transposed copy of the slice and no horizontal sums: four rows of C by even/odd k make
     * eight independent FMA chains, and each B load feeds four FMAs.
     */
    static void gemmRowsN4(int m, int k, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        int r = 0;
        if (VectorWidth.SIXTEEN && (k & 15) == 0) {
            for (; r + 3 < m; r += 4) {
                gemm4x4Lanes(k, a, ao + r * k, b, bo, c, co + 4 * r);
            }
        }
        for (; r + 3 < m; r += 4) {
            int a0 = ao + r * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
            FloatVector c0 = FloatVector.zero(F128), c1 = FloatVector.zero(F128);
            FloatVector c2 = FloatVector.zero(F128), c3 = FloatVector.zero(F128);
            FloatVector e0 = FloatVector.zero(F128), e1 = FloatVector.zero(F128);
            FloatVector e2 = FloatVector.zero(F128), e3 = FloatVector.zero(F128);
            int t = 0;
            for (; t + 1 < k; t += 2) {
                FloatVector b0 = FloatVector.fromArray(F128, b, bo + 4 * t);
                FloatVector b1 = FloatVector.fromArray(F128, b, bo + 4 * t + 4);
                c0 = b0.fma(FloatVector.broadcast(F128, a[a0 + t]), c0);
                c1 = b0.fma(FloatVector.broadcast(F128, a[a1 + t]), c1);
                c2 = b0.fma(FloatVector.broadcast(F128, a[a2 + t]), c2);
                c3 = b0.fma(FloatVector.broadcast(F128, a[a3 + t]), c3);
                e0 = b1.fma(FloatVector.broadcast(F128, a[a0 + t + 1]), e0);
                e1 = b1.fma(FloatVector.broadcast(F128, a[a1 + t + 1]), e1);
                e2 = b1.fma(FloatVector.broadcast(F128, a[a2 + t + 1]), e2);
                e3 = b1.fma(FloatVector.broadcast(F128, a[a3 + t + 1]), e3);
            }
            if (t < k) {
                FloatVector b0 = FloatVector.fromArray(F128, b, bo + 4 * t);
                c0 = b0.fma(FloatVector.broadcast(F128, a[a0 + t]), c0);
                c1 = b0.fma(FloatVector.broadcast(F128, a[a1 + t]), c1);
                c2 = b0.fma(FloatVector.broadcast(F128, a[a2 + t]), c2);
                c3 = b0.fma(FloatVector.broadcast(F128, a[a3 + t]), c3);
            }
            int cr = co + 4 * r;
            c0.add(e0).intoArray(c, cr);
            c1.add(e1).intoArray(c, cr + 4);
            c2.add(e2).intoArray(c, cr + 8);
            c3.add(e3).intoArray(c, cr + 12);
        }
        for (; r < m; r++) {
            int a0 = ao + r * k;
            FloatVector c0 = FloatVector.zero(F128), e0 = FloatVector.zero(F128);
            int t = 0;
            for (; t + 1 < k; t += 2) {
                c0 = FloatVector.fromArray(F128, b, bo + 4 * t).fma(FloatVector.broadcast(F128, a[a0 + t]), c0);
                e0 = FloatVector.fromArray(F128, b, bo + 4 * t + 4).fma(FloatVector.broadcast(F128, a[a0 + t + 1]), e0);
            }
            if (t < k) {
                c0 = FloatVector.fromArray(F128, b, bo + 4 * t).fma(FloatVector.broadcast(F128, a[a0 + t]), c0);
            }
            c0.add(e0).intoArray(c, co + 4 * r);
        }
    }

    /** Lane l of E_j picks lane 4j + l / 4: four entries of an A row, each repeated four times. */
    private static final VectorShuffle<Float> E0 = spread(0), E1 = spread(1), E2 = spread(2), E3 = spread(3);
    /** Lanes 4..7, 8..11 and 12..15. */
    private static final VectorMask<Float> Q1 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0x00F0L) : null,
            Q2 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0x0F00L) : null,
            Q3 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0xF000L) : null;

    private static VectorShuffle<Float> spread(int j) {
        return VectorWidth.SIXTEEN ? VectorShuffle.fromOp(SP, l -> 4 * j + l / 4) : null;
    }

    /**
     * C (4 x 4, 16 floats) = A (4 x k) @ B (k x 4) with full 16-lane vectors, k a multiple of 16:
     * four B rows are one vector, lanes (t mod 4, column). Each A vector is spread by a constant
     * rearrange so lane (t, c) holds A[r, t]; one FMA then covers four t and four columns, where
     * the 128-bit kernel needs four FMAs and four scalar broadcasts (JFR: that kernel was a sixth
     * of the TT forward at D16). At the end the four t-lane groups are added (two lane-swaps)
     * and the four rows blended into one vector, C's 16 row-major floats. Two accumulators per
     * row keep eight independent FMA chains. Fixed order of additions: the same in every tier.
     */
    static void gemm4x4Lanes(int k, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        FloatVector c0 = FloatVector.zero(SP), c1 = FloatVector.zero(SP), c2 = FloatVector.zero(SP);
        FloatVector c3 = FloatVector.zero(SP), d0 = FloatVector.zero(SP), d1 = FloatVector.zero(SP);
        FloatVector d2 = FloatVector.zero(SP), d3 = FloatVector.zero(SP);
        for (int t = 0; t < k; t += 16) {
            FloatVector a0 = FloatVector.fromArray(SP, a, ao + t);
            FloatVector a1 = FloatVector.fromArray(SP, a, ao + k + t);
            FloatVector a2 = FloatVector.fromArray(SP, a, ao + 2 * k + t);
            FloatVector a3 = FloatVector.fromArray(SP, a, ao + 3 * k + t);
            int bt = bo + 4 * t;
            FloatVector b0 = FloatVector.fromArray(SP, b, bt);
            FloatVector b1 = FloatVector.fromArray(SP, b, bt + 16);
            FloatVector b2 = FloatVector.fromArray(SP, b, bt + 32);
            FloatVector b3 = FloatVector.fromArray(SP, b, bt + 48);
            c0 = b0.fma(a0.rearrange(E0), c0);
            c1 = b0.fma(a1.rearrange(E0), c1);
            c2 = b0.fma(a2.rearrange(E0), c2);
            c3 = b0.fma(a3.rearrange(E0), c3);
            d0 = b1.fma(a0.rearrange(E1), d0);
            d1 = b1.fma(a1.rearrange(E1), d1);
            d2 = b1.fma(a2.rearrange(E1), d2);
            d3 = b1.fma(a3.rearrange(E1), d3);
            c0 = b2.fma(a0.rearrange(E2), c0);
            c1 = b2.fma(a1.rearrange(E2), c1);
            c2 = b2.fma(a2.rearrange(E2), c2);
            c3 = b2.fma(a3.rearrange(E2), c3);
            d0 = b3.fma(a0.rearrange(E3), d0);
            d1 = b3.fma(a1.rearrange(E3), d1);
            d2 = b3.fma(a2.rearrange(E3), d2);
            d3 = b3.fma(a3.rearrange(E3), d3);
        }
        c0 = c0.add(d0);
        c1 = c1.add(d1);
        c2 = c2.add(d2);
        c3 = c3.add(d3);
        c0 = c0.add(c0.rearrange(S8));
        c1 = c1.add(c1.rearrange(S8));
        c2 = c2.add(c2.rearrange(S8));
        c3 = c3.add(c3.rearrange(S8));
        c0 = c0.add(c0.rearrange(S4));
        c1 = c1.add(c1.rearrange(S4));
        c2 = c2.add(c2.rearrange(S4));
        c3 = c3.add(c3.rearrange(S4));
        c0.blend(c1, Q1).blend(c2, Q2).blend(c3, Q3).intoArray(c, co);
    }

    /** Lanes 1, 5, 9, 13; 2, 6, 10, 14; 3, 7, 11, 15: column j of four rows of four. */
    private static final VectorMask<Float> J1 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0x2222L) : null,
            J2 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0x4444L) : null,
            J3 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0x8888L) : null;

    /**
     * out (k x 4, row-major) = 0 + GT^T for GT (4 x k) at g[go], k a multiple of 16, 16 lanes:
     * the last level's slice gradient, summed transposed, turned back for the optimiser step.
     * Output vector s of a 16-column block holds rows 4s..4s+3; lane 4i + j comes from GT row j,
     * column 4s + i, which spread(s) moves there in every row vector, and a blend per row picks.
     * The added zero turns -0 into +0, as the scalar "0f + x" it replaces did (same bits). (The
     * scalar loop, 128 strided loads and stores per slice, was the larger part of a q = 4 slice's
     * update at batch 128, where most slices hold one lookup.)
     */
    static void untranspose4(int k, float[] g, int go, float[] out) {
        FloatVector zero = FloatVector.zero(SP);
        for (int a = 0; a < k; a += 16) {
            FloatVector v0 = FloatVector.fromArray(SP, g, go + a), v1 = FloatVector.fromArray(SP, g, go + k + a);
            FloatVector v2 = FloatVector.fromArray(SP, g, go + 2 * k + a);
            FloatVector v3 = FloatVector.fromArray(SP, g, go + 3 * k + a);
            int o = 4 * a;
            v0.rearrange(E0).blend(v1.rearrange(E0), J1).blend(v2.rearrange(E0), J2).blend(v3.rearrange(E0), J3)
                    .add(zero).intoArray(out, o);
            v0.rearrange(E1).blend(v1.rearrange(E1), J1).blend(v2.rearrange(E1), J2).blend(v3.rearrange(E1), J3)
                    .add(zero).intoArray(out, o + 16);
            v0.rearrange(E2).blend(v1.rearrange(E2), J1).blend(v2.rearrange(E2), J2).blend(v3.rearrange(E2), J3)
                    .add(zero).intoArray(out, o + 32);
            v0.rearrange(E3).blend(v1.rearrange(E3), J1).blend(v2.rearrange(E3), J2).blend(v3.rearrange(E3), J3)
                    .add(zero).intoArray(out, o + 48);
        }
    }

    /** As {@link #gemmRowsN4} for 8 columns (q = 8, R_d = 1) with 256-bit vectors. */
    static void gemmRowsN8(int m, int k, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        int r = 0;
        for (; r + 3 < m; r += 4) {
            int a0 = ao + r * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
            FloatVector c0 = FloatVector.zero(F256), c1 = FloatVector.zero(F256);
            FloatVector c2 = FloatVector.zero(F256), c3 = FloatVector.zero(F256);
            FloatVector e0 = FloatVector.zero(F256), e1 = FloatVector.zero(F256);
            FloatVector e2 = FloatVector.zero(F256), e3 = FloatVector.zero(F256);
            int t = 0;
            for (; t + 1 < k; t += 2) {
                FloatVector b0 = FloatVector.fromArray(F256, b, bo + 8 * t);
                FloatVector b1 = FloatVector.fromArray(F256, b, bo + 8 * t + 8);
                c0 = b0.fma(FloatVector.broadcast(F256, a[a0 + t]), c0);
                c1 = b0.fma(FloatVector.broadcast(F256, a[a1 + t]), c1);
                c2 = b0.fma(FloatVector.broadcast(F256, a[a2 + t]), c2);
                c3 = b0.fma(FloatVector.broadcast(F256, a[a3 + t]), c3);
                e0 = b1.fma(FloatVector.broadcast(F256, a[a0 + t + 1]), e0);
                e1 = b1.fma(FloatVector.broadcast(F256, a[a1 + t + 1]), e1);
                e2 = b1.fma(FloatVector.broadcast(F256, a[a2 + t + 1]), e2);
                e3 = b1.fma(FloatVector.broadcast(F256, a[a3 + t + 1]), e3);
            }
            if (t < k) {
                FloatVector b0 = FloatVector.fromArray(F256, b, bo + 8 * t);
                c0 = b0.fma(FloatVector.broadcast(F256, a[a0 + t]), c0);
                c1 = b0.fma(FloatVector.broadcast(F256, a[a1 + t]), c1);
                c2 = b0.fma(FloatVector.broadcast(F256, a[a2 + t]), c2);
                c3 = b0.fma(FloatVector.broadcast(F256, a[a3 + t]), c3);
            }
            int cr = co + 8 * r;
            c0.add(e0).intoArray(c, cr);
            c1.add(e1).intoArray(c, cr + 8);
            c2.add(e2).intoArray(c, cr + 16);
            c3.add(e3).intoArray(c, cr + 24);
        }
        for (; r < m; r++) {
            int a0 = ao + r * k;
            FloatVector c0 = FloatVector.zero(F256), e0 = FloatVector.zero(F256);
            int t = 0;
            for (; t + 1 < k; t += 2) {
                c0 = FloatVector.fromArray(F256, b, bo + 8 * t).fma(FloatVector.broadcast(F256, a[a0 + t]), c0);
                e0 = FloatVector.fromArray(F256, b, bo + 8 * t + 8).fma(FloatVector.broadcast(F256, a[a0 + t + 1]), e0);
            }
            if (t < k) {
                c0 = FloatVector.fromArray(F256, b, bo + 8 * t).fma(FloatVector.broadcast(F256, a[a0 + t]), c0);
            }
            c0.add(e0).intoArray(c, co + 8 * r);
        }
    }

    /**
     * One slice's gradient over all its groups: G (k x n) += sum_e P_e^T @ D_e, P_e (m x k) at
     * p[po[e]], D_e (m x n) at dd[dOffs[e]]. Vectorised along n with four accumulators held in
     * registers across every group, so G is loaded and stored once per slice.
     */
    static void sliceGrad(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt, float[] g, int go) {
        if (SCALAR) {
            for (int e = 0; e < cnt; e++) {
                atbAdd(m, k, n, p, po[e], dd, dOffs[e], g, go);
            }
            return;
        }
        // two methods, not one: as a single 1.4 KB method C1 gave up on it ("out of virtual
        // registers"), which left it at tier 2 (no intrinsics, vectors boxed, ~50x slower)
        int a = n % (4 * L) == 0 ? sliceGradQuads(m, k, n, p, po, dd, dOffs, cnt, g, go) : 0;
        a = sliceGradPairs(a, m, k, n, p, po, dd, dOffs, cnt, g, go);
        sliceGradSingles(a, m, k, n, p, po, dd, dOffs, cnt, g, go);
    }

    /**
     * Slice rows four at a time when n is a multiple of 4L (e.g. the middle core at q R = 64):
     * four rows x four vectors make sixteen accumulators, so each loaded D vector feeds four
     * FMAs instead of two. Returns the first row left.
     */
    static int sliceGradQuads(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt, float[] g,
                              int go) {
        int a = 0;
        for (; a + 3 < k; a += 4) {
            for (int j = 0; j < n; j += 4 * L) {
                int g0 = go + a * n + j, g1 = g0 + n, g2 = g1 + n, g3 = g2 + n;
                FloatVector c00 = FloatVector.fromArray(SP, g, g0), c01 = FloatVector.fromArray(SP, g, g0 + L);
                FloatVector c02 = FloatVector.fromArray(SP, g, g0 + 2 * L), c03 = FloatVector.fromArray(SP, g, g0 + 3 * L);
                FloatVector c10 = FloatVector.fromArray(SP, g, g1), c11 = FloatVector.fromArray(SP, g, g1 + L);
                FloatVector c12 = FloatVector.fromArray(SP, g, g1 + 2 * L), c13 = FloatVector.fromArray(SP, g, g1 + 3 * L);
                FloatVector c20 = FloatVector.fromArray(SP, g, g2), c21 = FloatVector.fromArray(SP, g, g2 + L);
                FloatVector c22 = FloatVector.fromArray(SP, g, g2 + 2 * L), c23 = FloatVector.fromArray(SP, g, g2 + 3 * L);
                FloatVector c30 = FloatVector.fromArray(SP, g, g3), c31 = FloatVector.fromArray(SP, g, g3 + L);
                FloatVector c32 = FloatVector.fromArray(SP, g, g3 + 2 * L), c33 = FloatVector.fromArray(SP, g, g3 + 3 * L);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        int pr = pe + r * k, dr = de + r * n;
                        FloatVector v0 = FloatVector.fromArray(SP, dd, dr);
                        FloatVector v1 = FloatVector.fromArray(SP, dd, dr + L);
                        FloatVector v2 = FloatVector.fromArray(SP, dd, dr + 2 * L);
                        FloatVector v3 = FloatVector.fromArray(SP, dd, dr + 3 * L);
                        FloatVector x = FloatVector.broadcast(SP, p[pr]);
                        c00 = v0.fma(x, c00);
                        c01 = v1.fma(x, c01);
                        c02 = v2.fma(x, c02);
                        c03 = v3.fma(x, c03);
                        x = FloatVector.broadcast(SP, p[pr + 1]);
                        c10 = v0.fma(x, c10);
                        c11 = v1.fma(x, c11);
                        c12 = v2.fma(x, c12);
                        c13 = v3.fma(x, c13);
                        x = FloatVector.broadcast(SP, p[pr + 2]);
                        c20 = v0.fma(x, c20);
                        c21 = v1.fma(x, c21);
                        c22 = v2.fma(x, c22);
                        c23 = v3.fma(x, c23);
                        x = FloatVector.broadcast(SP, p[pr + 3]);
                        c30 = v0.fma(x, c30);
                        c31 = v1.fma(x, c31);
                        c32 = v2.fma(x, c32);
                        c33 = v3.fma(x, c33);
                    }
                }
                c00.intoArray(g, g0);
                c01.intoArray(g, g0 + L);
                c02.intoArray(g, g0 + 2 * L);
                c03.intoArray(g, g0 + 3 * L);
                c10.intoArray(g, g1);
                c11.intoArray(g, g1 + L);
                c12.intoArray(g, g1 + 2 * L);
                c13.intoArray(g, g1 + 3 * L);
                c20.intoArray(g, g2);
                c21.intoArray(g, g2 + L);
                c22.intoArray(g, g2 + 2 * L);
                c23.intoArray(g, g2 + 3 * L);
                c30.intoArray(g, g3);
                c31.intoArray(g, g3 + L);
                c32.intoArray(g, g3 + 2 * L);
                c33.intoArray(g, g3 + 3 * L);
            }
        }
        return a;
    }

    /**
     * {@link #sliceGradQuads} on a zero gradient followed by the SGD step, W += negLr * G, without
     * storing G: for k a multiple of 4 and n of 4L. Each weight gets exactly the operations of
     * {@link #axpy} on the stored gradient (the accumulators start at +0 as the zeroed scratch
     * did), so the bits are those of the unfused path. At 128 lookups most middle-core slices are
     * touched once, and zeroing, storing and reloading their gradient cost as much as computing it.
     * A copy of sliceGradQuads on purpose: one body with a mode flag and small start/finish
     * helpers made the reduce phase 1.6x slower (the helpers were compiled apart, not inlined).
     */
    static void sliceGradQuadsSgd(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt,
                                  float[] w, int wo, float negLr) {
        FloatVector s = FloatVector.broadcast(SP, negLr);
        for (int a = 0; a + 3 < k; a += 4) {
            for (int j = 0; j < n; j += 4 * L) {
                int g0 = wo + a * n + j, g1 = g0 + n, g2 = g1 + n, g3 = g2 + n;
                FloatVector c00 = FloatVector.zero(SP), c01 = FloatVector.zero(SP);
                FloatVector c02 = FloatVector.zero(SP), c03 = FloatVector.zero(SP);
                FloatVector c10 = FloatVector.zero(SP), c11 = FloatVector.zero(SP);
                FloatVector c12 = FloatVector.zero(SP), c13 = FloatVector.zero(SP);
                FloatVector c20 = FloatVector.zero(SP), c21 = FloatVector.zero(SP);
                FloatVector c22 = FloatVector.zero(SP), c23 = FloatVector.zero(SP);
                FloatVector c30 = FloatVector.zero(SP), c31 = FloatVector.zero(SP);
                FloatVector c32 = FloatVector.zero(SP), c33 = FloatVector.zero(SP);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        int pr = pe + r * k, dr = de + r * n;
                        FloatVector v0 = FloatVector.fromArray(SP, dd, dr);
                        FloatVector v1 = FloatVector.fromArray(SP, dd, dr + L);
                        FloatVector v2 = FloatVector.fromArray(SP, dd, dr + 2 * L);
                        FloatVector v3 = FloatVector.fromArray(SP, dd, dr + 3 * L);
                        FloatVector x = FloatVector.broadcast(SP, p[pr]);
                        c00 = v0.fma(x, c00);
                        c01 = v1.fma(x, c01);
                        c02 = v2.fma(x, c02);
                        c03 = v3.fma(x, c03);
                        x = FloatVector.broadcast(SP, p[pr + 1]);
                        c10 = v0.fma(x, c10);
                        c11 = v1.fma(x, c11);
                        c12 = v2.fma(x, c12);
                        c13 = v3.fma(x, c13);
                        x = FloatVector.broadcast(SP, p[pr + 2]);
                        c20 = v0.fma(x, c20);
                        c21 = v1.fma(x, c21);
                        c22 = v2.fma(x, c22);
                        c23 = v3.fma(x, c23);
                        x = FloatVector.broadcast(SP, p[pr + 3]);
                        c30 = v0.fma(x, c30);
                        c31 = v1.fma(x, c31);
                        c32 = v2.fma(x, c32);
                        c33 = v3.fma(x, c33);
                    }
                }
                c00.fma(s, FloatVector.fromArray(SP, w, g0)).intoArray(w, g0);
                c01.fma(s, FloatVector.fromArray(SP, w, g0 + L)).intoArray(w, g0 + L);
                c02.fma(s, FloatVector.fromArray(SP, w, g0 + 2 * L)).intoArray(w, g0 + 2 * L);
                c03.fma(s, FloatVector.fromArray(SP, w, g0 + 3 * L)).intoArray(w, g0 + 3 * L);
                c10.fma(s, FloatVector.fromArray(SP, w, g1)).intoArray(w, g1);
                c11.fma(s, FloatVector.fromArray(SP, w, g1 + L)).intoArray(w, g1 + L);
                c12.fma(s, FloatVector.fromArray(SP, w, g1 + 2 * L)).intoArray(w, g1 + 2 * L);
                c13.fma(s, FloatVector.fromArray(SP, w, g1 + 3 * L)).intoArray(w, g1 + 3 * L);
                c20.fma(s, FloatVector.fromArray(SP, w, g2)).intoArray(w, g2);
                c21.fma(s, FloatVector.fromArray(SP, w, g2 + L)).intoArray(w, g2 + L);
                c22.fma(s, FloatVector.fromArray(SP, w, g2 + 2 * L)).intoArray(w, g2 + 2 * L);
                c23.fma(s, FloatVector.fromArray(SP, w, g2 + 3 * L)).intoArray(w, g2 + 3 * L);
                c30.fma(s, FloatVector.fromArray(SP, w, g3)).intoArray(w, g3);
                c31.fma(s, FloatVector.fromArray(SP, w, g3 + L)).intoArray(w, g3 + L);
                c32.fma(s, FloatVector.fromArray(SP, w, g3 + 2 * L)).intoArray(w, g3 + 2 * L);
                c33.fma(s, FloatVector.fromArray(SP, w, g3 + 3 * L)).intoArray(w, g3 + 3 * L);
            }
        }
    }

    /** Slice rows in pairs (while n >= 4L); returns the first row left. */
    static int sliceGradPairs(int a0, int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt,
                              float[] g, int go) {
        int a = a0;
        // two slice rows x four vectors: eight independent FMA chains per group row
        for (; a + 1 < k && n >= 4 * L; a += 2) {
            int ga = go + a * n, gb = ga + n;
            int j = 0;
            for (; j + 4 * L <= n; j += 4 * L) {
                FloatVector c0 = FloatVector.fromArray(SP, g, ga + j);
                FloatVector c1 = FloatVector.fromArray(SP, g, ga + j + L);
                FloatVector c2 = FloatVector.fromArray(SP, g, ga + j + 2 * L);
                FloatVector c3 = FloatVector.fromArray(SP, g, ga + j + 3 * L);
                FloatVector d0 = FloatVector.fromArray(SP, g, gb + j);
                FloatVector d1 = FloatVector.fromArray(SP, g, gb + j + L);
                FloatVector d2 = FloatVector.fromArray(SP, g, gb + j + 2 * L);
                FloatVector d3 = FloatVector.fromArray(SP, g, gb + j + 3 * L);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector x = FloatVector.broadcast(SP, p[pe + r * k]);
                        FloatVector y = FloatVector.broadcast(SP, p[pe + r * k + 1]);
                        int dr = de + r * n;
                        FloatVector v0 = FloatVector.fromArray(SP, dd, dr);
                        FloatVector v1 = FloatVector.fromArray(SP, dd, dr + L);
                        FloatVector v2 = FloatVector.fromArray(SP, dd, dr + 2 * L);
                        FloatVector v3 = FloatVector.fromArray(SP, dd, dr + 3 * L);
                        c0 = v0.fma(x, c0);
                        c1 = v1.fma(x, c1);
                        c2 = v2.fma(x, c2);
                        c3 = v3.fma(x, c3);
                        d0 = v0.fma(y, d0);
                        d1 = v1.fma(y, d1);
                        d2 = v2.fma(y, d2);
                        d3 = v3.fma(y, d3);
                    }
                }
                c0.intoArray(g, ga + j);
                c1.intoArray(g, ga + j + L);
                c2.intoArray(g, ga + j + 2 * L);
                c3.intoArray(g, ga + j + 3 * L);
                d0.intoArray(g, gb + j);
                d1.intoArray(g, gb + j + L);
                d2.intoArray(g, gb + j + 2 * L);
                d3.intoArray(g, gb + j + 3 * L);
            }
            for (; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.fromArray(SP, g, ga + j, mk);
                FloatVector d0 = FloatVector.fromArray(SP, g, gb + j, mk);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector v = FloatVector.fromArray(SP, dd, de + r * n, mk);
                        c0 = v.fma(FloatVector.broadcast(SP, p[pe + r * k]), c0);
                        d0 = v.fma(FloatVector.broadcast(SP, p[pe + r * k + 1]), d0);
                    }
                }
                c0.intoArray(g, ga + j, mk);
                d0.intoArray(g, gb + j, mk);
            }
        }
        return a;
    }

    /** Slice rows [a0, k) one at a time. */
    static void sliceGradSingles(int a0, int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt,
                                 float[] g, int go) {
        for (int a = a0; a < k; a++) {
            int ga = go + a * n;
            int j = 0;
            for (; j + 4 * L <= n; j += 4 * L) {
                FloatVector c0 = FloatVector.fromArray(SP, g, ga + j);
                FloatVector c1 = FloatVector.fromArray(SP, g, ga + j + L);
                FloatVector c2 = FloatVector.fromArray(SP, g, ga + j + 2 * L);
                FloatVector c3 = FloatVector.fromArray(SP, g, ga + j + 3 * L);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector x = FloatVector.broadcast(SP, p[pe + r * k]);
                        int dr = de + r * n;
                        c0 = FloatVector.fromArray(SP, dd, dr).fma(x, c0);
                        c1 = FloatVector.fromArray(SP, dd, dr + L).fma(x, c1);
                        c2 = FloatVector.fromArray(SP, dd, dr + 2 * L).fma(x, c2);
                        c3 = FloatVector.fromArray(SP, dd, dr + 3 * L).fma(x, c3);
                    }
                }
                c0.intoArray(g, ga + j);
                c1.intoArray(g, ga + j + L);
                c2.intoArray(g, ga + j + 2 * L);
                c3.intoArray(g, ga + j + 3 * L);
            }
            for (; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.fromArray(SP, g, ga + j, mk);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        c0 = FloatVector.fromArray(SP, dd, de + r * n, mk).fma(FloatVector.broadcast(SP, p[pe + r * k]), c0);
                    }
                }
                c0.intoArray(g, ga + j, mk);
            }
        }
    }

    /**
     * Transposed form for narrow slices: GT (n x k) += sum_e D_e^T @ P_e, vectorised along k with
     * two accumulators held across every group.
     */
    static void sliceGradT(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt, float[] gt,
                           int go) {
        if (SCALAR) {
            for (int e = 0; e < cnt; e++) {
                atbT(m, k, n, p, po[e], dd, dOffs[e], gt, go);
            }
            return;
        }
        // Two methods, not one: as a single method C1 ran out of registers compiling it, and the
        // method then never reached C2, leaving the backward's reduce phase about 7x slower.
        int j = n >= 2 && k >= 2 * L ? sliceGradTPairs(m, k, n, p, po, dd, dOffs, cnt, gt, go) : 0;
        sliceGradTSingles(m, k, n, p, po, dd, dOffs, cnt, gt, go, j);
    }

    /** Columns of GT two at a time; returns the first column not done. */
    private static int sliceGradTPairs(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt,
                                       float[] gt, int go) {
        int j = 0;
        // two output columns x two vectors: four independent chains, each P load used twice
        for (; j + 1 < n && k >= 2 * L; j += 2) {
            int gj = go + j * k, gj1 = gj + k;
            int a = 0;
            for (; a + 2 * L <= k; a += 2 * L) {
                FloatVector c0 = FloatVector.fromArray(SP, gt, gj + a);
                FloatVector c1 = FloatVector.fromArray(SP, gt, gj + a + L);
                FloatVector e0 = FloatVector.fromArray(SP, gt, gj1 + a);
                FloatVector e1 = FloatVector.fromArray(SP, gt, gj1 + a + L);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector x = FloatVector.broadcast(SP, dd[de + r * n]);
                        FloatVector y = FloatVector.broadcast(SP, dd[de + r * n + 1]);
                        FloatVector p0 = FloatVector.fromArray(SP, p, pe + r * k);
                        FloatVector p1 = FloatVector.fromArray(SP, p, pe + r * k + L);
                        c0 = p0.fma(x, c0);
                        c1 = p1.fma(x, c1);
                        e0 = p0.fma(y, e0);
                        e1 = p1.fma(y, e1);
                    }
                }
                c0.intoArray(gt, gj + a);
                c1.intoArray(gt, gj + a + L);
                e0.intoArray(gt, gj1 + a);
                e1.intoArray(gt, gj1 + a + L);
            }
            for (; a < k; a += L) {
                VectorMask<Float> mk = SP.indexInRange(a, k);
                FloatVector c0 = FloatVector.fromArray(SP, gt, gj + a, mk);
                FloatVector e0 = FloatVector.fromArray(SP, gt, gj1 + a, mk);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector pv0 = FloatVector.fromArray(SP, p, pe + r * k, mk);
                        c0 = pv0.fma(FloatVector.broadcast(SP, dd[de + r * n]), c0);
                        e0 = pv0.fma(FloatVector.broadcast(SP, dd[de + r * n + 1]), e0);
                    }
                }
                c0.intoArray(gt, gj + a, mk);
                e0.intoArray(gt, gj1 + a, mk);
            }
        }
        return j;
    }

    /** Columns of GT from {@code j} on, one at a time. */
    private static void sliceGradTSingles(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt,
                                          float[] gt, int go, int j) {
        for (; j < n; j++) {
            int gj = go + j * k;
            int a = 0;
            for (; a + 2 * L <= k; a += 2 * L) {
                FloatVector c0 = FloatVector.fromArray(SP, gt, gj + a);
                FloatVector c1 = FloatVector.fromArray(SP, gt, gj + a + L);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector x = FloatVector.broadcast(SP, dd[de + r * n]);
                        c0 = FloatVector.fromArray(SP, p, pe + r * k).fma(x, c0);
                        c1 = FloatVector.fromArray(SP, p, pe + r * k + L).fma(x, c1);
                    }
                }
                c0.intoArray(gt, gj + a);
                c1.intoArray(gt, gj + a + L);
            }
            for (; a < k; a += L) {
                VectorMask<Float> mk = SP.indexInRange(a, k);
                FloatVector c0 = FloatVector.fromArray(SP, gt, gj + a, mk);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        c0 = FloatVector.fromArray(SP, p, pe + r * k, mk).fma(FloatVector.broadcast(SP, dd[de + r * n]), c0);
                    }
                }
                c0.intoArray(gt, gj + a, mk);
            }
        }
    }

    /** G (k x n) += P^T @ D with P m x k and D m x n (vectorised along n). */
    static void atbAdd(int m, int k, int n, float[] p, int po, float[] dd, int dOff, float[] g, int go) {
        for (int a = 0; a < k; a++) {
            int j = 0;
            if (!SCALAR) {
                for (; j < n; j += L) {
                    VectorMask<Float> mk = SP.indexInRange(j, n);
                    FloatVector acc = FloatVector.fromArray(SP, g, go + a * n + j, mk);
                    for (int r = 0; r < m; r++) {
                        acc = FloatVector.fromArray(SP, dd, dOff + r * n + j, mk)
                                .fma(FloatVector.broadcast(SP, p[po + r * k + a]), acc);
                    }
                    acc.intoArray(g, go + a * n + j, mk);
                }
                continue;
            }
            for (; j < n; j++) {
                float s = g[go + a * n + j];
                for (int r = 0; r < m; r++) {
                    s += p[po + r * k + a] * dd[dOff + r * n + j];
                }
                g[go + a * n + j] = s;
            }
        }
    }

    /**
     * GT (4 x k, at gt[go]) += D^T @ P for one row, P m x k and D m x 4, k a multiple of 2L: the
     * last level's slice gradient at q_d = 4 (D16 2x2x4, D64 4x4x4). Eight accumulators, each P
     * vector loaded once; sliceGradT with its general loops took twice as long per row. Each
     * element sees the same fused multiply-adds in the same order as in sliceGradT, so the
     * bits are the same.
     */
    static void rowGradT4(int m, int k, float[] p, int po, float[] dd, int dOff, float[] gt, int go) {
        for (int a = 0; a < k; a += 2 * L) {
            int g0 = go + a, g1 = g0 + k, g2 = g1 + k, g3 = g2 + k;
            FloatVector c0 = FloatVector.fromArray(SP, gt, g0), e0 = FloatVector.fromArray(SP, gt, g0 + L);
            FloatVector c1 = FloatVector.fromArray(SP, gt, g1), e1 = FloatVector.fromArray(SP, gt, g1 + L);
            FloatVector c2 = FloatVector.fromArray(SP, gt, g2), e2 = FloatVector.fromArray(SP, gt, g2 + L);
            FloatVector c3 = FloatVector.fromArray(SP, gt, g3), e3 = FloatVector.fromArray(SP, gt, g3 + L);
            for (int r = 0; r < m; r++) {
                int pr = po + r * k + a, dr = dOff + 4 * r;
                FloatVector pv = FloatVector.fromArray(SP, p, pr), pw = FloatVector.fromArray(SP, p, pr + L);
                FloatVector x = FloatVector.broadcast(SP, dd[dr]);
                c0 = pv.fma(x, c0);
                e0 = pw.fma(x, e0);
                x = FloatVector.broadcast(SP, dd[dr + 1]);
                c1 = pv.fma(x, c1);
                e1 = pw.fma(x, e1);
                x = FloatVector.broadcast(SP, dd[dr + 2]);
                c2 = pv.fma(x, c2);
                e2 = pw.fma(x, e2);
                x = FloatVector.broadcast(SP, dd[dr + 3]);
                c3 = pv.fma(x, c3);
                e3 = pw.fma(x, e3);
            }
            c0.intoArray(gt, g0);
            e0.intoArray(gt, g0 + L);
            c1.intoArray(gt, g1);
            e1.intoArray(gt, g1 + L);
            c2.intoArray(gt, g2);
            e2.intoArray(gt, g2 + L);
            c3.intoArray(gt, g3);
            e3.intoArray(gt, g3 + L);
        }
    }

    /**
     * The last level's backward for one row at q_{d-1} = 4, both products in one pass:
     * dP (m x k, at dp[dpo]) += D @ GT (D the row gradient, m x 4, at dd[dOff]; GT the slice
     * transposed, 4 x k, at gtSlice[bt]), and the slice-gradient term GT_grad (4 x k, at gt[go])
     * += D^T @ P (P = P_{d-2}, m x k, at p[po]). Each D entry is broadcast once for both. The FMAs
     * are those of gemmRowsAddPairs (even and odd t in separate accumulators, summed at the end)
     * and of rowGradT4, in the same order, so the bits are the same as the two calls. With fresh,
     * dP holds nothing yet (its group opened at this row): it is written, not read, which gives
     * the bits of adding to the zeros it would otherwise be filled with. m even, k a multiple of 2L.
     * rowGradT4's accumulator block is repeated here rather than called, on purpose: the
     * broadcasts are shared, and vectors stay in registers only within one straight-line body.
     * rowGradT4 still serves the rows this kernel cannot take (several partitions, Q_{d-1} odd).
     */
    static void lastBack4(int m, int k, float[] p, int po, float[] dd, int dOff, float[] gtSlice, int bt,
                          float[] dp, int dpo, boolean fresh, float[] gt, int go) {
        for (int a = 0; a < k; a += 2 * L) {
            int g0 = go + a, g1 = g0 + k, g2 = g1 + k, g3 = g2 + k;
            FloatVector c0 = FloatVector.fromArray(SP, gt, g0), e0 = FloatVector.fromArray(SP, gt, g0 + L);
            FloatVector c1 = FloatVector.fromArray(SP, gt, g1), e1 = FloatVector.fromArray(SP, gt, g1 + L);
            FloatVector c2 = FloatVector.fromArray(SP, gt, g2), e2 = FloatVector.fromArray(SP, gt, g2 + L);
            FloatVector c3 = FloatVector.fromArray(SP, gt, g3), e3 = FloatVector.fromArray(SP, gt, g3 + L);
            int b0 = bt + a, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
            FloatVector t00 = FloatVector.fromArray(SP, gtSlice, b0), t01 = FloatVector.fromArray(SP, gtSlice, b0 + L);
            FloatVector t10 = FloatVector.fromArray(SP, gtSlice, b1), t11 = FloatVector.fromArray(SP, gtSlice, b1 + L);
            FloatVector t20 = FloatVector.fromArray(SP, gtSlice, b2), t21 = FloatVector.fromArray(SP, gtSlice, b2 + L);
            FloatVector t30 = FloatVector.fromArray(SP, gtSlice, b3), t31 = FloatVector.fromArray(SP, gtSlice, b3 + L);
            for (int r = 0; r < m; r++) {
                int pr = po + r * k + a, dr = dOff + 4 * r, q = dpo + r * k + a;
                FloatVector pv = FloatVector.fromArray(SP, p, pr), pw = FloatVector.fromArray(SP, p, pr + L);
                FloatVector x0 = FloatVector.broadcast(SP, dd[dr]), x1 = FloatVector.broadcast(SP, dd[dr + 1]);
                FloatVector x2 = FloatVector.broadcast(SP, dd[dr + 2]), x3 = FloatVector.broadcast(SP, dd[dr + 3]);
                c0 = pv.fma(x0, c0);
                e0 = pw.fma(x0, e0);
                c1 = pv.fma(x1, c1);
                e1 = pw.fma(x1, e1);
                c2 = pv.fma(x2, c2);
                e2 = pw.fma(x2, e2);
                c3 = pv.fma(x3, c3);
                e3 = pw.fma(x3, e3);
                FloatVector v0 = fresh ? FloatVector.zero(SP) : FloatVector.fromArray(SP, dp, q);
                FloatVector v1 = fresh ? FloatVector.zero(SP) : FloatVector.fromArray(SP, dp, q + L);
                FloatVector o0 = t10.fma(x1, FloatVector.zero(SP)), o1 = t11.fma(x1, FloatVector.zero(SP));
                v0 = t00.fma(x0, v0);
                v1 = t01.fma(x0, v1);
                v0 = t20.fma(x2, v0);
                v1 = t21.fma(x2, v1);
                o0 = t30.fma(x3, o0);
                o1 = t31.fma(x3, o1);
                v0.add(o0).intoArray(dp, q);
                v1.add(o1).intoArray(dp, q + L);
            }
            c0.intoArray(gt, g0);
            e0.intoArray(gt, g0 + L);
            c1.intoArray(gt, g1);
            e1.intoArray(gt, g1 + L);
            c2.intoArray(gt, g2);
            e2.intoArray(gt, g2 + L);
            c3.intoArray(gt, g3);
            e3.intoArray(gt, g3 + L);
        }
    }

    /** GT (n x k) += D^T @ P with P m x k and D m x n (vectorised along k). */
    static void atbT(int m, int k, int n, float[] p, int po, float[] dd, int dOff, float[] gt, int go) {
        for (int j = 0; j < n; j++) {
            int a = 0;
            if (!SCALAR) {
                for (; a < k; a += L) {
                    VectorMask<Float> mk = SP.indexInRange(a, k);
                    FloatVector acc = FloatVector.fromArray(SP, gt, go + j * k + a, mk);
                    for (int r = 0; r < m; r++) {
                        acc = FloatVector.fromArray(SP, p, po + r * k + a, mk)
                                .fma(FloatVector.broadcast(SP, dd[dOff + r * n + j]), acc);
                    }
                    acc.intoArray(gt, go + j * k + a, mk);
                }
                continue;
            }
            for (; a < k; a++) {
                float s = gt[go + j * k + a];
                for (int r = 0; r < m; r++) {
                    s += p[po + r * k + a] * dd[dOff + r * n + j];
                }
                gt[go + j * k + a] = s;
            }
        }
    }
}
