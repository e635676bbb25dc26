package org.ttrec.dlrm.config;

import java.util.List;

/**
 * The named starting configurations (docs/dlrm.md, Presets): dlrm's Kaggle, Terabyte and MLPerf
 * setups, and {@code tiny}, a small model on the built-in synthetic data that trains to a
 * clearly non-trivial AUC in about a minute on two cores.
 */
public final class Presets {
    private Presets() {}

    /** Criteo Kaggle cardinalities (docs/dlrm.md): 26 tables, 33,762,577 rows. */
    public static final int[] KAGGLE_ROWS = {1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683,
        8351593, 3194, 27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572};

    /**
     * Criteo Terabyte cardinalities as the MLPerf DLRM benchmark counts them (values taken modulo
     * 40M); the terabyte preset caps them further with max-ind-range 10M. Used for planning
     * memory before data is read; real data sets supply their own counts.
     */
    public static final int[] TERABYTE_ROWS_40M = {39884406, 39043, 17289, 7420, 20263, 3, 7120, 1543, 63,
        38532951, 2953546, 403346, 10, 2208, 11938, 155, 4, 976, 14, 39979771, 25641295, 39664984, 585935,
        12972, 108, 36};

    /** @return the preset names */
    public static List<String> names() {
        return List.of("tiny", "kaggle", "terabyte", "mlperf");
    }

    /**
     * @param name a preset name
     * @return a fresh config
     * @throws IllegalArgumentException if the name is unknown
     */
    public static RunConfig get(String name) {
        RunConfig c = new RunConfig();
        c.preset = name;
        ModelConfig m = c.model;
        TrainConfig t = c.train;
        switch (name) {
            case "tiny" -> {
                m.embeddingDim = 8;
                m.bottomMlp = "13-32-8";
                m.topMlp = "32-1";
                // Three tables above the TT threshold, so the default run shows TT compression.
                m.tableRows = new int[] {4, 10, 40, 100, 300, 1000, 5000, 20_000, 200_000, 1_000_000};
                m.tt.threshold = 10_000;
                m.tt.rank = 16;
                t.lr = 0.2;
                t.batchSize = 128;
                t.testBatchSize = 2048;
                t.evalEvery = 2000;
                t.logEvery = 50;
                c.data.trainSamples = 1_500_000;
            }
            case "kaggle" -> {
                m.embeddingDim = 16;
                m.bottomMlp = "13-512-256-64-16";
                m.topMlp = "512-256-1";
                m.tableRows = KAGGLE_ROWS.clone();
                t.lr = 0.1;
                t.batchSize = 128;
                t.testBatchSize = 16384;
                t.evalEvery = 10_000;
                t.logEvery = 1000;
            }
            case "terabyte" -> {
                m.embeddingDim = 64;
                m.bottomMlp = "13-512-256-64";
                m.topMlp = "512-512-256-1";
                m.tableRows = TERABYTE_ROWS_40M.clone();
                m.maxIndRange = 10_000_000;
                t.lr = 0.1;
                t.batchSize = 2048;
                t.testBatchSize = 16384;
                t.evalEvery = 10_000;
                t.logEvery = 1000;
            }
            case "mlperf" -> {
                m.embeddingDim = 128;
                m.bottomMlp = "13-512-256-128";
                m.topMlp = "1024-1024-512-256-1";
                m.tableRows = TERABYTE_ROWS_40M.clone();
                m.maxIndRange = 40_000_000;
                t.lr = 1.0;
                t.batchSize = 2048;
                t.testBatchSize = 16384;
                t.lrWarmupSteps = 8000;
                t.lrDecayStartStep = 70_000;
                t.lrDecaySteps = 30_000;
                t.evalEvery = 10_000;
                t.logEvery = 1000;
                t.targetAuc = 0.8025;
            }
            default -> throw new IllegalArgumentException("unknown preset '" + name + "'; known: " + names());
        }
        return c;
    }
}
