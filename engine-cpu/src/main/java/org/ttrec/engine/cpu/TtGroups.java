package org.ttrec.engine.cpu;

import java.util.Arrays;

/**
 * The groups of the block of distinct rows being walked, indexed by slot (the block-relative
 * distinct row that opened the group): per level, each group's digit and parent, its P_k and
 * dP_k, the ring that holds dP_0 and dP_1 when they die young, and the groups sorted by digit
 * into one list per slice.
 *
 * <p>P_k depends only on the digits (i_0..i_k), so rows walked in sorted order share the group
 * of every level whose digits they share: a group is opened at the first row with its prefix and
 * its P_k computed once. Blocks of {@link VectorTtKernels#BLOCK} rows keep this scratch bounded.
 */
final class TtGroups {
    private final TtBatchPlan plan;

    /** Distinct rows [blockStart, blockEnd) of the plan form the block. */
    int blockStart, blockEnd;
    /**
     * Level k in [1, d-2]: P_k of the group opened at each slot (P_0 is core 0's slice, read in
     * place, and the last level writes rows). Either {@link #ownProducts} or a block of the
     * forward's kept products.
     */
    float[][] prefixProducts = new float[0][];
    /** The backward reads products a forward kept, instead of computing them. */
    boolean productsKept;
    private float[][] ownProducts = new float[0][];
    /** Level k < d-1: dP_k of the group opened at each slot, at {@link #gradOffset}. */
    float[][] prefixGrads = new float[0][];
    /** Level k: the digit of the group opened at each slot, or -1 where none opened. */
    int[][] groupDigit = new int[0][];
    /** Level k >= 1: the slot of each group's parent (level k-1). */
    int[][] groupParent = new int[0][];

    /**
     * Ring indexing of dP_0 and dP_1 (slot & ringMask instead of slot), or -1 when off. With
     * levels 0 and 1 summed in the backward's chain, a group's dP is dead once the run of rows on
     * its level-1 slice has been stepped, so only the groups of about two runs are live at once.
     * A ring of a few dozen slots keeps that scratch in L1; over a whole block it would be 1.5 MB
     * at D16 R32 and 2048 rows, written and read once per call, pushing the level-1 slices and the
     * forward's products out of L2 (bench/README, sixth session: 1.03-1.04 at 2048 x 1). The chain
     * doubles the ring, moving the live groups, before a new group would land on a live one
     * ({@link #ringFits}), so any row order is served. Same arithmetic in the same order as plain
     * slots: the bits do not change.
     */
    int ringMask = -1;
    /** Ring slots to start a block with (a power of two; grows with the longest runs seen). */
    int ringRows = 64;
    /** Times a chain doubled the ring (for tests). */
    long ringGrowths;
    /** {@link #moveLive}'s copy of the live groups (old and new places may overlap). */
    private float[] ringMoveTmp = new float[0];

    /** Per level, (digit << 32 | slot) of its groups, sorted: a segment per slice. */
    long[] sliceKeys = new long[0];
    /** Start of each slice's segment in {@link #sliceKeys}, per level from {@link #sliceListBase}. */
    int[] sliceStart = new int[0];
    /** Per level: slices with a segment in this block (0 when the level is summed otherwise). */
    int[] slicesAt = new int[0];
    /** Per level: index of its first slice in {@link #sliceStart}. */
    int[] sliceListBase = new int[0];

    TtGroups(TtBatchPlan plan) {
        this.plan = plan;
    }

    /**
     * Starts the block of distinct rows [start, end): no group open yet. keptProducts are the
     * forward's products of this block to fill (forward) or read (backward), or null to compute
     * into scratch.
     */
    void startBlock(int start, int end, float[][] keptProducts, boolean backward) {
        blockStart = start;
        blockEnd = end;
        int rows = end - start;
        int d = plan.levels;
        if (prefixGrads.length < d) {
            prefixGrads = Arrays.copyOf(prefixGrads, d);
            groupDigit = Arrays.copyOf(groupDigit, d);
            groupParent = Arrays.copyOf(groupParent, d);
            slicesAt = new int[d];
            sliceListBase = new int[d];
        }
        if (ownProducts.length < d) {
            ownProducts = Arrays.copyOf(ownProducts, d);
        }
        for (int k = 0; k < d; k++) {
            if (k < d - 1) {
                long need = (long) rows * plan.productSize[k];
                if (prefixGrads[k] == null || prefixGrads[k].length < need) {
                    prefixGrads[k] = new float[(int) need];
                }
                if (k > 0 && (ownProducts[k] == null || ownProducts[k].length < need)) {
                    ownProducts[k] = new float[(int) need];
                }
            }
            if (groupDigit[k] == null || groupDigit[k].length < rows) {
                groupDigit[k] = new int[rows];
                groupParent[k] = new int[rows];
            }
            Arrays.fill(groupDigit[k], 0, rows, -1);
        }
        if (sliceKeys.length < (long) rows * d) {
            sliceKeys = new long[rows * d];
            sliceStart = new int[rows * d + d];
        }
        prefixProducts = keptProducts != null ? keptProducts : ownProducts;
        productsKept = backward && keptProducts != null;
    }

