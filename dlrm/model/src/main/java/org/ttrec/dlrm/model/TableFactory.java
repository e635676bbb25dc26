package org.ttrec.dlrm.model;

import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.config.TtConfig;
import org.ttrec.dlrm.layers.DenseEmbeddingBag;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.tt.TtInit;
import org.ttrec.engine.tt.TtShapes;
import org.ttrec.dlrm.tt.TtCacheConfig;
import org.ttrec.dlrm.tt.TtEmbeddingBag;

import java.util.ArrayList;
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
                        EmbeddingTableSpec.Kind.DENSE, null, null, 0, 0, 0));
                continue;
            }
            TtConfig.TableShape ts = tt.perTable.get(Integer.toString(t));
            TtShape shape;
            try {
                shape = shape(rows[t], m.embeddingDim, tt.cores, rank, ts, tt.memoryBudgetBytes > 0);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
            }
            int cache = TtCacheConfig.rowsOf(tt.cacheFraction, rows[t]);
            specs.add(new EmbeddingTableSpec(t, name, rows[t], m.embeddingDim, pooling, EmbeddingTableSpec.Kind.TT,
                    shape, tt.init, cache, tt.cacheWarmupSteps, tt.cacheRefreshSteps));
        }
        return specs;
    }

    private static TtShape shape(int rows, int dim, int cores, int rank, TtConfig.TableShape ts, boolean budgetRank) {
        int d = ts != null && ts.p != null ? ts.p.length : ts != null && ts.q != null ? ts.q.length
                : ts != null && ts.ranks != null ? ts.ranks.length - 1 : cores;
        int[] p = ts != null && ts.p != null ? ts.p : TtShapes.suggestRowFactors(rows, d);
        int[] q = ts != null && ts.q != null ? ts.q : TtShapes.suggestColumnFactors(dim, d);
        if (ts != null && ts.ranks != null) {
            return new TtShape(rows, dim, p, q, ts.ranks);
        }
        int r = ts != null && ts.rank > 0 && !budgetRank ? ts.rank : rank;
        return TtShape.uniformRank(rows, p, q, r);
    }

    /**
     * Creates the layer a spec describes.
     *
     * @param be   backend
     * @param spec the table
     * @param seed initialisation seed of this table
     * @return the layer
     */
    public static EmbeddingBagLayer create(ComputeBackend be, EmbeddingTableSpec spec, long seed) {
        return switch (spec.kind()) {
            case DENSE -> new DenseEmbeddingBag(be, spec.name(), spec.rows(), spec.dim(), spec.pooling(), seed);
            case TT -> new TtEmbeddingBag(spec.name(), be, spec.ttShape(), spec.pooling(), TtInit.parse(spec.ttInit()),
                    seed, spec.cacheRows() > 0
                            ? TtCacheConfig.rows(spec.cacheRows(), (int) Math.max(1, spec.cacheWarmupSteps()),
                                    (int) spec.cacheRefreshSteps())
                            : TtCacheConfig.OFF);
        };
    }
}
