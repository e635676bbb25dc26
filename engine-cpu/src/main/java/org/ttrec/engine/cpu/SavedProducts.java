package org.ttrec.engine.cpu;

import org.ttrec.engine.TtShape;

import java.util.Arrays;

/**
 * The partial products P_1..P_{d-2} that a forward computed on the prepared batch, kept for the
 * backward on the same batch, which then need not recompute them (paired A/B 1.130 and 1.151 at
 * 2048 x 1, bench/README sixth session). P_0 is core 0's slice and is never copied.
 *
 * <h2>Why reuse is exact</h2>
 * A block's products are a deterministic function of the shape, the plan's distinct rows and
 * partition count, and the core slices G_k[i_k], k <= d-2, that those rows read. The kernel
 * instance's owner promises that its cores change only through the backward (after which
 * nothing kept is used) or tells the instance ({@link VectorTtKernels#coresChanged}); a new
 * prepared batch drops them too.
 *
 * <p>Memory: the products of the first blocks are kept, as many as fit {@link #BUDGET}; the
 * backward recomputes the others.
 */
final class SavedProducts {
    /**
     * Bytes of products kept per instance: an eighth of 256 MB, or of an eighth of the maximum heap
     * if that is less, so small heaps are not crowded out. Seven Kaggle tables then keep at most
     * what one shared instance kept before tables had instances of their own, and a table's batch
     * (512 bytes per distinct row at D16 R32) fits up to 65k distinct rows.
     */
    static final long BUDGET = (Math.min(256L, Runtime.getRuntime().maxMemory() / 8 >> 20) << 20) / 8;

    private final long budget;
    /** Blocks (of {@link VectorTtKernels#BLOCK} distinct rows) whose products are kept, from the first. */
    private int blocks;
    /** [block][level]: P_k of the groups opened in that block, as the forward wrote them. */
    private float[][][] products = new float[0][][];
    /** The kept products are those of a finished forward on the prepared batch and the current cores. */
    private boolean valid;

    /** @param budget bytes of products to keep (0: none) */
    SavedProducts(long budget) {
        this.budget = budget;
    }

    /**
     * A forward starts on the prepared batch: drops what was kept and returns how many of its
     * blocks' products fit the budget (0 when none).
     */
    int startForward(TtBatchPlan plan) {
        valid = false;
        blocks = 0;
        if (budget <= 0 || plan.distinct == 0) {
            return 0;
        }
        TtShape s = plan.shape;
        long perRow = 0;
        long rows = 1;
        for (int k = 0; k < s.cores() - 1; k++) {
            rows *= s.q(k);
            perRow += k == 0 ? 0 : 4L * rows * s.rank(k + 1);
        }
        long rowsFit = budget / Math.max(1, perRow);
        int block = VectorTtKernels.BLOCK;
        int allBlocks = (plan.distinct + block - 1) / block;
        blocks = (int) Math.min(allBlocks, rowsFit / block + (rowsFit >= plan.distinct ? 1 : 0));
        if (blocks <= 0) {
            blocks = 0;
            products = new float[0][][];
            return 0;
        }
        for (int b = blocks; b < products.length; b++) {
            products[b] = null; // blocks no longer kept: release their memory
        }
        return blocks;
    }

    /** The forward's arrays for block b's products, grown to its rows. */
    float[][] forwardBlock(int b, int rowsInBlock, TtBatchPlan plan) {
        int d = plan.levels;
        if (products.length <= b) {
            products = Arrays.copyOf(products, b + 1);
        }
        if (products[b] == null || products[b].length < d) {
            products[b] = products[b] == null ? new float[d][] : Arrays.copyOf(products[b], d);
        }
        float[][] p = products[b];
        for (int k = 1; k < d - 1; k++) {
            long need = (long) rowsInBlock * plan.productSize[k];
            if (p[k] == null || p[k].length < need) {
                p[k] = new float[(int) need];
            }
        }
        return p;
    }

    /** The forward filled every kept block. */
    void finishForward() {
        valid = true;
    }

    /** Whether a backward may read the kept products. */
    boolean valid() {
        return valid;
    }

    /** Block b's kept products for the backward, or null where the budget kept none. */
    float[][] backwardBlock(int b) {
        return b < blocks ? products[b] : null;
    }

    /** Blocks kept by the last forward (tests). */
    int blocks() {
        return blocks;
    }

    /** The cores or the batch changed: nothing kept may be used. */
    void drop() {
        valid = false;
    }
}
