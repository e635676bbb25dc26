package org.ttrec.dlrm.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.layers.DenseEmbeddingBag;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.scalar.ScalarBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole-model gradient check: the analytic gradients of the mean BCE loss (MLP weights and
 * biases, embedding rows) against central finite differences of the loss, on the scalar backend.
 */
class GradientCheckTest {

    static ModelConfig tinyConfig(String interaction, boolean self) {
        ModelConfig m = new ModelConfig();
        m.denseFeatures = 5;
        m.embeddingDim = 4;
        m.bottomMlp = "5-7-4";
        m.topMlp = "6-1";
        m.interaction = interaction;
        m.selfInteraction = self;
        m.tableRows = new int[] {6, 9, 3};
        m.tt.threshold = -1;
        return m;
    }

    /** Random batch with bags of 0..3 lookups (exercising pooling and empty bags). */
    static Batch randomBatch(ModelConfig m, int n, long seed) {
        Random r = new Random(seed);
        float[] dense = new float[n * m.denseFeatures];
        for (int i = 0; i < dense.length; i++) {
            dense[i] = (float) (r.nextDouble() * 0.5);
        }
        float[] labels = new float[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextBoolean() ? 1f : 0f;
        }
        int tables = m.tableRows.length;
        int[][] idx = new int[tables][];
        int[][] off = new int[tables][];
        for (int t = 0; t < tables; t++) {
            off[t] = new int[n + 1];
            List<Integer> ids = new ArrayList<>();
            for (int b = 0; b < n; b++) {
                int len = t == 0 ? 1 : r.nextInt(4);
                for (int j = 0; j < len; j++) {
                    ids.add(r.nextInt(m.tableRows[t]));
                }
                off[t][b + 1] = ids.size();
            }
            idx[t] = ids.stream().mapToInt(Integer::intValue).toArray();
        }
        return new Batch(n, dense, labels, idx, off);
    }

    @ParameterizedTest(name = "{0} self={1}")
    @CsvSource({"dot, false", "dot, true", "cat, false"})
    void analyticGradientsMatchFiniteDifferences(String interaction, boolean self) {
        ModelConfig m = tinyConfig(interaction, self);
        ScalarBackend be = new ScalarBackend();
        DlrmModel model = DlrmModel.build(be, m, TableFactory.plan(m, 0, 0), 42);
        kinks = 0;
        // Shrink the output layer so probabilities stay away from 0 and 1 (see the loss check).
        org.ttrec.dlrm.layers.Linear last = model.topMlp().layers()[model.topMlp().layers().length - 1];
        be.scale(last.parameterCount(), 0.1f, model.parameters(), last.weightOffset());
        Batch batch = randomBatch(m, 7, 3);

        double loss = model.forwardReadLoss(batch);
        // a loss far from log 2 means saturated probabilities, whose float rounding swamps finite differences
        assertTrue(loss > 0.3 && loss < 1.5, "loss " + loss);
        model.backward(SparseOptimizer.accumulate());
        float[] grads = model.gradients().toArray();

        FloatBuf params = model.parameters();
        Random pick = new Random(11);
        int checked = 0;
        double worst = 0;
        for (int trial = 0; trial < 60; trial++) {
            int i = pick.nextInt(model.denseParameterCount());
            double num = numericGradient(model, batch, Entries.of(params), i);
            worst = Math.max(worst, check("MLP parameter " + i, grads[i], num));
            checked++;
        }
        // every bias and weight of the last top layer (a small, always-active set)
        for (int i = model.denseParameterCount() - 7; i < model.denseParameterCount(); i++) {
            worst = Math.max(worst, check("top parameter " + i, grads[i], numericGradient(model, batch, Entries.of(params), i)));
        }
        for (EmbeddingBagLayer layer : model.tables()) {
            DenseEmbeddingBag t = (DenseEmbeddingBag) layer;
            float[] g = t.optimizerState();
            for (int e = 0; e < t.rows() * t.dim(); e++) {
                double num = numericGradient(model, batch, Entries.of(t.table()), e);
                worst = Math.max(worst, check(t.name() + " element " + e, g[e], num));
                checked++;
            }
        }
        assertTrue(checked > 100);
        assertTrue(kinks < checked / 10, kinks + " of " + checked + " finite differences crossed a kink");
        System.out.printf("gradient check %s self=%s: %d values, %d at kinks skipped, worst relative error %.2e%n",
                interaction, self, checked, kinks, worst);
    }

