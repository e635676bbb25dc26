package org.ttrec.engine.cpu;

import org.ttrec.engine.SparseOptimizer;

/**
 * Which variant of each step the kernels take for the current call and block, chosen from the
 * inputs alone (shape, batch, partitions, optimiser). Every variant gives the bits of the
 * general path it replaces; each one listed here won a paired A/B in bench/README, which names
 * the measurement. Workers read the choices; the front door makes them.
 */
final class TtPaths {
    /**
     * A worker transposes a wide slice for the backward only when it expects to use it this many
     * times: transposing costs one scalar copy per slice entry, the alternative (dot products)
     * one horizontal reduction per output entry (bench/README, fifth session: the dot-product
     * dP_0 at 2048 x 1 ran 0.77M against 1.32M lookups/s).
     */
    static final int TRANSPOSE_MIN_USES = 4;

    /**
     * Test-only seam: which of the variants that have a live general path beside them may run.
     * Production code always uses {@link #ALL}; tests turn one off to compare the two paths bit
     * for bit in one JVM.
     *
     * @param directRows    single-lookup rows written to the output and read from gradOut directly
     * @param denseReduce   levels 0 and d-1 summed in slot order into the dense gradient
     * @param lastInChain   the last level's slice-gradient terms summed in the backward's chain
     * @param fuseLast      the last level's two backward products in one kernel (lastBack4)
     * @param level0InChain level 0's slice gradients summed at the end of each level-1 run
     * @param ring          dP_0 and dP_1 in a ring of slots
     */
    record Enabled(boolean directRows, boolean denseReduce, boolean lastInChain, boolean fuseLast,
                   boolean level0InChain, boolean ring) {
        static final Enabled ALL = new Enabled(true, true, true, true, true, true);
    }

    private final Enabled enabled;

    // ---- forward call
    /**
     * P_1 of two level-1 groups on the same slice in one 4-row product (gemmRows2x2), for
     * D16-like shapes (q_0 = 2): the 2-row product needs 6 loads per 8 FMAs and is load-bound;
     * four rows share each slice load (forward +6% at 2048 x 1, bench/README fourth session).
     */
    boolean pairForward;
    /**
     * Single-lookup rows are written straight to the output ({@link TtScratch#directRowAt}), and
     * in the backward read from gradOut: no copy through the row buffer (paired A/B 1.029,
     * bench/README fourth session).
     */
    boolean directOut;

    // ---- backward call
    /** The whole batch is one block: each slice's gradient is complete after its block. */
    boolean oneBlock;
    /** Single-lookup rows at scale 1 read their gradient straight from gradOut (see directOut). */
    boolean directGrad;

    // ---- backward block
    /** Per level: dP_{k-1} from a transposed slice (else dot products on the slice as stored). */
    boolean[] transposeBack = new boolean[0];
    /**
     * Level-1 groups' dP_0 in pairs on the same slice (gemmRowsAdd2x2), D16-like shapes: the
     * 2-row product is load-bound, and four rows share each slice load (bench/README, second
     * session, among the changes since the first).
     */
    boolean pairLevel1;
    /**
     * Each level-1 slice gets its SGD step as soon as its run of rows is closed, right after the
     * dP_0 products that read its old values, while the slice is still in L1; the reduce phase
     * would read it again from L2 or L3 (bench/README, third session: 0.95-1.13 -> 1.07-1.11 M
     * lookups/s at 128 x 1). It is the reduce's in-register SGD step on the same rows in the same
     * order, so the bits are those of the reduce.
     */
    boolean fuseLevel1;
    /**
     * The last level's slice-gradient terms summed in the chain, in the slot order the dense
     * reduce would use, while the chain's work hides the read of P_{d-2} (paired A/B 1.039,
     * bench/README fourth session).
     */
    boolean lastInChain;
    /**
     * The last level's two backward products of a row in one kernel (lastBack4) at q_{d-1} = 4
     * (1.03-1.08, bench/README fifth session).
     */
    boolean fuseLast;
    /**
     * Level 0's slice gradients summed at the end of each level-1 run, while dP_0 is in L1
     * (1.019 at 2048 x 1, 1.038 at 128 x 1, bench/README fourth session).
     */
    boolean level0InChain;
    /** Cores of the backward's table. */
    private int levels;

