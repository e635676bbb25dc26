package org.ttrec.engine.cpu;

import org.ttrec.engine.TtShape;

import java.util.Arrays;

/**
 * The lookup plan of one batch (docs/tt-layout.md): the table's per-level sizes, the lookups
 * sorted by row, the distinct rows, and how many partitions the batch is split into.
 *
 * <p>Lookups are radix-sorted by row, with the row's first two digits swapped (key (i_1, i_0,
 * i_2, ...), then position), so that every distinct row is computed once, rows sharing a prefix
 * (i_0..i_k), k >= 1, are adjacent, and rows using the same middle-core slice run back to back
 * while that slice is in L1. The plan is made once per batch and read by the forward and the
 * backward on it.
 */
final class TtBatchPlan {
    /** Bits per pass of the radix sort. */
    private static final int RADIX_BITS = 12;

    private final int threads;
    /** Distinct rows per partition below which a batch uses fewer partitions than threads. */
    private final int minRowsPerPart;

    // ---- the table, per chain level k (arrays regrown when a table with more cores comes)
    TtShape shape;
    /** Cores of the table, d: one chain level each. */
    int levels;
    /** Floats of P_k, the product after level k: Q_k * R_{k+1}. */
    int[] productSize = new int[0];
    /** Columns of a slice of core k: q_k * R_{k+1}. */
    int[] sliceCols = new int[0];
    /** R_k, with R_d = 1 (d + 1 entries). */
    int[] rank = new int[0];
    /** Rows of P_{k-1}, the product level k multiplies: Q_{k-1} = q_0 ... q_{k-1}, 1 at level 0. */
    int[] inRows = new int[0];
    /** Slices of core k have fewer columns than a vector: products run along the rank instead. */
    boolean[] narrow = new boolean[0];
    private int[] radix = new int[0];
    /** 1 / p_k, for {@link #digits}. */
    private double[] radixInv = new double[0];
    /** Rows are sorted by (i_1, i_0, i_2, ...): each level-1 slice is used in one run of rows. */
    boolean swapped;

    // ---- the batch
    /** The caller's offsets (read again by the forward and the backward) and bag count. */
    int[] offsets;
    int bags;
    /** Lookups in the batch: offsets[bags] - offsets[0]. */
    int lookups;
    /**
     * The lookups in row order: sort key in the high 32 bits, the lookup's position relative to
     * offsets[0] in the low 32 bits.
     */
    long[] sortedLookups = new long[0];
    /** Distinct rows, in sort order. */
    int[] distinctRow = new int[0];
    /** Index in {@link #sortedLookups} of distinct row u's first lookup (distinct + 1 entries). */
    int[] firstLookupOf = new int[0];
    /** Relative lookup position -> distinct row. */
    int[] distinctOf = new int[0];
    /** Relative lookup position -> bag, once {@link #listBags} ran. */
    int[] bagOf = new int[0];
    private boolean bagsListed;
    int distinct;
    /**
     * Partitions (threads used) for this batch: at most the threads, a function of the distinct
     * rows alone, so a forward and a backward on the batch split it the same way (which keeping
     * the forward's products relies on) and results are bit-identical for the same thread count.
     */
    int parts = 1;

    private long[] sortTmp = new long[0];
    private final int[] radixCount = new int[(1 << RADIX_BITS) + 1];

    TtBatchPlan(int threads, int minRowsPerPart) {
        this.threads = threads;
        this.minRowsPerPart = Math.max(1, minRowsPerPart);
    }

    /** Makes the plan of a batch; see {@link VectorTtKernels#prepare}. */
    void prepare(TtShape s, int[] indices, int[] offsets, int bags) {
        setShape(s);
        this.offsets = offsets;
        this.bags = bags;
        int o0 = offsets[0];
        int n = offsets[bags] - o0;
        lookups = n;
        if (sortedLookups.length < n) {
            sortedLookups = new long[n];
            sortTmp = new long[Math.max(n, sortTmp.length)];
            distinctOf = new int[n];
            bagOf = new int[n];
        }
        sortRows(s, indices, o0, n);
        bagsListed = false;
        parts = (int) Math.max(1, Math.min(threads, distinct / minRowsPerPart));
    }

