package org.ttrec.engine.cpu;

import java.util.Arrays;

/**
 * Scratch of one kernel instance that lives through a whole forward or backward call: the
 * distinct rows' values or gradients, where single-lookup rows live outside them, the dense
 * per-core gradient with its touched slices, and the call stamp. Arrays grow once and are reused:
 * steady-state calls allocate nothing.
 */
final class TtScratch {
    /** Distinct rows x D: row values (forward) or row gradients (backward). */
    float[] rowBuffer = new float[0];
    /**
     * Per distinct row, where its value or gradient lives instead of {@link #rowBuffer}, or -1.
     * Forward: the output row of the one bag that looks it up once, alone (the chain writes the
     * value there and pooling skips the bag). Backward: the gradOut row of its one lookup at
     * scale 1 (the chain and the last level's slice gradient read it there; no row gradient is
     * formed). Batches of bags of one lookup, the common case for Criteo's categorical features,
     * skip the copy through the row buffer both ways.
     */
    int[] directRowAt = new int[0];
    /** Per core: the dense gradient, summed over the call's blocks (zero between calls). */
    float[][] denseGrad = new float[0][];
    /** Per core and digit: the call stamp of the last call that listed the slice as touched. */
    int[][] touchedStamp = new int[0][];
    /** Per core: the digits of the slices touched in this call ({@link #touchedCount} of them). */
    int[][] touchedList = new int[0][];
    int[] touchedCount = new int[0];
    /** Stamp of the running call: stamped per-slice marks from earlier calls do not match it. */
    int call;

    /**
     * Starts a call: a new stamp. When the stamps would wrap, clears the touched stamps and
     * returns true so the caller clears the other stamps of the old calls.
     */
    boolean nextCall() {
        call++;
        if (call != Integer.MAX_VALUE) {
            return false;
        }
        call = 1;
        for (int[] t : touchedStamp) {
            Arrays.fill(t, 0);
        }
        return true;
    }

    void ensureRowBuffer(TtBatchPlan plan) {
        int distinct = plan.distinct;
        if (directRowAt.length < distinct) {
            directRowAt = new int[Math.max(distinct, directRowAt.length + (directRowAt.length >> 1))];
        }
        long need = (long) distinct * plan.shape.dim();
        if (rowBuffer.length < need) {
            rowBuffer = new float[(int) Math.min(Integer.MAX_VALUE - 16,
                    Math.max(need, rowBuffer.length + (rowBuffer.length >> 1)))];
        }
    }

    /** Grows the dense gradient and the touched lists to the plan's table; no slice touched yet. */
    void ensureDenseGrad(TtBatchPlan plan) {
        int d = plan.levels;
        if (denseGrad.length < d) {
            denseGrad = Arrays.copyOf(denseGrad, d);
            touchedStamp = Arrays.copyOf(touchedStamp, d);
            touchedList = Arrays.copyOf(touchedList, d);
            touchedCount = new int[d];
        }
        for (int k = 0; k < d; k++) {
            int size = plan.shape.coreSize(k), p = plan.shape.p(k);
            if (denseGrad[k] == null || denseGrad[k].length < size) {
                denseGrad[k] = new float[size];
            }
            if (touchedStamp[k] == null || touchedStamp[k].length < p) {
                touchedStamp[k] = new int[p];
                touchedList[k] = new int[p];
            }
            touchedCount[k] = 0;
        }
    }

    /** Lists slice (k, digit) as touched in this call, once. */
    void touch(int k, int digit) {
        if (touchedStamp[k][digit] != call) {
            touchedStamp[k][digit] = call;
            touchedList[k][touchedCount[k]++] = digit;
        }
    }

    /**
     * Forward: points each distinct row that a bag of one lookup uses alone at that bag's output
     * row (see {@link #directRowAt}); returns whether any row qualified.
     */
    boolean mapDirectOutputs(TtBatchPlan plan, int outOff, int ldOut) {
        boolean any = false;
        Arrays.fill(directRowAt, 0, plan.distinct, -1);
        int[] offsets = plan.offsets;
        int o0 = offsets[0];
        for (int b = 0; b < plan.bags; b++) {
            if (offsets[b + 1] - offsets[b] == 1) {
                int u = plan.distinctOf[offsets[b] - o0];
                if (plan.firstLookupOf[u + 1] - plan.firstLookupOf[u] == 1) {
                    directRowAt[u] = outOff + b * ldOut;
                    any = true;
                }
            }
        }
        return any;
    }
}
