package org.ttrec.dlrm.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.config.TtConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.layers.DenseEmbeddingBag;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.layers.Linear;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.scalar.ScalarBackend;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole-model gradient check with Tensor-Train tables: the analytic gradient of the mean BCE
 * loss with respect to every TT core entry (collected with {@link SparseOptimizer#accumulate()}),
 * a sample of MLP parameters and the remaining dense table, against central finite differences
 * of the loss, on the scalar backend. Complements {@link GradientCheckTest} (dense tables only):
 * a wrong core-slice gradient, a wrong chain rule through the interaction into the TT backward,
 * or mean pooling scaled wrongly in the TT path all show up here.
 */
class TtModelGradientCheckTest {

    /** Tables 0 (2 cores, suggested shape, rank 3) and 1 (3 cores, explicit uneven ranks) are TT; table 2 stays dense. */
    static ModelConfig ttConfig(String interaction, boolean self, String pooling) {
        ModelConfig m = GradientCheckTest.tinyConfig(interaction, self);
        m.pooling = pooling;
        m.tt.tables = new int[] {0, 1};
        m.tt.cores = 2;
        m.tt.rank = 3;
        m.tt.init = "normal:0.5"; // rows of order 0.5-1, so gradients are well above float noise
        TtConfig.TableShape s = new TtConfig.TableShape();
        s.p = new int[] {2, 2, 3};
        s.q = new int[] {1, 2, 2};
        s.ranks = new int[] {1, 2, 3, 1};
        m.tt.perTable.put("1", s);
        return m;
    }

    @ParameterizedTest(name = "{0} self={1} {2}")
    @CsvSource({"dot, false, sum", "dot, true, mean", "cat, false, sum", "cat, false, mean"})
    void analyticGradientsMatchFiniteDifferences(String interaction, boolean self, String pooling) {
        ModelConfig m = ttConfig(interaction, self, pooling);
        ScalarBackend be = new ScalarBackend();
        DlrmModel model = DlrmModel.build(be, m, TableFactory.plan(m, 0, 0), 42);
        assertTrue(model.tables().get(0) instanceof TtEmbeddingBag, model.describe());
        assertTrue(model.tables().get(1) instanceof TtEmbeddingBag, model.describe());
        assertTrue(model.tables().get(2) instanceof DenseEmbeddingBag, model.describe());
        assertEquals(3, ((TtEmbeddingBag) model.tables().get(1)).shape().cores());
        Linear last = model.topMlp().layers()[model.topMlp().layers().length - 1];
        be.scale(last.parameterCount(), 0.1f, model.parameters(), last.weightOffset());
        Batch batch = GradientCheckTest.randomBatch(m, 7, 5);

        double loss = model.forwardReadLoss(batch);
        assertTrue(loss > 0.3 && loss < 1.5, "loss " + loss);
        model.backward(SparseOptimizer.accumulate());
        float[] grads = model.gradients().toArray();

        Fd fd = new Fd(model, batch);
        FloatBuf params = model.parameters();
        Random pick = new Random(13);
        int checked = 0;
        double worst = 0;
        for (int trial = 0; trial < 40; trial++) {
            int i = pick.nextInt(model.denseParameterCount());
            worst = Math.max(worst, GradientCheckTest.check("MLP parameter " + i, grads[i], fd.gradient(Entries.of(params), i)));
            checked++;
        }
        int coreEntries = 0, nonZeroCoreGrads = 0;
        for (EmbeddingBagLayer layer : model.tables()) {
            if (layer instanceof TtEmbeddingBag t) {
                int d = t.shape().cores();
                assertEquals(SparseOptimizer.Kind.ACCUMULATE, t.table().stateKind());
                for (int k = 0; k < d; k++) {
                    float[] gk = t.table().readState(k);
                    assertEquals(t.shape().coreSize(k), gk.length);
                    for (int e = 0; e < gk.length; e++) {
                        // a core entry moves many embedding values at once: a smaller step crosses fewer ReLU kinks
                        double num = fd.gradient(Entries.of(t.table(), k), e, 2e-3f);
                        worst = Math.max(worst, GradientCheckTest.check(t.name() + " core " + k + " entry " + e, gk[e], num));
                        checked++;
                        coreEntries++;
                        nonZeroCoreGrads += gk[e] != 0 ? 1 : 0;
                    }
                }
            } else {
                DenseEmbeddingBag t = (DenseEmbeddingBag) layer;
                float[] g = t.optimizerState();
                for (int e = 0; e < t.rows() * t.dim(); e++) {
                    worst = Math.max(worst, GradientCheckTest.check(t.name() + " element " + e, g[e],
                            fd.gradient(Entries.of(t.table()), e)));
                    checked++;
                }
            }
        }
        // the check is only meaningful if most core entries really receive gradient
        assertTrue(nonZeroCoreGrads > coreEntries / 2, nonZeroCoreGrads + " of " + coreEntries + " core gradients non-zero");
        assertTrue(fd.kinks < checked / 10, fd.kinks + " of " + checked + " finite differences crossed a kink");
        System.out.printf("TT gradient check %s self=%s %s: %d values (%d TT core entries), %d at kinks skipped, "
                + "worst relative error %.2e%n", interaction, self, pooling, checked, coreEntries, fd.kinks, worst);
    }

    /** Central differences of the model's loss, NaN where a step flips a ReLU (see GradientCheckTest). */
    private static final class Fd {
        final DlrmModel model;
        final Batch batch;
        int kinks;

        Fd(DlrmModel model, Batch batch) {
            this.model = model;
            this.batch = batch;
        }

        double gradient(Entries buf, int i) {
            return gradient(buf, i, 1e-2f);
        }

        double gradient(Entries buf, int i, float relStep) {
            float orig = buf.get(i);
            float h = relStep * Math.max(1f, Math.abs(orig));
            model.forwardReadLoss(batch);
            long pattern = pattern();
            buf.set(i, orig + h);
            double lp = model.forwardReadLoss(batch);
            boolean kink = pattern() != pattern;
            buf.set(i, orig - h);
            double lm = model.forwardReadLoss(batch);
            kink |= pattern() != pattern;
            buf.set(i, orig);
            if (kink) {
                kinks++;
                return Double.NaN;
            }
            // divide by the perturbations actually applied in float
            return (lp - lm) / (((double) (orig + h) - orig) + ((double) orig - (orig - h)));
        }

        long pattern() {
            return model.bottomMlp().reluPattern() * 31 + model.topMlp().reluPattern();
        }
    }
}
