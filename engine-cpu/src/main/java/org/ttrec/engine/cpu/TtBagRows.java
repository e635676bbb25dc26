package org.ttrec.engine.cpu;

import org.ttrec.engine.Pooling;

import java.util.Arrays;

/**
 * One partition's moves between bags and distinct rows (docs/tt-layout.md, EmbeddingBag): the forward pools row
 * values into the bags' outputs, the backward sums the bags' output gradients into row gradients.
 */
final class TtBagRows {
    private final TtBatchPlan plan;
    private final TtScratch scratch;
    private final TtPaths paths;
    private final TtCall call;

    TtBagRows(TtBatchPlan plan, TtScratch scratch, TtPaths paths, TtCall call) {
        this.plan = plan;
        this.scratch = scratch;
        this.paths = paths;
        this.call = call;
    }

    /** out[b] (+)= pool_j weight_j * row(j) for bags [b0, b1). */
    void pool(int b0, int b1) {
        int dim = plan.shape.dim();
        int[] off = plan.offsets;
        int o0 = off[0];
        float[] out = call.out, weights = call.weights, rows = scratch.rowBuffer;
        for (int b = b0; b < b1; b++) {
            int ob = call.outOff + b * call.ldOut;
            int start = off[b], end = off[b + 1];
            if (paths.directOut && end - start == 1 && scratch.directRowAt[plan.distinctOf[start - o0]] >= 0) {
                continue; // the chain wrote this bag's one row here
            }
            if (!call.accumulate) {
                Arrays.fill(out, ob, ob + dim, 0f);
            }
            for (int j = start; j < end; j++) {
                float s = weights == null ? 1f : weights[j];
                if (call.pooling == Pooling.MEAN) {
                    s /= (end - start);
                }
                TtMicroKernels.axpy(dim, s, rows, plan.distinctOf[j - o0] * dim, out, ob);
            }
        }
    }

    /**
     * Row gradients of distinct rows [u0, u1): the sum over a row's lookups (in lookup order) of
     * scale * gradOut[bag], or, for a row whose one lookup has scale 1 when the paths allow, a
     * pointer to that gradOut row ({@link TtScratch#directRowAt}).
     */
    void rowGrads(int u0, int u1) {
        int dim = plan.shape.dim();
        int[] off = plan.offsets;
        int o0 = off[0];
        int[] firstLookup = plan.firstLookupOf, bagOf = plan.bagOf;
        long[] sorted = plan.sortedLookups;
        float[] weights = call.weights, gradOut = call.gradOut, rows = scratch.rowBuffer;
        boolean mean = call.pooling == Pooling.MEAN;
        for (int u = u0; u < u1; u++) {
            int dst = u * dim;
            if (paths.directGrad) {
                scratch.directRowAt[u] = -1;
                if (firstLookup[u + 1] - firstLookup[u] == 1) {
                    int j = (int) sorted[firstLookup[u]];
                    int b = bagOf[j];
                    float s = weights == null ? 1f : weights[o0 + j];
                    if (mean) {
                        s /= (off[b + 1] - off[b]);
                    }
                    if (s == 1f) { // the row gradient would be this gradOut row, copied
                        scratch.directRowAt[u] = call.gradOff + b * call.ldGrad;
                        continue;
                    }
                }
            }
            Arrays.fill(rows, dst, dst + dim, 0f);
            for (int t = firstLookup[u]; t < firstLookup[u + 1]; t++) {
                int j = (int) sorted[t];
                int b = bagOf[j];
                float s = weights == null ? 1f : weights[o0 + j];
                if (mean) {
                    s /= (off[b + 1] - off[b]);
                }
                TtMicroKernels.axpy(dim, s, gradOut, call.gradOff + b * call.ldGrad, rows, dst);
            }
        }
    }
}
