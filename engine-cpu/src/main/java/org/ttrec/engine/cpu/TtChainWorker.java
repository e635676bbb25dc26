package org.ttrec.engine.cpu;

import java.util.Arrays;

/**
 * One partition's walk along the TT chain (docs/tt-layout.md, Forward and Backward) over its share of a block's
 * distinct rows, in sorted order, keeping one open group per level.
 *
 * <p>Forward: when a row shares its first k+1 digits with the previous one, it reuses P_k; each
 * new group computes its P_k once from its parent's; the last level writes the row's value.
 * Backward: the row's gradient flows back through the groups. A group's dP_k is the sum of its
 * children's, so a prefix shared by many rows is back-propagated once, when the group closes;
 * where the paths allow, slice-gradient terms and optimiser steps are done here too, while their
 * operands are in L1 (see {@link TtPaths}).
 */
final class TtChainWorker {
    private final TtBatchPlan plan;
    private final TtGroups groups;
    private final TtScratch scratch;
    private final TtPaths paths;
    private final TtCall call;
    private final TtSliceTransposes transposes;
    private final TtReduce reduce;

    /** Digits of the current row, and of the groups open at each level. */
    private int[] rowDigits = new int[0], openDigits = new int[0];
    /** Slot of the group open at each level. */
    private int[] openSlot = new int[0];
    /** Digits of a later row, while looking for a group to pair with ({@link #nextGroupOnSlice}). */
    private int[] aheadDigits = new int[0];
    /** Lanes of one vector, for the fixed-order horizontal sums of the dot-product kernels. */
    private final float[] lanes = new float[Math.max(VectorWidth.LANES, 1)];

    /** Slot of a level-1 group whose P_1 was computed with the previous group's, or -1. */
    private int pairedSlot = -1;
    /** Products of two level-1 groups computed in one (for tests). */
    long pairedForwards;

    /** Level-1 groups (slots) closed on slice runDigit whose SGD step waits for the run's end. */
    private int[] runSlots = new int[0];
    private int runCount, runDigit;
    /** Offsets of the run's groups' P_0 and dP_1, for the slice's step. */
    private int[] runProductOffs = new int[16], runGradOffs = new int[16];
    /** Level-1 slices stepped in the chain (for tests; one partition only). */
    long fusedRuns;
    /** Level-0 groups (slots, ascending) opened since their dP_0 was last summed into the slices. */
    private final IntList level0Open = new IntList();
    /**
     * A closed level-1 group whose dP_0 waits for a partner on the same slice (slot, or -1), its
     * slice digit and the slot of the level-0 group its dP_0 goes to.
     */
    private int waitingSlot = -1, waitingDigit, waitingParent;
    /** Rows whose last level ran in lastBack4 (for tests; one partition only). */
    long fusedLastRows;

    TtChainWorker(TtBatchPlan plan, TtGroups groups, TtScratch scratch, TtPaths paths, TtCall call,
                  TtSliceTransposes transposes, TtReduce reduce) {
        this.plan = plan;
        this.groups = groups;
        this.scratch = scratch;
        this.paths = paths;
        this.call = call;
        this.transposes = transposes;
        this.reduce = reduce;
    }

    /** Grows the scratch to the plan's table. */
    void ensure() {
        int d = plan.levels;
        if (rowDigits.length < d) {
            rowDigits = new int[d];
            openDigits = new int[d];
            openSlot = new int[d];
            aheadDigits = new int[d];
        }
    }

