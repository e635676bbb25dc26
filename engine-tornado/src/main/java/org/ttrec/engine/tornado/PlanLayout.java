package org.ttrec.engine.tornado;

/**
 * Where a batch's sort sits in a lookup plan's int region ({@link HostPlan}): sections of
 * {@code stride} ints (stride = capacity + 1, so a CSR start list of capacity + 1 entries fits),
 * section k at {@code k * stride}. Kernels get the plan's heap offset and stride at run time.
 *
 * <p>Distinct rows are numbered in ascending row order; lookups of one row keep their batch
 * order (stable sort), the order the reference sums a row's gradient in.
 */
final class PlanLayout {
    private PlanLayout() {}

    // ---- every table
    /** bags + 1 CSR offsets, starting at 0 */
    static final int OFF = 0;
    /** row of each lookup, batch order */
    static final int IDX = 1;
    /** distinct-row number of each lookup */
    static final int LROW = 2;
    /** row of each distinct row */
    static final int UROW = 3;
    /** distinct rows + 1 CSR over the row-sorted lookups */
    static final int RLK = 4;
    /** bag of each lookup, row-sorted */
    static final int LKBAG = 5;
    /** batch position of each lookup, row-sorted */
    static final int LKPERM = 6;
    /** sections of an uncompressed table's plan */
    static final int DENSE = 7;

    // ---- d = 3 TT tables (the fast kernels): rows grouped by prefix (i0, i1)
    /** last digit i2 of each distinct row */
    static final int UI2 = 7;
    /** prefix number of each distinct row (rows of a prefix are consecutive) */
    static final int UPREF = 8;
    /** digits i0, i1 of each prefix (prefixes ascending) */
    static final int PI0 = 9;
    static final int PI1 = 10;
    /** prefixes + 1 CSR: distinct rows of prefix p */
    static final int PRS = 11;
    /** distinct rows stably grouped by i2, the touched i2 digits and their CSR into R2BY */
    static final int R2BY = 12;
    static final int T2 = 13;
    static final int T2S = 14;
    /** prefixes stably grouped by i1, the touched i1 digits and their CSR into P1BY */
    static final int P1BY = 15;
    static final int T1 = 16;
    static final int T1S = 17;
    /** touched i0 digits and their CSR into the (consecutive) prefixes */
    static final int T0 = 18;
    static final int T0S = 19;
    /** sections of a d = 3 plan */
    static final int FAST = 20;

    // ---- any d (the generic kernels)
    /** digit k of each distinct row */
    static int dig(int k) {
        return DENSE + k;
    }

    /** distinct rows stably grouped by digit k */
    static int by(int d, int k) {
        return DENSE + d + 3 * k;
    }

    /** touched digits of core k */
    static int touched(int d, int k) {
        return DENSE + d + 3 * k + 1;
    }

    /** touched digits + 1 CSR into by(d, k) */
    static int starts(int d, int k) {
        return DENSE + d + 3 * k + 2;
    }

    /** @return sections of a generic plan for d cores */
    static int generic(int d) {
        return DENSE + 4 * d;
    }
}
