package org.ttrec.dlrm.model.safetensors;

import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.DenseTransform;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.TableFactory;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.SparseOptimizer;

import java.util.Random;

/**
 * Small trained DLRMs for the safetensors tests: uncompressed and TT tables, optionally a
 * populated hot-row cache, trained a few SGD steps so nothing is at its initial value.
 */
final class SmallModels {
    private SmallModels() {}

    /** Rows with their raw (untransformed) dense values, as a scorer outside ttrec gets them. */
    record Rows(int[][] rawDense, int[][] index, Batch batch) {}

    /**
     * Four tables: two uncompressed (5 and 60 rows), two TT (300 and 1,000 rows, 3 cores,
     * rank 3), D = 8.
     *
     * @param interaction   "dot" or "cat"
     * @param self          self-interaction (dot only)
     * @param cacheFraction hot-row cache share of the TT tables (0 = none)
     * @return the configuration
     */
    static ModelConfig config(String interaction, boolean self, double cacheFraction) {
        ModelConfig m = new ModelConfig();
        m.denseFeatures = 4;
        m.embeddingDim = 8;
        m.bottomMlp = "4-16-8";
        m.topMlp = "12-1";
        m.interaction = interaction;
        m.selfInteraction = self;
        m.tableRows = new int[] {5, 60, 300, 1000};
        m.tt.threshold = 100;
        m.tt.cores = 3;
        m.tt.rank = 3;
        m.tt.cacheFraction = cacheFraction;
        m.tt.cacheWarmupSteps = 2;
        return m;
    }

    /**
     * @param be   backend
     * @param c    configuration
     * @param seed initialisation seed
     * @return an untrained model
     */
    static DlrmModel build(ComputeBackend be, ModelConfig c, long seed) {
        return DlrmModel.build(be, c, TableFactory.plan(c, 0, 0), seed);
    }

    /**
     * Rows with one lookup per table, skewed towards small ids so a cache has hot rows, and raw
     * dense counts from 0 to about 2,000 (some negative, which the transform clips).
     *
     * @param c    configuration
     * @param n    rows
     * @param seed random seed
     * @return the rows
     */
    static Rows rows(ModelConfig c, int n, long seed) {
        Random r = new Random(seed);
        int[] rows = c.effectiveRows();
        int[][] raw = new int[n][c.denseFeatures];
        float[] dense = new float[n * c.denseFeatures];
        float[] labels = new float[n];
        int[][] index = new int[n][rows.length];
        int[][] idx = new int[rows.length][n];
        int[][] off = new int[rows.length][n + 1];
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < c.denseFeatures; f++) {
                raw[i][f] = r.nextInt(10) == 0 ? -r.nextInt(5) : (int) Math.exp(r.nextDouble() * 7.6);
                dense[i * c.denseFeatures + f] = DenseTransform.apply(raw[i][f]);
            }
            labels[i] = r.nextInt(3) == 0 ? 1f : 0f;
            for (int t = 0; t < rows.length; t++) {
                int v = (int) Math.min(rows[t] - 1, Math.floor(Math.pow(r.nextDouble(), 3) * rows[t]));
                index[i][t] = v;
                idx[t][i] = v;
            }
        }
        for (int t = 0; t < rows.length; t++) {
            for (int i = 0; i <= n; i++) {
                off[t][i] = i;
            }
        }
        return new Rows(raw, index, new Batch(n, dense, labels, idx, off));
    }

    /**
     * Trains a few SGD steps (tables fused, MLP by one axpy), enough to populate a cache with
     * warm-up 2 and move every parameter away from its initial value.
     *
     * @param m     the model
     * @param steps training steps
     * @param seed  data seed
     */
    static void train(DlrmModel m, int steps, long seed) {
        float lr = 0.3f;
        for (int s = 0; s < steps; s++) {
            Batch b = rows(m.config(), 64, seed * 1000 + s).batch();
            m.forward(b);
            m.backward(SparseOptimizer.sgd(lr));
            m.backend().axpy(m.denseParameterCount(), -lr, m.gradients(), 0, m.parameters(), 0);
        }
        m.awaitTables();
    }
}
