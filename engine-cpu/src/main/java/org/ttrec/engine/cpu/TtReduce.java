package org.ttrec.engine.cpu;

import org.ttrec.engine.SparseOptimizer;

import java.util.Arrays;

/**
 * One partition's share of the backward's reduction (docs/tt-layout.md, Backward): each touched slice's
 * gradient summed over the groups that used it, in a fixed order (groups sorted by digit, then
 * by slot), and the optimiser applied once per touched slice. No atomics: a slice belongs to one
 * partition, so results are bit-identical for the same inputs and thread count.
 */
final class TtReduce {
    private static final int L = VectorWidth.LANES;
    private static final boolean SCALAR = VectorWidth.SCALAR;

    private final int part;
    private final TtBatchPlan plan;
    private final TtGroups groups;
    private final TtScratch scratch;
    private final TtPaths paths;
    private final TtCall call;
    /** One slice's gradient, summed where it stays in L1 (k x n), and its transposed form (n x k). */
    private float[] sliceAcc = new float[0], sliceAccT = new float[0];
    /** Per group of a slice: offsets of its P_{k-1} and of its dP_k (or row gradient). */
    private int[] productOffs = new int[16], gradOffs = new int[16];
    /**
     * Digits of levels 0 and d-1 whose dense gradient this partition summed in this call (in the
     * chain, or in {@link #reduceDense}), each listed once: the slices reduceDense then steps.
     */
    final IntList level0Digits = new IntList(), lastDigits = new IntList();

    TtReduce(int part, TtBatchPlan plan, TtGroups groups, TtScratch scratch, TtPaths paths, TtCall call) {
        this.part = part;
        this.plan = plan;
        this.groups = groups;
        this.scratch = scratch;
        this.paths = paths;
        this.call = call;
    }

    /** Grows the scratch to the plan's table. */
    void ensure() {
        int maxSlice = 0;
        for (int k = 0; k < plan.levels; k++) {
            maxSlice = Math.max(maxSlice, plan.shape.sliceSize(k));
        }
        if (sliceAcc.length < maxSlice) {
            sliceAcc = new float[maxSlice];
            sliceAccT = new float[maxSlice];
        }
    }

    /** Forgets the digits listed by an earlier block (a call that failed midway leaves some). */
    void forgetDenseDigits() {
        level0Digits.n = 0;
        lastDigits.n = 0;
    }

    /** Lists a digit of level k the first time this call sums into its slice. */
    void touch(int k, int digit, IntList list) {
        int[] stamp = scratch.touchedStamp[k];
        if (stamp[digit] != scratch.call) {
            stamp[digit] = scratch.call;
            list.add(digit);
        }
    }