    /**
     * Walks distinct rows [u0, u1) in order, opening a group per level when a digit changes,
     * computing each group's P_k once; the last level writes row values (forward) or pushes row
     * gradients back through the groups (backward). The loop reads the plan's and the call's
     * arrays through their fields: cached in locals, which stay live across the kernel calls, they
     * made C2 spill more, and the forward's walk ran 2-5% slower (paired, in one JVM).
     */
    void walk(int u0, int u1, boolean backward) {
        int dim = plan.shape.dim();
        int last = plan.levels - 1;
        pairedSlot = -1;
        runCount = 0; // nothing left from a call that failed midway
        reduce.forgetDenseDigits();
        level0Open.n = 0;
        for (int u = u0; u < u1; u++) {
            int slot = u - groups.blockStart;
            plan.digits(plan.distinctRow[u], rowDigits);
            int k0 = 0;
            if (u > u0) {
                while (rowDigits[k0] == openDigits[k0]) {
                    k0++; // rows are distinct, so k0 <= d-1
                }
                if (backward) {
                    for (int k = last - 1; k >= k0; k--) {
                        close(k);
                    }
                }
            }
            for (int k = k0; k < last; k++) {
                if (k == 1 && backward && runCount > 0 && rowDigits[1] != runDigit) {
                    finishRun(true); // rows run by i_1: no later row uses the previous slice
                }
                groups.groupDigit[k][slot] = rowDigits[k];
                openSlot[k] = slot;
                if (k == 0 && backward && paths.level0InChain) {
                    level0Open.add(slot);
                    if (groups.ringMask != -1) {
                        groups.ringFits(slot, level0Open, runSlots, runCount);
                    }
                }
                int dst = slot * plan.productSize[k];
                if (k > 0) { // P_0 is the slice G_0[i_0] itself: read in place, never copied
                    groups.groupParent[k][slot] = openSlot[k - 1];
                    if (!groups.productsKept && !(k == 1 && slot == pairedSlot)) {
                        int pairSlot = k == 1 && paths.pairForward ? nextGroupOnSlice(u, u1) : -1;
                        if (pairSlot >= 0) {
                            // this group and the next one on the same slice, in one product
                            TtMicroKernels.gemmRows2x2(plan.rank[1], plan.sliceCols[1], call.cores[0],
                                    groups.productOffset(0, openSlot[0]), aheadDigits[0] * plan.productSize[0],
                                    call.cores[1], rowDigits[1] * plan.shape.sliceSize(1), groups.prefixProducts[1],
                                    dst, pairSlot * plan.productSize[1]);
                            pairedSlot = pairSlot;
                            pairedForwards++;
                        } else {
                            levelForward(k, rowDigits[k], groups.productArray(k - 1, call.cores),
                                    groups.productOffset(k - 1, openSlot[k - 1]), groups.prefixProducts[k], dst);
                        }
                    }
                }
                // (with fuseLast, this row's last level writes dP_{d-2} of the group it opens)
                if (backward && !(paths.fuseLast && k == last - 1)) {
                    int gdst = groups.gradOffset(k, slot);
                    Arrays.fill(groups.prefixGrads[k], gdst, gdst + plan.productSize[k], 0f);
                }
                openDigits[k] = rowDigits[k];
            }
            openDigits[last] = rowDigits[last];
            int parent = openSlot[last - 1];
            if (!backward) {
                int to = paths.directOut ? scratch.directRowAt[u] : -1;
                levelForward(last, rowDigits[last], groups.productArray(last - 1, call.cores),
                        groups.productOffset(last - 1, parent), to >= 0 ? call.out : scratch.rowBuffer,
                        to >= 0 ? to : u * dim);
            } else {
                lastLevelBackward(u, slot, parent);
            }
        }
        if (backward && u1 > u0) {
            for (int k = last - 1; k >= 1; k--) {
                close(k);
            }
            flushWaiting();
            if (runCount > 0) {
                finishRun(false);
            }
            if (paths.level0InChain && level0Open.n > 0) {
                level0Terms(false);
            }
        }
    }

