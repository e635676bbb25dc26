package org.ttrec.engine.tt;

import org.ttrec.engine.TtShape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shape selection for TT tables (docs/tt-layout.md, Shapes): balanced factorisations of N and D, and ranks
 * chosen from a memory budget.
 */
public final class TtShapes {
    private TtShapes() {}

    /**
     * Factors {@code n} exactly into {@code d} factors, sorted ascending, with the largest
     * entropy of the factors' shares of log n (the most balanced split). Factors of 1 are used
     * only when n < 2^d.
     *
     * @param n a number >= 1
     * @param d number of factors >= 1
     * @return the factors, or null if n cannot be split into d factors >= 2 (and n >= 2^d)
     */
    public static int[] balancedFactors(long n, int d) {
        if (n < 1 || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot factor " + n + ": must lie in [1, " + Integer.MAX_VALUE + "]");
        }
        if (d < 1) {
            throw new IllegalArgumentException("number of factors must be >= 1, got " + d);
        }
        long[] divs = divisors(n);
        int min = n >= (1L << Math.min(d, 62)) ? 2 : 1;
        Search s = new Search(d, Math.log((double) n));
        s.run(n, d, min, new int[d], 0, divs);
        return s.best;
    }

    /**
     * The suggested row factors p for N: N itself and N rounded up to multiples of 10, 100, ...
     * are factored with {@link #balancedFactors}; the most balanced wins (ties: the smaller
     * number). Example: 10,131,227 with d = 3 gives (200, 220, 250) from 11,000,000.
     *
     * @param rows N >= 1
     * @param d    cores >= 2
     * @return p, sorted ascending, with prod(p) >= N
     */
    public static int[] suggestRowFactors(int rows, int d) {
        if (rows < 1) {
            throw new IllegalArgumentException("rows N must be >= 1, got " + rows);
        }
        if (d < 2) {
            throw new IllegalArgumentException("TT needs d >= 2 cores, got " + d);
        }
        int[] best = null;
        double bestH = -1;
        int digits = Integer.toString(rows).length();
        long pow = 1;
        for (int i = 0; i < digits; i++, pow *= 10) {
            long cand = (rows + pow - 1) / pow * pow;
            if (cand > Integer.MAX_VALUE) {
                break;
            }
            int[] f = balancedFactors(cand, d);
            if (f == null) {
                continue;
            }
            double h = entropy(f, Math.log((double) cand));
            if (h > bestH + 1e-12) {
                bestH = h;
                best = f;
            }
        }
        // N (and its round-ups) prime-like: take the next number that splits into d factors.
        for (long cand = rows; best == null && cand <= Integer.MAX_VALUE; cand++) {
            best = balancedFactors(cand, d);
        }
        return best;
    }

    /**
     * The suggested column factors q for D: the exact balanced factorisation (prod(q) = D).
     * Examples: 16 -> (2, 2, 4), 64 -> (4, 4, 4).
     */
    public static int[] suggestColumnFactors(int dim, int d) {
        if (dim < 1) {
            throw new IllegalArgumentException("dim D must be >= 1, got " + dim);
        }
        int[] f = balancedFactors(dim, d);
        if (f == null) {
            throw new IllegalArgumentException("D=" + dim + " cannot be factored into " + d + " factors");
        }
        return f;
    }

    /**
     * Suggested p and q for an N x D table with d cores.
     *
     * @return {p, q}
     */
    public static int[][] suggestShapes(int rows, int dim, int d) {
        return new int[][] {suggestRowFactors(rows, d), suggestColumnFactors(dim, d)};
    }

    /**
     * A full shape with suggested factors and one rank.
     */
    public static TtShape suggest(int rows, int dim, int d, int rank) {
        int[][] pq = suggestShapes(rows, dim, d);
        return TtShape.uniformRank(rows, pq[0], pq[1], rank);
    }