    /** Slice gradients of this partition's share of the block's slices of levels [kFrom, kTo). */
    void reduce(int kFrom, int kTo) {
        int parts = plan.parts;
        boolean oneBlock = paths.oneBlock;
        float[][] cores = call.cores;
        SparseOptimizer opt = call.opt;
        for (int k = kFrom; k < kTo; k++) {
            if (k == 1 && paths.fuseLevel1) {
                continue; // every level-1 slice was stepped in the chain (TtChainWorker.finishRun)
            }
            if (paths.dense(k)) {
                reduceDense(k);
                continue;
            }
            int slices = groups.slicesAt[k];
            int listBase = groups.sliceListBase[k];
            int s0 = TtPartition.split(slices, parts, part), s1 = TtPartition.split(slices, parts, part + 1);
            int ss = plan.shape.sliceSize(k);
            int m = plan.inRows[k], rank = plan.rank[k], cols = plan.sliceCols[k];
            long[] sliceKeys = groups.sliceKeys;
            for (int s = s0; s < s1; s++) {
                int from = groups.sliceStart[listBase + s], to = groups.sliceStart[listBase + s + 1];
                int digit = (int) (sliceKeys[from] >>> 32);
                // one block holds the whole batch: the slice's gradient is complete here, so it
                // is summed in L1-resident scratch and applied at once (same arithmetic as
                // summing into the zeroed dense gradient, without its stores, reloads and clearing)
                float[] gk = oneBlock ? sliceAcc : scratch.denseGrad[k];
                int gBase = oneBlock ? 0 : digit * ss;
                boolean sgdInRegisters = oneBlock && k > 0 && !plan.narrow[k] && !SCALAR
                        && opt.kind() == SparseOptimizer.Kind.SGD && cols % (4 * L) == 0 && (rank & 3) == 0;
                if (oneBlock && !sgdInRegisters) {
                    Arrays.fill(sliceAcc, 0, ss, 0f);
                }
                if (k == 0) {
                    for (int e = from; e < to; e++) {
                        int slot = (int) sliceKeys[e];
                        TtMicroKernels.axpy(ss, 1f, groups.prefixGrads[0], slot * plan.productSize[0], gk, gBase);
                    }
                    if (oneBlock) {
                        applySlice(k, digit, sliceAcc, 0);
                    }
                    continue;
                }
                boolean lastLevel = k == plan.levels - 1;
                float[] src = lastLevel ? scratch.rowBuffer : groups.prefixGrads[k];
                int srcStride = lastLevel ? plan.shape.dim() : plan.productSize[k];
                int srcShift = lastLevel ? groups.blockStart * plan.shape.dim() : 0;
                int cnt = to - from;
                growOffsets(cnt);
                for (int e = 0; e < cnt; e++) {
                    int slot = (int) sliceKeys[from + e];
                    productOffs[e] = groups.productOffset(k - 1, groups.groupParent[k][slot]);
                    gradOffs[e] = srcShift + slot * srcStride;
                }
                float[] products = groups.productArray(k - 1, cores);
                if (sgdInRegisters) {
                    // the SGD step straight from the accumulators: same bits as storing the
                    // gradient into the zeroed scratch and applying it, without that traffic
                    TtSliceGrad.sliceGradQuadsSgd(m, rank, cols, products, productOffs, src, gradOffs, cnt, cores[k],
                            digit * ss, -opt.lr());
                    continue;
                }
                if (plan.narrow[k]) {
                    Arrays.fill(sliceAccT, 0, ss, 0f);
                    TtSliceGrad.sliceGradT(m, rank, cols, products, productOffs, src, gradOffs, cnt, sliceAccT, 0);
                    for (int a = 0; a < rank; a++) {
                        for (int c = 0; c < cols; c++) {
                            gk[gBase + a * cols + c] += sliceAccT[c * rank + a];
                        }
                    }
                } else {
                    TtSliceGrad.sliceGrad(m, rank, cols, products, productOffs, src, gradOffs, cnt, gk, gBase);
                }
                if (oneBlock) {
                    applySlice(k, digit, sliceAcc, 0);
                }
            }
        }
    }

    /**
     * The slice gradients of level k (0 or d-1) summed straight into the zeroed dense gradient,
     * walking the block's groups in slot order, then each touched slice's optimiser step. The
     * slice-list path visits a slice's groups in the same ascending slot order with the same
     * kernel, so the bits are the same; but at the last level it reads each row's P_{d-2} (for
     * D16 R32: 512 bytes, written by the forward and long out of L1 and L2) in slice order, one
     * scattered read per row; in slot order they stream, and the slice being summed stays in
     * cache. This partition takes the digits [p_k t / parts, p_k (t+1) / parts).
     */
    private void reduceDense(int k) {
        int rows = groups.blockEnd - groups.blockStart;
        int pk = plan.shape.p(k);
        int lo = TtPartition.split(pk, plan.parts, part), hi = TtPartition.split(pk, plan.parts, part + 1);
        int ss = plan.shape.sliceSize(k);
        int rank = plan.rank[k], cols = plan.sliceCols[k];
        float[] g = scratch.denseGrad[k];
        int[] dig = groups.groupDigit[k];
        IntList digits = k == 0 ? level0Digits : lastDigits;
        // summed in the chain already (TtChainWorker: level 0 after each run, the last level per row), or here
        if (k == 0 && !paths.level0InChain) {
            for (int slot = 0; slot < rows; slot++) {
                int digit = dig[slot];
                if (digit >= lo && digit < hi) {
                    touch(0, digit, digits);
                    TtMicroKernels.axpy(ss, 1f, groups.prefixGrads[0], slot * plan.productSize[0], g, digit * ss);
                }
            }
        } else if (k > 0 && !paths.lastInChain) {
            int dim = plan.shape.dim();
            for (int slot = 0; slot < rows; slot++) {
                int digit = dig[slot];
                if (digit >= lo && digit < hi) {
                    int u = groups.blockStart + slot;
                    int from = paths.directGrad ? scratch.directRowAt[u] : -1;
                    lastSliceGrad(digit, groups.groupParent[k][slot], from >= 0 ? call.gradOut : scratch.rowBuffer,
                            from >= 0 ? from : u * dim);
                }
            }
        }
        int n = digits.n;
        digits.n = 0;
        for (int i = 0; i < n; i++) {
            int digit = digits.a[i];
            int base = digit * ss;
            if (k > 0 && plan.narrow[k]) {
                // summed transposed (cols x rank), as sliceGradT works; the step wants rank x cols
                if (cols == 4 && VectorWidth.SIXTEEN && rank % 16 == 0) {
                    // lane shuffles instead of 128 strided loads and stores per slice: 1.06-1.08 at
                    // 128 x 1, where most slices hold one lookup (bench/README fifth session)
                    TtMicroKernels.untranspose4(rank, g, base, sliceAcc);
                } else {
                    for (int a = 0; a < rank; a++) {
                        for (int c = 0; c < cols; c++) {
                            sliceAcc[a * cols + c] = 0f + g[base + c * rank + a];
                        }
                    }
                }
                applySlice(k, digit, sliceAcc, 0);
            } else {
                applySlice(k, digit, g, base);
            }
            Arrays.fill(g, base, base + ss, 0f);
        }
    }