    /** The last level's backward of distinct row u (its group at slot, its parent group at parent). */
    private void lastLevelBackward(int u, int slot, int parent) {
        int last = plan.levels - 1;
        int digit = rowDigits[last];
        groups.groupDigit[last][slot] = digit;
        groups.groupParent[last][slot] = parent;
        int from = paths.directGrad ? scratch.directRowAt[u] : -1;
        float[] src = from >= 0 ? call.gradOut : scratch.rowBuffer;
        int srcOff = from >= 0 ? from : u * plan.shape.dim();
        if (paths.fuseLast) {
            reduce.touch(last, digit, reduce.lastDigits);
            int bt = transposes.of(last, digit);
            TtSliceGrad.lastBack4(plan.inRows[last], plan.rank[last], groups.productArray(last - 1, call.cores),
                    groups.productOffset(last - 1, parent), src, srcOff, transposes.array, bt,
                    groups.prefixGrads[last - 1], groups.gradOffset(last - 1, parent), parent == slot,
                    scratch.denseGrad[last], digit * plan.shape.sliceSize(last));
            fusedLastRows++;
            return;
        }
        levelBackward(last, digit, src, srcOff, groups.prefixGrads[last - 1], groups.gradOffset(last - 1, parent));
        if (paths.lastInChain) {
            // one partition: this row's slice-gradient term now, in the same slot order the
            // dense reduce would use (same bits), while the chain's work hides the read of P_{d-2},
            // which the forward left far from L1
            reduce.lastSliceGrad(digit, parent, src, srcOff);
        }
    }

    /**
     * Slot of the next level-1 group after the one that distinct row u opens, when it lies on the
     * same slice (same i_1, another i_0) before row u1; -1 otherwise. Its digits are left in
     * {@link #aheadDigits}. Rows run by (i_1, i_0, ...), so the scan stops at the first row of
     * another group.
     */
    private int nextGroupOnSlice(int u, int u1) {
        for (int v = u + 1; v < u1; v++) {
            plan.digits(plan.distinctRow[v], aheadDigits);
            if (aheadDigits[1] != rowDigits[1]) {
                return -1;
            }
            if (aheadDigits[0] != rowDigits[0]) {
                return v - groups.blockStart;
            }
        }
        return -1;
    }

    /**
     * SGD step of level-1 slice runDigit from its closed groups, as the reduce phase would do it
     * (groups in ascending slot order, sliceGradQuadsSgd), after the last dP_0 that reads the
     * slice's old values.
     */
    private void finishRun(boolean more) {
        flushWaiting();
        int cnt = runCount;
        if (runProductOffs.length < cnt) {
            runProductOffs = new int[Math.max(cnt, 2 * runProductOffs.length)];
            runGradOffs = new int[runProductOffs.length];
        }
        for (int e = 0; e < cnt; e++) {
            int slot = runSlots[e];
            runProductOffs[e] = groups.productOffset(0, groups.groupParent[1][slot]);
            runGradOffs[e] = groups.gradOffset(1, slot);
        }
        TtSliceGrad.sliceGradQuadsSgd(plan.inRows[1], plan.rank[1], plan.sliceCols[1], call.cores[0], runProductOffs,
                groups.prefixGrads[1], runGradOffs, cnt, call.cores[1], runDigit * plan.shape.sliceSize(1),
                -call.opt.lr());
        runCount = 0;
        fusedRuns++;
        if (paths.level0InChain) {
            level0Terms(more);
        }
    }

    /**
     * Adds dP_0 of each finished level-0 group to the dense gradient of its slice, as the dense
     * reduce would, in ascending slot order per digit (same bits), while dP_0 is still in L1. At
     * the end of a run every dP_0 of its groups is complete (its waiting pair flushed), except
     * that of the level-0 group still open (more rows follow), which waits for the next run.
     */
    private void level0Terms(boolean more) {
        int ss = plan.shape.sliceSize(0);
        float[] g = scratch.denseGrad[0];
        int keep = 0;
        for (int e = 0; e < level0Open.n; e++) {
            int slot = level0Open.a[e];
            if (more && slot == openSlot[0]) {
                level0Open.a[keep++] = slot;
                continue;
            }
            int digit = groups.groupDigit[0][slot];
            reduce.touch(0, digit, reduce.level0Digits);
            TtMicroKernels.axpy(ss, 1f, groups.prefixGrads[0], groups.gradOffset(0, slot), g, digit * ss);
        }
        level0Open.n = keep;
    }

