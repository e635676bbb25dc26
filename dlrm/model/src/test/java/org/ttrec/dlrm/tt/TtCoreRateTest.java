package org.ttrec.dlrm.tt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ttrec.engine.tt.TtTestUtil.heap;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.scalar.ScalarBackend;
import org.ttrec.engine.tt.TtInit;

/** The cores' learning-rate rule (TtCoreRate) against what the cores actually do. */
class TtCoreRateTest {
    private final ComputeBackend be = new ScalarBackend();
    private final TtShape shape = TtShape.uniformRank(1000, new int[] {10, 10, 10}, new int[] {2, 2, 4}, 8);

    @Test
    void adagradRateIsTheStepTimesTheInitialStdAndSgdKeepsThePlainRate() {
        double s = TtInit.matchedStd(shape);
        assertEquals(TtCoreRate.ADAGRAD_STEP * s, TtCoreRate.scale(SparseOptimizer.Kind.ADAGRAD, shape,
                TtInit.sampledGaussian()), 1e-15);
        assertEquals(TtCoreRate.ADAGRAD_STEP * s, TtCoreRate.scale(SparseOptimizer.Kind.ROWWISE_ADAGRAD, shape,
                TtInit.uniform()), 1e-15);
        assertEquals(TtCoreRate.ADAGRAD_STEP * 0.3, TtCoreRate.scale(SparseOptimizer.Kind.ADAGRAD, shape,
                TtInit.normal(0.3)), 1e-15);
        assertEquals(1, TtCoreRate.scale(SparseOptimizer.Kind.SGD, shape, TtInit.sampledGaussian()));
    }

    /** Adagrad's first step moves every entry it touches by its rate: lr * ADAGRAD_STEP * s. */
    @Test
    void theFirstAdagradStepMovesEachTouchedCoreEntryByTheRulesRate() {
        TtEmbeddingBag l = new TtEmbeddingBag("t", be, shape, Pooling.SUM, TtInit.sampledGaussian(), 3, TtCacheConfig.OFF);
        l.setCoreTraining(SparseOptimizer.Kind.ADAGRAD, 1);
        float[][] before = new float[3][];
        for (int k = 0; k < 3; k++) {
            before[k] = l.table().readCore(k);
        }
        int[] idx = {123, 456};
        int[] off = {0, 1, 2};
        FloatBuf out = be.allocFloats(2 * 16);
        l.forward(idx, off, 2, null, out, 0, 16);
        float[] g = new float[2 * 16];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < g.length; i++) {
            g[i] = (float) r.nextGaussian();
        }
        float lr = 0.1f;
        // the model's optimiser is SGD; the cores follow their own rule
        l.backward(heap(g), 0, 16, SparseOptimizer.sgd(lr));
        assertEquals(SparseOptimizer.Kind.ADAGRAD, l.table().stateKind());
        double rate = lr * TtCoreRate.ADAGRAD_STEP * TtInit.matchedStd(shape);
        int moved = 0;
        for (int k = 0; k < 3; k++) {
            float[] after = l.table().readCore(k);
            for (int i = 0; i < after.length; i++) {
                double step = Math.abs(after[i] - before[k][i]);
                if (step > 0) {
                    moved++;
                    assertEquals(rate, step, rate * 1e-3, "core " + k + " entry " + i);
                }
            }
        }
        assertTrue(moved > 100, "only " + moved + " entries moved");
    }

    /**
     * The gain the SGD rule of thumb rests on: an SGD step of rate lr with row gradient g moves the
     * looked-up row by about lr * gain * g (to first order), averaged over rows and draws.
     */
    @Test
    void sgdGainAtInitPredictsHowFarAnSgdStepMovesARow() {
        TtInit init = TtInit.sampledGaussian();
        double gain = TtCoreRate.sgdGainAtInit(shape, init);
        float lr = 1e-3f / (float) gain; // a small step: first order dominates
        double sum = 0;
        int trials = 300;
        SplittableRandom r = new SplittableRandom(11);
        for (int t = 0; t < trials; t++) {
            TtEmbeddingBag l = new TtEmbeddingBag("t", be, shape, Pooling.SUM, init, 100 + t, TtCacheConfig.OFF);
            l.setCoreTraining(SparseOptimizer.Kind.SGD, 1);
            int[] idx = {r.nextInt(1000)};
            int[] off = {0, 1};
            float[] g = new float[16];
            double gg = 0;
            for (int i = 0; i < 16; i++) {
                g[i] = (float) r.nextGaussian();
                gg += g[i] * g[i];
            }
            float[] w0 = row(l, idx, off);
            l.backward(heap(g), 0, 16, SparseOptimizer.sgd(lr));
            float[] w1 = row(l, idx, off);
            double along = 0;
            for (int i = 0; i < 16; i++) {
                along += (w0[i] - w1[i]) * g[i];
            }
            sum += along / (lr * gg);
        }
        double measured = sum / trials;
        assertEquals(gain, measured, 0.15 * gain, "measured gain " + measured + " against the formula's " + gain);
    }

    private float[] row(TtEmbeddingBag l, int[] idx, int[] off) {
        FloatBuf out = be.allocFloats(16);
        l.forward(idx, off, 1, null, out, 0, 16);
        return out.toArray();
    }
}