    /**
     * One row's term of the last level's slice gradient, into the dense gradient of its slice
     * (digit, listed in lastDigits): P_{d-2} of the parent group (slot) times the row gradient at
     * src[from].
     */
    void lastSliceGrad(int digit, int parentSlot, float[] src, int from) {
        int k = plan.levels - 1;
        touch(k, digit, lastDigits);
        int ss = plan.shape.sliceSize(k);
        int m = plan.inRows[k], rank = plan.rank[k], cols = plan.sliceCols[k];
        float[] g = scratch.denseGrad[k];
        float[] products = groups.productArray(k - 1, call.cores);
        productOffs[0] = groups.productOffset(k - 1, parentSlot);
        gradOffs[0] = from;
        if (plan.narrow[k] && cols == 4 && rank % (2 * L) == 0) {
            TtSliceGrad.rowGradT4(m, rank, products, productOffs[0], src, from, g, digit * ss);
        } else if (plan.narrow[k]) {
            TtSliceGrad.sliceGradT(m, rank, cols, products, productOffs, src, gradOffs, 1, g, digit * ss);
        } else {
            TtSliceGrad.sliceGrad(m, rank, cols, products, productOffs, src, gradOffs, 1, g, digit * ss);
        }
    }

    /** Applies the optimiser to this partition's share of the touched slices and clears their gradient. */
    void apply() {
        for (int k = 0; k < plan.levels; k++) {
            int n = scratch.touchedCount[k];
            int ss = plan.shape.sliceSize(k);
            float[] g = scratch.denseGrad[k];
            for (int i = TtPartition.split(n, plan.parts, part); i < TtPartition.split(n, plan.parts, part + 1); i++) {
                int digit = scratch.touchedList[k][i];
                int base = digit * ss;
                applySlice(k, digit, g, base);
                Arrays.fill(g, base, base + ss, 0f);
            }
        }
    }

    /** The optimiser step of slice (k, digit) from its gradient at g[gOff, gOff + sliceSize). */
    private void applySlice(int k, int digit, float[] g, int gOff) {
        int ss = plan.shape.sliceSize(k);
        int rank = plan.rank[k], cols = plan.sliceCols[k];
        int base = digit * ss;
        float[] w = call.cores[k];
        float[] st = call.states == null ? null : call.states[k];
        SparseOptimizer opt = call.opt;
        switch (opt.kind()) {
            case ACCUMULATE -> TtMicroKernels.axpy(ss, 1f, g, gOff, st, base);
            case SGD -> TtMicroKernels.axpy(ss, -opt.lr(), g, gOff, w, base);
            case ADAGRAD -> TtMicroKernels.adagrad(ss, opt.lr(), opt.eps(), g, gOff, st, base, w, base);
            case ROWWISE_ADAGRAD -> {
                for (int a = 0; a < rank; a++) {
                    float sq = TtMicroKernels.sumSquares(cols, g, gOff + a * cols);
                    float sv = st[digit * rank + a] + sq / cols;
                    st[digit * rank + a] = sv;
                    float step = opt.lr() / ((float) Math.sqrt(sv) + opt.eps());
                    TtMicroKernels.axpy(cols, -step, g, gOff + a * cols, w, base + a * cols);
                }
            }
        }
    }

    private void growOffsets(int cnt) {
        if (productOffs.length < cnt) {
            productOffs = new int[Math.max(cnt, 2 * productOffs.length)];
            gradOffs = new int[productOffs.length];
        }
    }
}