    /** dP_0 of the waiting level-1 group, alone. */
    private void flushWaiting() {
        if (waitingSlot >= 0) {
            levelBackward(1, waitingDigit, groups.prefixGrads[1], groups.gradOffset(1, waitingSlot),
                    groups.prefixGrads[0], groups.gradOffset(0, waitingParent));
            waitingSlot = -1;
        }
    }

    /** The group open at level k >= 1 ends: push its gradient into its parent. */
    private void close(int k) {
        if (k == 0) {
            return;
        }
        int slot = openSlot[k];
        int digit = groups.groupDigit[k][slot];
        if (k == 1 && paths.fuseLevel1) {
            if (runCount == runSlots.length) {
                runSlots = Arrays.copyOf(runSlots, Math.max(16, 2 * runCount));
            }
            runSlots[runCount++] = slot;
            runDigit = digit;
        }
        float[][] grads = groups.prefixGrads;
        if (k == 1 && paths.pairLevel1) {
            // rows run by i_1, so consecutive level-1 groups share their slice: two groups' dP_0
            // in one 4-row product load each slice vector once for both (the 2-row product is
            // load-bound); each row's arithmetic is unchanged, so are the bits
            if (waitingSlot >= 0 && waitingDigit == digit) {
                int bt = transposes.of(1, digit);
                TtMicroKernels.gemmRowsAdd2x2(plan.sliceCols[1], plan.rank[1], grads[1],
                        groups.gradOffset(1, waitingSlot), groups.gradOffset(1, slot), transposes.array, bt, grads[0],
                        groups.gradOffset(0, waitingParent), groups.gradOffset(0, openSlot[0]));
                waitingSlot = -1;
                return;
            }
            flushWaiting();
            waitingSlot = slot;
            waitingDigit = digit;
            waitingParent = openSlot[0];
            return;
        }
        levelBackward(k, digit, grads[k], groups.gradOffset(k, slot), grads[k - 1],
                groups.gradOffset(k - 1, openSlot[k - 1]));
    }

    /** P_k (M x cols) = P_{k-1} (M x R_k) @ G_k[digit] (R_k x cols), M = Q_{k-1}. */
    private void levelForward(int k, int digit, float[] a, int aOff, float[] c, int cOff) {
        int m = plan.inRows[k], rank = plan.rank[k], cols = plan.sliceCols[k];
        float[] core = call.cores[k];
        int sliceOff = digit * plan.shape.sliceSize(k);
        if (plan.narrow[k] && cols == 4) {
            TtMicroKernels.gemmRowsN4(m, rank, a, aOff, core, sliceOff, c, cOff);
        } else if (plan.narrow[k] && cols == 8) {
            TtMicroKernels.gemmRowsN8(m, rank, a, aOff, core, sliceOff, c, cOff);
        } else if (plan.narrow[k]) {
            int bt = transposes.of(k, digit);
            TtDotKernels.dotsT(m, rank, cols, a, aOff, transposes.array, bt, c, cOff, lanes);
        } else {
            TtMicroKernels.gemmRows(m, rank, cols, a, aOff, core, sliceOff, c, cOff);
        }
    }

    /** dP_{k-1} (M x R_k) += dP_k (M x cols) @ G_k[digit]^T. */
    private void levelBackward(int k, int digit, float[] g, int gOff, float[] dst, int dstOff) {
        int m = plan.inRows[k], rank = plan.rank[k], cols = plan.sliceCols[k];
        if (plan.narrow[k] || paths.transposeBack[k]) {
            int bt = transposes.of(k, digit);
            TtMicroKernels.gemmRowsAdd(m, cols, rank, g, gOff, transposes.array, bt, dst, dstOff);
        } else {
            TtDotKernels.dotsAdd(m, cols, rank, g, gOff, call.cores[k], digit * plan.shape.sliceSize(k), dst, dstOff,
                    lanes);
        }
    }
}