    /**
     * The largest uniform rank R (same for every table) whose parameters, at
     * {@code bytesPerParam} bytes each, fit in {@code budgetBytes} together with
     * {@code fixedBytes} (MLPs, uncompressed tables, caches).
     *
     * @param tables        the TT tables' factors: each entry is {p, q}
     * @param budgetBytes   bytes for the whole model
     * @param fixedBytes    bytes the model holds outside the TT cores
     * @param bytesPerParam bytes per TT parameter: 4 for fp32 weights, 8 with Adagrad state
     * @param maxRank       largest rank to consider
     * @return R in [1, maxRank]
     * @throws IllegalArgumentException if even R = 1 does not fit
     */
    public static int rankForBudget(List<int[][]> tables, long budgetBytes, long fixedBytes, int bytesPerParam,
                                    int maxRank) {
        if (bytesPerParam < 1 || maxRank < 1) {
            throw new IllegalArgumentException("bytesPerParam and maxRank must be >= 1");
        }
        int best = 0;
        for (int r = 1; r <= maxRank; r++) {
            if (fixedBytes + bytesPerParam * params(tables, r) <= budgetBytes) {
                best = r;
            } else {
                break; // parameters grow with the rank
            }
        }
        if (best == 0) {
            throw new IllegalArgumentException("memory budget of " + budgetBytes + " bytes is too small: rank 1 needs "
                    + (fixedBytes + bytesPerParam * params(tables, 1)) + " bytes");
        }
        return best;
    }

    /** One-table form of {@link #rankForBudget(List, long, long, int, int)}, fp32 weights only. */
    public static int rankForBudget(int[] p, int[] q, long budgetBytes) {
        return rankForBudget(List.<int[][]>of(new int[][] {p, q}), budgetBytes, 0, 4, 4096);
    }

    /** @return TT parameters of the tables with a uniform rank r */
    public static long params(List<int[][]> tables, int r) {
        long s = 0;
        for (int[][] t : tables) {
            int[] p = t[0], q = t[1];
            int d = p.length;
            for (int k = 0; k < d; k++) {
                long rin = k == 0 ? 1 : r, rout = k == d - 1 ? 1 : r;
                s += (long) p[k] * rin * q[k] * rout;
            }
        }
        return s;
    }

    static double entropy(int[] f, double logN) {
        if (logN <= 0) {
            return 0;
        }
        double h = 0;
        for (int x : f) {
            double share = Math.log(x) / logN;
            if (share > 0) {
                h -= share * Math.log(share);
            }
        }
        return h;
    }

    private static long[] divisors(long n) {
        List<Long> small = new ArrayList<>(), large = new ArrayList<>();
        for (long i = 1; i * i <= n; i++) {
            if (n % i == 0) {
                small.add(i);
                if (i * i != n) {
                    large.add(n / i);
                }
            }
        }
        long[] out = new long[small.size() + large.size()];
        int j = 0;
        for (long v : small) {
            out[j++] = v;
        }
        for (int i = large.size() - 1; i >= 0; i--) {
            out[j++] = large.get(i);
        }
        return out;
    }

    /** Exhaustive search over non-decreasing factor lists. */
    private static final class Search {
        final double logN;
        int[] best;
        double bestH = -1;

        Search(int d, double logN) {
            this.logN = logN;
        }

        void run(long rem, int k, long min, int[] acc, int pos, long[] divs) {
            if (k == 1) {
                if (rem >= min) {
                    acc[pos] = (int) rem;
                    double h = entropy(acc, logN);
                    if (h > bestH + 1e-12) {
                        bestH = h;
                        best = acc.clone();
                    }
                }
                return;
            }
            for (long x : divs) {
                if (x < min || rem % x != 0) {
                    continue;
                }
                if (Math.pow(x, k) > rem * (1 + 1e-9)) {
                    break; // the remaining k-1 factors would have to be smaller than x
                }
                acc[pos] = (int) x;
                run(rem / x, k - 1, x, acc, pos + 1, divs);
            }
        }
    }

    /** @return a readable form of factors, e.g. "(200, 220, 250)" */
    public static String format(int[] f) {
        return Arrays.toString(f).replace('[', '(').replace(']', ')');
    }
}