    /** Ends the backward's blocks: nothing kept is read, no ring. */
    void endBackward() {
        productsKept = false;
        ringMask = -1;
    }

    /** Where P_k of the group at a slot lives: P_0 is core 0's slice, read in place. */
    float[] productArray(int k, float[][] cores) {
        return k == 0 ? cores[0] : prefixProducts[k];
    }

    /** See {@link #productArray}. */
    int productOffset(int k, int slot) {
        return k == 0 ? groupDigit[0][slot] * plan.productSize[0] : slot * plan.productSize[k];
    }

    /** Offset in prefixGrads[k] of dP_k of the group opened at a slot (see {@link #ringMask}). */
    int gradOffset(int k, int slot) {
        return (k <= 1 ? slot & ringMask : slot) * plan.productSize[k];
    }

    /**
     * Before a level-0 group opened at slot takes its place: if the oldest group still live lies a
     * whole ring behind, doubles the ring until it fits, moving the live groups of levels 0 and 1.
     *
     * <p>Live at level 0: the groups in level0Open, summed into their slices at the end of their
     * run (one still open then is carried into the next run). Live at level 1: the closed groups
     * of the current run, waiting for the slice's step. Each of those opened at a row that opened
     * a level-0 group too, or at the run's first row, whose level-0 group (opened there or
     * carried) is still in level0Open. So level0Open's first slot is never later than level 1's
     * oldest, and a group opened at level 1 alone (a run's first row) finds the previous run
     * stepped: this one check serves both levels.
     */
    void ringFits(int slot, IntList level0Open, int[] level1Closed, int level1Count) {
        int oldest = level0Open.a[0]; // slot itself is listed
        if (slot - oldest <= ringMask) {
            return;
        }
        int old = ringMask, mask = ringMask;
        while (slot - oldest > mask) {
            mask = 2 * mask + 1;
        }
        ringRows = Math.max(ringRows, mask + 1); // later blocks and calls start with it
        if (mask + 1 >= blockEnd - blockStart) {
            mask = -1; // a ring as large as the block: plain slots
        }
        moveLive(0, level0Open.a, level0Open.n, old, mask);
        moveLive(1, level1Closed, level1Count, old, mask);
        ringMask = mask;
        ringGrowths++; // one partition only: no race
    }

    /** Moves dP_k of the n listed slots from their places under ring mask old to mask. */
    private void moveLive(int k, int[] slots, int n, int old, int mask) {
        int m = plan.productSize[k];
        if (ringMoveTmp.length < n * m) {
            ringMoveTmp = new float[n * m];
        }
        for (int e = 0; e < n; e++) {
            System.arraycopy(prefixGrads[k], (slots[e] & old) * m, ringMoveTmp, e * m, m);
        }
        for (int e = 0; e < n; e++) {
            System.arraycopy(ringMoveTmp, e * m, prefixGrads[k], (slots[e] & mask) * m, m);
        }
    }

    /**
     * Sorts each level's groups of the block by (digit, slot): one segment per slice, whose
     * slice it lists as touched. Levels summed otherwise (paths.listsSlices false) get none.
     */
    void buildSliceLists(TtPaths paths, TtScratch scratch) {
        int rows = blockEnd - blockStart;
        int base = 0;
        int segBase = 0;
        for (int k = 0; k < plan.levels; k++) {
            sliceListBase[k] = segBase;
            if (!paths.listsSlices(k)) {
                slicesAt[k] = 0;
                continue;
            }
            int[] dig = groupDigit[k];
            int n = 0;
            for (int u = 0; u < rows; u++) {
                if (dig[u] >= 0) {
                    sliceKeys[base + n++] = ((long) dig[u] << 32) | u;
                }
            }
            plan.radixSort(sliceKeys, base, n, plan.shape.p(k) - 1);
            int slices = 0;
            long prevDigit = -1;
            for (int t = 0; t < n; t++) {
                long digit = sliceKeys[base + t] >>> 32;
                if (digit != prevDigit) {
                    sliceStart[segBase + slices++] = base + t;
                    prevDigit = digit;
                    scratch.touch(k, (int) digit);
                }
            }
            sliceStart[segBase + slices] = base + n;
            slicesAt[k] = slices;
            base += n;
            segBase += slices + 1;
        }
    }
}