    private void setShape(TtShape s) {
        shape = s;
        int d = s.cores();
        levels = d;
        if (productSize.length < d) {
            productSize = new int[d];
            sliceCols = new int[d];
            rank = new int[d + 1];
            inRows = new int[d];
            narrow = new boolean[d];
            radix = new int[d];
            radixInv = new double[d];
        }
        int rows = 1;
        for (int k = 0; k < d; k++) {
            inRows[k] = rows;
            rows *= s.q(k);
            rank[k] = s.rank(k);
            sliceCols[k] = s.q(k) * s.rank(k + 1);
            productSize[k] = rows * s.rank(k + 1);
            narrow[k] = !VectorWidth.SCALAR && sliceCols[k] < VectorWidth.LANES;
            radix[k] = s.p(k);
            radixInv[k] = 1.0 / s.p(k);
        }
        rank[d] = 1;
        // with two cores, (i_1, i_0) order would split the level-0 groups and there is no middle
        // slice to keep in L1; the swapped key must stay below 2^31, as rows do
        swapped = d >= 3 && prodP(s) < Integer.MAX_VALUE;
    }

    /** Sorts the batch's lookups by row (in the swapped digit order), then lists the distinct rows. */
    private void sortRows(TtShape s, int[] indices, int o0, int n) {
        int p0 = s.p(0), p1 = s.p(1);
        long tail = swapped ? prodP(s) / ((long) p0 * p1) : 1;
        double tailInv = 1.0 / tail, p1Inv = 1.0 / p1;
        long maxKey = 0;
        for (int j = 0; j < n; j++) {
            int row = indices[o0 + j];
            long key = row;
            if (swapped) {
                long lead = quotient(row, tail, tailInv), rest = row - lead * tail;
                long i0 = quotient(lead, p1, p1Inv), i1 = lead - i0 * p1;
                key = (i1 * p0 + i0) * tail + rest;
            }
            sortedLookups[j] = (key << 32) | j;
            maxKey = Math.max(maxKey, key);
        }
        radixSort(sortedLookups, 0, n, maxKey);
        if (distinctRow.length < n + 1) {
            distinctRow = new int[n + 1];
            firstLookupOf = new int[n + 1];
        }
        int u = -1;
        int prev = -1;
        for (int t = 0; t < n; t++) {
            int row = indices[o0 + (int) sortedLookups[t]];
            if (row != prev) {
                u++;
                distinctRow[u] = row;
                firstLookupOf[u] = t;
                prev = row;
            }
            distinctOf[(int) sortedLookups[t]] = u;
        }
        distinct = u + 1;
        firstLookupOf[distinct] = n;
    }

    /** Lists each lookup's bag ({@link #bagOf}) once per plan: the backward needs it, the forward does not. */
    void listBags() {
        if (bagsListed) {
            return;
        }
        int o0 = offsets[0];
        for (int b = 0; b < bags; b++) {
            for (int j = offsets[b]; j < offsets[b + 1]; j++) {
                bagOf[j - o0] = b;
            }
        }
        bagsListed = true;
    }

    /**
     * Mixed-radix digits of a row, first digit most significant, into out[0, d). Integer division
     * by a runtime divisor costs tens of cycles; a multiply by the double reciprocal, corrected by
     * at most one step, gives the exact quotient for any int row.
     */
    void digits(int row, int[] out) {
        long r = row;
        for (int k = levels - 1; k > 0; k--) {
            long pk = radix[k];
            long quo = (long) (r * radixInv[k]);
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
     * Sorts {@code a[from, from + n)} by the high 32 bits (a non-negative key <= maxKey), stably;
     * callers put ascending payloads in the low 32 bits, so the result equals a plain sort of the
     * longs. LSD radix sort in passes of up to {@value #RADIX_BITS} bits: O(n), versus
     * O(n log n) comparisons.
     */
    void radixSort(long[] a, int from, int n, long maxKey) {
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

    /** prod(p), capped where it would overflow the sort key. */
    private static long prodP(TtShape s) {
        long prod = 1;
        for (int k = 0; k < s.cores(); k++) {
            prod = Math.min(prod * s.p(k), Long.MAX_VALUE / Integer.MAX_VALUE);
        }
        return prod;
    }
}
