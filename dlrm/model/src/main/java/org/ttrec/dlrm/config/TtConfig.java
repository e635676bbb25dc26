package org.ttrec.dlrm.config;

import com.fasterxml.jackson.annotation.JsonMerge;
import com.fasterxml.jackson.annotation.OptBoolean;

import java.util.Map;
import java.util.TreeMap;

/**
 * Which embedding tables are Tensor-Train compressed, and their shapes.
 * A table is TT when it is listed in {@link #tables}, or, when that list is null, when it has
 * more than {@link #threshold} rows. Its shape comes from {@link #perTable} if given there,
 * else it is suggested from {@link #cores} and {@link #rank}; with {@link #memoryBudgetBytes}
 * set, the uniform rank is instead the largest that keeps the whole model within the budget.
 */
public final class TtConfig {
    /** Tables with more rows than this are TT (negative: none by threshold). */
    public long threshold = 100_000;
    /** Explicit list of TT table indices; overrides {@link #threshold} when not null. */
    @JsonMerge(OptBoolean.FALSE)
    public int[] tables = null;
    /** Number of cores d of suggested shapes. */
    public int cores = 3;
    /** Uniform inner rank R of suggested shapes. */
    public int rank = 32;
    /** Per-table shapes, keyed by table index ("2"). */
    public Map<String, TableShape> perTable = new TreeMap<>();
    /** If > 0: pick the uniform rank so that model parameters + optimiser state fit in this many bytes. */
    public long memoryBudgetBytes = 0;
    /** Core initialisation: "sampled-gaussian" (docs/tt-init.md), "uniform" or "normal:STD". */
    public String init = "sampled-gaussian";
    /** Hot-row cache rows as a fraction of N (0 = no cache). */
    public double cacheFraction = 0;
    /** Training steps counted before the cache is first populated (0 = populate after the first step). */
    public long cacheWarmupSteps = 0;
    /** Steps between cache refreshes after the first populate (0 = never refresh). */
    public long cacheRefreshSteps = 0;
    /**
     * A further multiplier on the TT cores' learning rate, on top of the rate {@link #optimizer}'s
     * rule derives from each table's shape and initialisation (TtCoreRate); cached rows and
     * uncompressed tables keep the plain rate. 1 is the measured default.
     */
    public double lrScale = 1;
    /**
     * The cores' update rule: "adagrad" (default), "rowwise-adagrad" or "sgd", at the rate
     * TtCoreRate derives from the shape and initialisation; cached rows and uncompressed tables
     * keep train.optimizer. "same" is the rule of runs made before this field existed (the cores
     * follow train.optimizer at its plain rate); checkpoints without the field resume with it.
     */
    public String optimizer = "adagrad";

    /** An explicit TT shape for one table. */
    public static final class TableShape {
        /** Row factors (prod >= N); null: suggested. */
        @JsonMerge(OptBoolean.FALSE)
        public int[] p;
        /** Column factors (prod == D); null: suggested. */
        @JsonMerge(OptBoolean.FALSE)
        public int[] q;
        /** Ranks R_0..R_d with R_0 = R_d = 1; null: uniform {@link TtConfig#rank}. */
        @JsonMerge(OptBoolean.FALSE)
        public int[] ranks;
        /** Uniform inner rank if {@link #ranks} is null (0: the global rank). */
        public int rank;
    }

    /**
     * @param tableCount number of tables
     * @throws IllegalArgumentException naming the wrong field
     */
    public void validate(int tableCount) {
        if (cores < 2) {
            throw new IllegalArgumentException("model.tt.cores must be >= 2, got " + cores);
        }
        if (rank < 1) {
            throw new IllegalArgumentException("model.tt.rank must be >= 1, got " + rank);
        }
        if (tables != null) {
            for (int t : tables) {
                if (t < 0 || t >= tableCount) {
                    throw new IllegalArgumentException("model.tt.tables: table " + t + " does not exist (there are "
                            + tableCount + ")");
                }
            }
        }
        for (String k : perTable.keySet()) {
            int t;
            try {
                t = Integer.parseInt(k);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("model.tt.perTable key '" + k + "' is not a table index");
            }
            if (t < 0 || t >= tableCount) {
                throw new IllegalArgumentException("model.tt.perTable: table " + t + " does not exist (there are "
                        + tableCount + ")");
            }
        }
        if (cacheWarmupSteps < 0 || cacheWarmupSteps > Integer.MAX_VALUE
                || cacheRefreshSteps < 0 || cacheRefreshSteps > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("model.tt.cacheWarmupSteps and cacheRefreshSteps must lie in [0, "
                    + Integer.MAX_VALUE + "], got " + cacheWarmupSteps + " and " + cacheRefreshSteps);
        }
        if (!(cacheFraction >= 0 && cacheFraction <= 1)) {
            throw new IllegalArgumentException("model.tt.cacheFraction must lie in [0, 1], got " + cacheFraction);
        }
        if (!(lrScale > 0 && lrScale < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("model.tt.lrScale must be positive and finite, got " + lrScale);
        }
        coreOptimizerKind();
        try {
            org.ttrec.engine.tt.TtInit.parse(init);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model.tt.init: " + e.getMessage(), e);
        }
        if (memoryBudgetBytes < 0) {
            throw new IllegalArgumentException("model.tt.memoryBudgetBytes must be >= 0, got " + memoryBudgetBytes);
        }
    }

    /**
     * @return the cores' update rule, or null for "same" (train.optimizer's, at the plain rate)
     * @throws IllegalArgumentException for an unknown name
     */
    public org.ttrec.engine.SparseOptimizer.Kind coreOptimizerKind() {
        return switch (optimizer == null ? "" : optimizer) {
            case "same" -> null;
            case "sgd" -> org.ttrec.engine.SparseOptimizer.Kind.SGD;
            case "adagrad" -> org.ttrec.engine.SparseOptimizer.Kind.ADAGRAD;
            case "rowwise-adagrad" -> org.ttrec.engine.SparseOptimizer.Kind.ROWWISE_ADAGRAD;
            default -> throw new IllegalArgumentException("model.tt.optimizer must be 'adagrad', 'rowwise-adagrad', 'sgd' or "
                    + "'same', got '" + optimizer + "'");
        };
    }

    /**
     * @param table index
     * @param rows  its rows
     * @return whether the table is TT compressed
     */
    public boolean isTt(int table, long rows) {
        if (tables != null) {
            for (int t : tables) {
                if (t == table) {
                    return true;
                }
            }
            return false;
        }
        return threshold >= 0 && rows > threshold;
    }
}