    TtPaths(Enabled enabled) {
        this.enabled = enabled;
    }

    /** Chooses the forward's variants. */
    void chooseForward(TtBatchPlan plan, boolean accumulate, boolean weighted) {
        pairForward = pairForward(plan);
        directOut = enabled.directRows && !accumulate && !weighted;
    }

    /** Chooses the backward call's variants (its chain computes P_k where none were kept). */
    void chooseBackward(TtBatchPlan plan) {
        pairForward = pairForward(plan);
        levels = plan.levels;
        oneBlock = plan.distinct <= VectorTtKernels.BLOCK;
        directGrad = enabled.directRows && dense(levels - 1);
    }

    /** Chooses the variants of a backward block of the given distinct rows. */
    void chooseBlock(TtBatchPlan plan, SparseOptimizer opt, int rows) {
        int d = plan.levels;
        int lanes = VectorWidth.LANES;
        boolean scalar = VectorWidth.SCALAR;
        if (transposeBack.length < d) {
            transposeBack = new boolean[d];
        }
        int perThread = rows / plan.parts;
        for (int k = 0; k < d; k++) {
            transposeBack[k] = !scalar && (long) perThread >= (long) TRANSPOSE_MIN_USES * plan.shape.p(k);
        }
        pairLevel1 = plan.swapped && !plan.narrow[1] && transposeBack[1] && plan.inRows[1] == 2
                && plan.rank[1] % (2 * lanes) == 0;
        // the reduce's in-register SGD condition for level 1 (TtReduce.reduce), on one partition
        fuseLevel1 = plan.swapped && oneBlock && plan.parts == 1 && !scalar && !plan.narrow[1]
                && opt.kind() == SparseOptimizer.Kind.SGD && plan.sliceCols[1] % (4 * lanes) == 0
                && (plan.rank[1] & 3) == 0;
        lastInChain = enabled.lastInChain && plan.parts == 1 && dense(d - 1);
        // lastSliceGrad's rowGradT4 condition, and levelBackward's gemmRowsAdd on the transposed
        // slice with rows in pairs (Q_{d-1} even): the arithmetic lastBack4 repeats
        fuseLast = enabled.fuseLast && lastInChain && !scalar && plan.narrow[d - 1] && plan.sliceCols[d - 1] == 4
                && plan.rank[d - 1] % (2 * lanes) == 0 && (plan.inRows[d - 1] & 1) == 0;
        level0InChain = enabled.level0InChain && fuseLevel1 && dense(0);
    }

    private static boolean pairForward(TtBatchPlan plan) {
        return plan.swapped && !VectorWidth.SCALAR && !plan.narrow[1] && plan.inRows[1] == 2
                && plan.sliceCols[1] % (4 * VectorWidth.LANES) == 0;
    }

    /** Whether this block's dP_0 and dP_1 may live in a ring of ringRows slots. */
    boolean ring(int ringRows, int rows) {
        return enabled.ring && level0InChain && ringRows < rows;
    }

    /** Ends a backward call. */
    void endBackward() {
        fuseLevel1 = false;
        lastInChain = false;
        fuseLast = false;
        level0InChain = false;
        pairLevel1 = false;
        oneBlock = false;
        directGrad = false;
    }

    /**
     * Whether level k's slice gradients are summed in slot order straight into the dense gradient
     * (TtReduce.reduceDense) instead of per slice from sorted slice lists: levels 0 and d-1 when
     * the whole batch is one block (the step follows at once, so the dense gradient is zero again
     * when the call ends). In slot order the last level's reads of P_{d-2} stream and its slice
     * stays in cache; no slice lists are built (bench/README fourth session).
     */
    boolean dense(int k) {
        return enabled.denseReduce && oneBlock && (k == 0 || k == levels - 1);
    }

    /** Whether level k's slices are summed from sorted slice lists in the reduce phase. */
    boolean listsSlices(int k) {
        return !dense(k) && !(k == 1 && fuseLevel1);
    }
}
