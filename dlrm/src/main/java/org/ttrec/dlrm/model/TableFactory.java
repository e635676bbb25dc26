package org.ttrec.dlrm.model;

import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.config.TtConfig;
import org.ttrec.dlrm.layers.DenseEmbeddingBag;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.TtShape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one place that decides which tables are TT and creates every embedding layer. Planning
 * ({@link #plan}) allocates nothing, so memory can be checked before any table exists.
 */
public final class TableFactory {
    private TableFactory() {}

    /**
     * Decides each table's kind and shape.
     *
     * @param m               the model config (tableRows and maxIndRange give N)
     * @param denseParameters MLP parameters (for the memory-budget rank choice)
     * @param stateFactor     optimiser floats per parameter (for the memory-budget rank choice)
     * @return one spec per table
     */
    public static List<EmbeddingTableSpec> plan(ModelConfig m, long denseParameters, int stateFactor) {
        TtConfig tt = m.tt;
        int[] rows = m.effectiveRows();
        if (tt.memoryBudgetBytes > 0) {
            int best = 0;
            for (int lo = 1, hi = 1024; lo <= hi; ) {
                int mid = (lo + hi) >>> 1;
                long bytes = denseParameters * 4L * (1 + stateFactor);
                for (EmbeddingTableSpec s : planWithRank(m, rows, mid)) {
                    bytes += s.bytes(stateFactor);
                }
                if (bytes <= tt.memoryBudgetBytes) {
                    best = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            if (best == 0) {
                throw new IllegalArgumentException("model.tt.memoryBudgetBytes = " + tt.memoryBudgetBytes
                        + " is too small even with TT rank 1 (MLPs and dense tables alone need more)");
            }
            return planWithRank(m, rows, best);
        }
        return planWithRank(m, rows, tt.rank);
    }

    private static List<EmbeddingTableSpec> planWithRank(ModelConfig m, int[] rows, int rank) {
        TtConfig tt = m.tt;
        Pooling pooling = m.pooling.equals("mean") ? Pooling.MEAN : Pooling.SUM;
        List<EmbeddingTableSpec> specs = new ArrayList<>();
        for (int t = 0; t < rows.length; t++) {
            String name = "table " + t;
            if (!tt.isTt(t, rows[t])) {
                specs.add(new EmbeddingTableSpec(t, name, rows[t], m.embeddingDim, pooling,
                        EmbeddingTableSpec.Kind.DENSE, null, null, 0, 0));
                continue;
            }
            TtConfig.TableShape ts = tt.perTable.get(Integer.toString(t));
            TtShape shape;
            try {
                shape = shape(rows[t], m.embeddingDim, tt.cores, rank, ts, tt.memoryBudgetBytes > 0);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
            }
            int cache = (int) Math.min(rows[t], Math.round(tt.cacheFraction * rows[t]));
            specs.add(new EmbeddingTableSpec(t, name, rows[t], m.embeddingDim, pooling, EmbeddingTableSpec.Kind.TT,
                    shape, tt.init, cache, tt.cacheWarmupSteps));
        }
        return specs;
    }

    private static TtShape shape(int rows, int dim, int cores, int rank, TtConfig.TableShape ts, boolean budgetRank) {
        int d = ts != null && ts.p != null ? ts.p.length : ts != null && ts.q != null ? ts.q.length
                : ts != null && ts.ranks != null ? ts.ranks.length - 1 : cores;
        int[] p = ts != null && ts.p != null ? ts.p : suggestFactors(rows, d, true);
        int[] q = ts != null && ts.q != null ? ts.q : suggestFactors(dim, d, false);
        if (ts != null && ts.ranks != null) {
            return new TtShape(rows, dim, p, q, ts.ranks);
        }
        int r = ts != null && ts.rank > 0 && !budgetRank ? ts.rank : rank;
        return TtShape.uniformRank(rows, p, q, r);
    }

    /**
     * A balanced factorisation (spec 7): {@code d} factors, sorted ascending, whose product is
     * {@code n} exactly ({@code exact}) or the smallest balanced product >= n.
     *
     * @param n     the number to factor
     * @param d     the number of factors
     * @param roundUp whether the product may exceed n (row factors) or must equal it (columns)
     * @return the factors
     */
    public static int[] suggestFactors(int n, int d, boolean roundUp) {
        if (!roundUp) {
            // Exact: repeatedly give the smallest factor the smallest prime left, largest primes first.
            int[] f = new int[d];
            Arrays.fill(f, 1);
            List<Integer> primes = new ArrayList<>();
            int x = n;
            for (int pr = 2; (long) pr * pr <= x; pr++) {
                while (x % pr == 0) {
                    primes.add(pr);
                    x /= pr;
                }
            }
            if (x > 1) {
                primes.add(x);
            }
            for (int i = primes.size() - 1; i >= 0; i--) {
                int smallest = 0;
                for (int k = 1; k < d; k++) {
                    if (f[k] < f[smallest]) {
                        smallest = k;
                    }
                }
                f[smallest] *= primes.get(i);
            }
            Arrays.sort(f);
            return f;
        }
        int[] f = new int[d];
        long remaining = n;
        for (int k = 0; k < d; k++) {
            int left = d - k;
            int v = (int) Math.ceil(Math.pow(remaining, 1.0 / left) - 1e-9);
            while (left > 1 && Math.pow(v - 1, left) >= remaining) {
                v--;
            }
            f[k] = Math.max(1, v);
            remaining = (remaining + f[k] - 1) / f[k];
        }
        Arrays.sort(f);
        return f;
    }

    /**
     * Creates the layer a spec describes.
     *
     * @param be   backend
     * @param spec the table
     * @param seed initialisation seed of this table
     * @return the layer
     * @throws IllegalStateException for TT tables until the TT layer is merged
     */
    public static EmbeddingBagLayer create(ComputeBackend be, EmbeddingTableSpec spec, long seed) {
        return switch (spec.kind()) {
            case DENSE -> new DenseEmbeddingBag(be, spec.name(), spec.rows(), spec.dim(), spec.pooling(), seed);
            case TT -> throw new IllegalStateException("TT tables arrive with the TT layer (" + spec.name()
                    + " has " + spec.rows() + " rows > the TT threshold; pass --tt-threshold -1 for all-dense tables)");
        };
    }
}
