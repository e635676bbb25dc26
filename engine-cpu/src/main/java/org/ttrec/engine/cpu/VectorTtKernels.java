package org.ttrec.engine.cpu;

import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;

/**
 * Fast TT-EmbeddingBag kernels on host arrays (docs/tt-layout.md), for the Vector API backend.
 *
 * <p>A batch is first prepared ({@link #prepare}): its lookups sorted by row into the lookup plan
 * ({@link TtBatchPlan}). Forward and backward then run on that plan: the distinct rows are walked
 * in sorted order along the TT chain ({@link TtChainWorker}), computing each distinct prefix of
 * digits once ({@link TtGroups}); the backward sums the slice gradients in a fixed order and
 * applies the optimiser once per touched slice ({@link TtReduce}). Work is split over threads by a
 * static partition ({@link TtPartition}) with no atomics: results are bit-identical for the same
 * inputs and thread count. Distinct rows are processed in blocks of {@value #BLOCK} so the
 * per-group scratch stays bounded, and scratch grows once and is reused.
 *
 * <p>One instance per TT table, owning the table's cores, keeps the forward's products for the
 * backward on the same prepared batch ({@link SavedProducts}); a shared instance for one-shot
 * calls keeps none. Instances are not thread-safe: one call at a time. Arguments are not checked
 * here: the caller ({@link CpuBackend}) runs the reference backend's checks first.
 */
public final class VectorTtKernels {
    /** Distinct rows per block of the chain and reduction phases (bounds the group scratch). */
    static final int BLOCK = 4096;
    /**
     * Distinct rows a batch needs per thread before it is split over that thread: every phase of
     * a split call costs a fork and a join, and at 128 lookups two threads ran slower than one
     * (bench/README, third session: with 32 rows per thread, tt@2 / dense@2 fell from 0.821 and
     * 0.797 to 0.755 and 0.739). That was measured on a ForkJoinPool; {@link WorkerPool}'s
     * spinning workers make a split cheaper, and a lower value may now pay for a table run
     * alone (not re-measured; inside submitTables the tables already run side by side). The
     * partition count depends on the distinct rows alone, so results stay bit-identical for the
     * same inputs and thread count.
     */
    static final int MIN_ROWS_PER_THREAD = 256;

    private final WorkerPool pool;
    private final int threads;
    private final TtBatchPlan plan;
    private final TtScratch scratch = new TtScratch();
    private final TtGroups groups;
    private final TtPaths paths;
    private final TtCall call = new TtCall();
    private final SavedProducts saved;
    private final TtPartition[] partitions;

    // ---- counts of the variants taken, for tests
    /** Backward calls that read the forward's products. */
    private long reuseHits;
    /** Forward calls that wrote rows straight to the output, backward calls that read rows from gradOut. */
    private long directForwards, directBackwards;
    /** Backward blocks: level 0 summed in the chain, started on the ring, levels 0 and d-1 summed densely. */
    private long level0Chains, ringBlocks, denseReduces;

    /**
     * @param pool                the pool to run on, or null when {@code threads == 1}
     * @param threads             number of static partitions (>= 1)
     * @param keepForwardProducts keep a forward's products for the backward on the same prepared
     *                            batch: the owner of the cores promises that they change only
     *                            through {@link #backward}, or calls {@link #coresChanged}
     */
    public VectorTtKernels(WorkerPool pool, int threads, boolean keepForwardProducts) {
        this(pool, threads, keepForwardProducts ? SavedProducts.BUDGET : 0, MIN_ROWS_PER_THREAD, TtPaths.Enabled.ALL);
    }

