package org.ttrec.engine;

import java.util.Arrays;

/**
 * The shape of one Tensor-Train compressed table (docs/tt-layout.md, Layout): N rows of dimension D stored
 * as d >= 2 cores. Core k (0-based) holds, for each row digit i_k in [0, p_k), an
 * R_k x (q_k * R_{k+1}) row-major matrix, i.e. a (p_k, R_k, q_k, R_{k+1}) tensor; R_0 = R_d = 1.
 * Row i maps to digits in mixed radix p with the first digit most significant; columns map the
 * same way with q.
 *
 * @param rows  N, the number of rows (lookups must lie in [0, N))
 * @param dim   D, the embedding dimension, equal to prod(q)
 * @param p     row factors, prod(p) >= N
 * @param q     column factors, prod(q) == D
 * @param ranks d+1 ranks, ranks[0] == ranks[d] == 1
 */
public record TtShape(int rows, int dim, int[] p, int[] q, int[] ranks) {

    /** Validates and copies the arrays. */
    public TtShape {
        if (p == null || q == null || ranks == null) {
            throw new IllegalArgumentException("TT shape needs p, q and ranks");
        }
        p = p.clone();
        q = q.clone();
        ranks = ranks.clone();
        int d = p.length;
        if (d < 2) {
            throw new IllegalArgumentException("TT shape needs d >= 2 cores, got p=" + Arrays.toString(p));
        }
        if (q.length != d) {
            throw new IllegalArgumentException("TT shape: p has " + d + " factors but q has " + q.length);
        }
        if (ranks.length != d + 1) {
            throw new IllegalArgumentException("TT shape: need d+1=" + (d + 1) + " ranks (R_0..R_d), got "
                    + Arrays.toString(ranks));
        }
        if (rows < 1) {
            throw new IllegalArgumentException("TT shape: rows N must be >= 1, got " + rows);
        }
        if (dim < 1) {
            throw new IllegalArgumentException("TT shape: dim D must be >= 1, got " + dim);
        }
        long prodP = 1, prodQ = 1;
        for (int k = 0; k < d; k++) {
            if (p[k] < 1) {
                throw new IllegalArgumentException("TT shape: p[" + k + "] must be >= 1, got " + p[k]);
            }
            if (q[k] < 1) {
                throw new IllegalArgumentException("TT shape: q[" + k + "] must be >= 1, got " + q[k]);
            }
            prodP = Math.min(prodP * p[k], Long.MAX_VALUE / Integer.MAX_VALUE);
            prodQ *= q[k];
        }
        if (prodP < rows) {
            throw new IllegalArgumentException("TT shape: prod(p)=" + prodP + " < N=" + rows + " for p=" + Arrays.toString(p));
        }
        if (prodQ != dim) {
            throw new IllegalArgumentException("TT shape: prod(q)=" + prodQ + " != D=" + dim + " for q=" + Arrays.toString(q));
        }
        for (int k = 0; k <= d; k++) {
            if (ranks[k] < 1) {
                throw new IllegalArgumentException("TT shape: rank R_" + k + " must be >= 1, got " + ranks[k]);
            }
        }
        if (ranks[0] != 1 || ranks[d] != 1) {
            throw new IllegalArgumentException("TT shape: R_0 and R_d must be 1, got " + Arrays.toString(ranks));
        }
        for (int k = 0; k < d; k++) {
            long size = (long) p[k] * ranks[k] * q[k] * ranks[k + 1];
            if (size > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("TT shape: core " + k + " has " + size + " parameters, more than one buffer holds");
            }
        }
    }

    /**
     * A shape with the same rank R between every pair of cores.
     *
     * @param rows N
     * @param p    row factors
     * @param q    column factors (D = prod(q))
     * @param rank the inner rank R
     * @return the shape
     */
    public static TtShape uniformRank(int rows, int[] p, int[] q, int rank) {
        int[] r = new int[p.length + 1];
        Arrays.fill(r, rank);
        r[0] = 1;
        r[p.length] = 1;
        int dim = 1;
        for (int x : q) {
            dim = Math.multiplyExact(dim, x);
        }
        return new TtShape(rows, dim, p, q, r);
    }

    /** @return the number of cores d */
    public int cores() {
        return p.length;
    }

    @Override
    public int[] p() {
        return p.clone();
    }

    @Override
    public int[] q() {
        return q.clone();
    }

    @Override
    public int[] ranks() {
        return ranks.clone();
    }

    /** @param k core index @return p_k */
    public int p(int k) {
        return p[k];
    }

    /** @param k core index @return q_k */
    public int q(int k) {
        return q[k];
    }

    /** @param k rank index in [0, d] @return R_k */
    public int rank(int k) {
        return ranks[k];
    }

    /** @param k core index @return floats in one slice of core k: R_k * q_k * R_{k+1} */
    public int sliceSize(int k) {
        return ranks[k] * q[k] * ranks[k + 1];
    }

    /** @param k core index @return floats in core k: p_k * R_k * q_k * R_{k+1} */
    public int coreSize(int k) {
        return p[k] * sliceSize(k);
    }

    /** @return the number of TT parameters, summed over the cores */
    public long parameterCount() {
        long s = 0;
        for (int k = 0; k < p.length; k++) {
            s += coreSize(k);
        }
        return s;
    }

    /** @return N * D / parameterCount() */
    public double compressionRatio() {
        return (double) rows * dim / parameterCount();
    }

    /**
     * Splits a row index into its digits, first digit most significant.
     *
     * @param row    row index in [0, N)
     * @param digits output, length >= d
     */
    public void digits(int row, int[] digits) {
        int r = row;
        for (int k = p.length - 1; k >= 0; k--) {
            digits[k] = r % p[k];
            r /= p[k];
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TtShape s && s.rows == rows && s.dim == dim && Arrays.equals(s.p, p)
                && Arrays.equals(s.q, q) && Arrays.equals(s.ranks, ranks);
    }

    @Override
    public int hashCode() {
        return ((rows * 31 + dim) * 31 + Arrays.hashCode(p)) * 31 + Arrays.hashCode(q) * 17 + Arrays.hashCode(ranks);
    }

    @Override
    public String toString() {
        return "TtShape[N=" + rows + ", D=" + dim + ", p=" + Arrays.toString(p) + ", q=" + Arrays.toString(q)
                + ", ranks=" + Arrays.toString(ranks) + "]";
    }
}