    /**
     * Central difference of the loss, or NaN where a step crossed a ReLU kink (some ReLU output
     * switched between zero and positive), where no finite difference approximates the gradient.
     */
    private static double numericGradient(DlrmModel model, Batch batch, Entries buf, int i) {
        float orig = buf.get(i);
        float h = 1e-2f * Math.max(1f, Math.abs(orig));
        model.forwardReadLoss(batch);
        long pattern = pattern(model);
        buf.set(i, orig + h);
        double lp = model.forwardReadLoss(batch);
        boolean kink = pattern(model) != pattern;
        buf.set(i, orig - h);
        double lm = model.forwardReadLoss(batch);
        kink |= pattern(model) != pattern;
        buf.set(i, orig);
        // the perturbations actually applied, in float
        double hp = (double) (orig + h) - orig;
        double hm = (double) orig - (orig - h);
        double central = (lp - lm) / (hp + hm);
        if (kink) {
            kinks++;
            return Double.NaN;
        }
        return central;
    }

    private static int kinks;

    private static long pattern(DlrmModel model) {
        return model.bottomMlp().reluPattern() * 31 + model.topMlp().reluPattern();
    }

    /**
     * Asserts analytic ~ numeric within 1e-4 + 1% (a NaN numeric value, from a step that crossed
     * a ReLU kink, is skipped) and returns the relative error. Shared with TtModelGradientCheckTest.
     */
    static double check(String what, double analytic, double numeric) {
        if (Double.isNaN(numeric)) {
            return 0;
        }
        double err = Math.abs(analytic - numeric);
        double tol = 1e-4 + 1e-2 * Math.max(Math.abs(analytic), Math.abs(numeric));
        assertTrue(err <= tol, () -> what + ": analytic " + analytic + " vs numeric " + numeric);
        return err / Math.max(1e-4, Math.abs(numeric));
    }

    @Test
    void wrongBatchShapeIsAClearError() {
        ModelConfig m = tinyConfig("dot", false);
        DlrmModel model = DlrmModel.build(new ScalarBackend(), m, TableFactory.plan(m, 0, 0), 1);
        Batch b = randomBatch(m, 3, 1);
        Batch fewerTables = new Batch(3, b.dense(), b.labels(), new int[][] {b.indices()[0]}, new int[][] {b.offsets()[0]});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.forward(fewerTables));
        assertTrue(e.getMessage().contains("1 sparse features"), e.getMessage());
        int[][] idx = b.indices().clone();
        idx[1] = idx[1].clone();
        if (idx[1].length > 0) {
            idx[1][0] = 99;
            Batch bad = new Batch(3, b.dense(), b.labels(), idx, b.offsets());
            e = assertThrows(IllegalArgumentException.class, () -> model.forward(bad));
            assertTrue(e.getMessage().contains("table 1") && e.getMessage().contains("99"), e.getMessage());
        }
    }

    @Test
    void kaggleShapeHasTopInput367() {
        ModelConfig m = new ModelConfig();
        m.tableRows = new int[26];
        java.util.Arrays.fill(m.tableRows, 10);
        assertEquals(367, m.topWidths()[0]);
        m.interaction = "cat";
        assertEquals(27 * 16, m.topWidths()[0]);
    }

    @Test
    void topMlpNeverIncludesTheInputWidth() {
        // as dlrm's --arch-mlp-top: a first width equal to the interaction's is a hidden layer
        ModelConfig m = new ModelConfig();
        m.tableRows = new int[26];
        java.util.Arrays.fill(m.tableRows, 10);
        m.topMlp = "367-1";
        assertArrayEquals(new int[] {367, 367, 1}, m.topWidths());
        m.topMlp = "512-256-1";
        assertArrayEquals(new int[] {367, 512, 256, 1}, m.topWidths());
    }
}