    /**
     * As the public constructor, with the bytes of products to keep (0: none), the fewest
     * distinct rows worth a partition of their own (tests use 1, so two threads split every
     * batch) and, for tests only, the variants that may run.
     */
    VectorTtKernels(WorkerPool pool, int threads, long productBudget, int minRowsPerPart, TtPaths.Enabled enabled) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (threads > 1 && pool == null) {
            throw new IllegalArgumentException("a pool is needed for " + threads + " threads");
        }
        this.pool = pool;
        this.threads = threads;
        plan = new TtBatchPlan(threads, minRowsPerPart);
        groups = new TtGroups(plan);
        paths = new TtPaths(enabled);
        saved = new SavedProducts(productBudget);
        partitions = new TtPartition[threads];
        for (int t = 0; t < threads; t++) {
            partitions[t] = new TtPartition(t, plan, groups, scratch, paths, call);
        }
    }

    /** @return the number of threads */
    public int threads() {
        return threads;
    }

    /**
     * Sorts one batch of lookups (distinct rows, digit groups): the lookup plan. Valid until the
     * next prepare; the arrays are read again by forward/backward, so the caller must not change
     * them before then. Drops products kept from an earlier batch.
     *
     * @param shape   the table's TT shape
     * @param indices rows looked up, at positions [offsets[0], offsets[bags])
     * @param offsets CSR offsets, bags + 1 entries
     * @param bags    number of bags
     */
    public void prepare(TtShape shape, int[] indices, int[] offsets, int bags) {
        saved.drop();
        plan.prepare(shape, indices, offsets, bags);
        for (TtPartition p : partitions) {
            p.ensure();
        }
    }

    /**
     * Forward on the prepared batch: out[b] (+)= pool_j weight_j * row(indices[j]). Same contract
     * as {@code ComputeBackend.ttEmbeddingBagForward} on host arrays.
     *
     * @param cores            the d cores of the table
     * @param perSampleWeights one weight per lookup (indexed like indices), or null
     * @param pooling          sum or mean
     * @param accumulate       add to out instead of overwriting the bags' rows
     * @param out              output, bag b's D values at outOff + b * ldOut
     * @param outOff           offset of bag 0's row in out
     * @param ldOut            stride between bags' rows in out
     */
    public void forward(float[][] cores, float[] perSampleWeights, Pooling pooling, boolean accumulate, float[] out,
                        int outOff, int ldOut) {
        startCall();
        call.forward(cores, perSampleWeights, pooling, accumulate, out, outOff, ldOut);
        scratch.ensureRowBuffer(plan);
        paths.chooseForward(plan, accumulate, perSampleWeights != null);
        if (paths.directOut) {
            paths.directOut = scratch.mapDirectOutputs(plan, outOff, ldOut);
            if (paths.directOut) {
                directForwards++;
            }
        }
        int keptBlocks = saved.startForward(plan);
        for (int start = 0, b = 0; start < plan.distinct; start += BLOCK, b++) {
            int end = Math.min(plan.distinct, start + BLOCK);
            groups.startBlock(start, end, b < keptBlocks ? saved.forwardBlock(b, end - start, plan) : null, false);
            run(TtPartition.Phase.CHAIN_FORWARD);
        }
        if (keptBlocks > 0) {
            saved.finishForward();
        }
        run(TtPartition.Phase.POOL);
        paths.directOut = false;
        call.clear();
    }

    /**
     * Backward with the fused optimiser on the prepared batch; reuses the products of a forward on
     * the same prepared batch when keepForwardProducts and coresChanged() was not called since.
     * Same contract as {@code ComputeBackend.ttEmbeddingBagBackward} on host arrays.
     *
     * @param cores            the d cores, updated in place (unless opt is ACCUMULATE)
     * @param states           optimiser state per core (see {@code ComputeBackend}), null for SGD
     * @param perSampleWeights one weight per lookup (indexed like indices), or null
     * @param pooling          the forward's pooling
     * @param gradOut          gradient of the output, bag b's D values at gradOff + b * ldGrad
     * @param gradOff          offset of bag 0's row in gradOut
     * @param ldGrad           stride between bags' rows in gradOut
     * @param opt              the optimiser, applied once per touched slice
     */
    public void backward(float[][] cores, float[][] states, float[] perSampleWeights, Pooling pooling,
                         float[] gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
        startCall();
        call.backward(cores, states, perSampleWeights, pooling, gradOut, gradOff, ldGrad, opt);
        scratch.ensureRowBuffer(plan);
        scratch.ensureDenseGrad(plan);
        paths.chooseBackward(plan);
        if (paths.directGrad) {
            directBackwards++;
        }
        if (plan.lookups > 0) {
            plan.listBags();
            run(TtPartition.Phase.ROW_GRADS);
        }
        boolean reuse = saved.valid();
        if (reuse) {
            reuseHits++;
        }
        for (int start = 0, b = 0; start < plan.distinct; start += BLOCK, b++) {
            int end = Math.min(plan.distinct, start + BLOCK), rows = end - start;
            groups.startBlock(start, end, reuse ? saved.backwardBlock(b) : null, true);
            paths.chooseBlock(plan, opt, rows);
            // one partition (level0InChain implies it): partition 0 alone uses the ring
            groups.ringMask = paths.ring(groups.ringRows, rows) ? groups.ringRows - 1 : -1;
            if (groups.ringMask != -1) {
                ringBlocks++;
            }
            if (paths.level0InChain) {
                level0Chains++;
            }
            run(TtPartition.Phase.CHAIN_BACKWARD);
            if (paths.dense(0)) {
                denseReduces++;
            }
            groups.buildSliceLists(paths, scratch);
            run(TtPartition.Phase.REDUCE);
            run(TtPartition.Phase.REDUCE_LEVEL0);
        }
        groups.endBackward();
        if (!paths.oneBlock) {
            run(TtPartition.Phase.APPLY);
        }
        paths.endBackward();
        saved.drop(); // the step changed the cores
        call.clear();
    }

    /** The cores were written other than by backward (loaded, set): drop kept products. */
    public void coresChanged() {
        saved.drop();
    }

    private void startCall() {
        if (plan.shape == null) {
            throw new IllegalStateException("prepare a batch first");
        }
        if (scratch.nextCall()) {
            for (TtPartition p : partitions) {
                p.transposes.resetStamps();
            }
        }
    }

    private void run(TtPartition.Phase phase) {
        int parts = plan.parts;
        for (int t = 0; t < parts; t++) {
            partitions[t].phase = phase;
        }
        if (parts == 1) {
            partitions[0].work();
            return;
        }
        pool.run(parts, t -> partitions[t].work());
    }

    // ---- for tests (the counts of the fields above, and of the partitions')

    /** @return the partitions of the prepared batch */
    int parts() {
        return plan.parts;
    }

    /** @return the distinct rows of the prepared batch */
    int distinctRows() {
        return plan.distinct;
    }

    /** @return blocks whose products the last forward kept */
    int keptBlocks() {
        return saved.blocks();
    }

    long reuseHits() {
        return reuseHits;
    }

    long directForwards() {
        return directForwards;
    }

    long directBackwards() {
        return directBackwards;
    }

    long level0Chains() {
        return level0Chains;
    }

    long ringBlocks() {
        return ringBlocks;
    }

    long denseReduces() {
        return denseReduces;
    }

    /** @return times a backward's chain doubled the dP ring */
    long ringGrowths() {
        return groups.ringGrowths;
    }

    /** @return forward products of two level-1 groups computed in one, over all partitions */
    long pairedForwards() {
        long n = 0;
        for (TtPartition p : partitions) {
            n += p.chain.pairedForwards;
        }
        return n;
    }

    /** @return level-1 slices stepped in the backward's chain (one partition only) */
    long fusedRuns() {
        return partitions[0].chain.fusedRuns;
    }

    /** @return rows whose last level ran in lastBack4 (one partition only) */
    long fusedLastRows() {
        return partitions[0].chain.fusedLastRows;
    }
}
