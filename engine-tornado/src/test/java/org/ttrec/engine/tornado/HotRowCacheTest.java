package org.ttrec.engine.tornado;

import org.junit.jupiter.api.Test;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.cpu.CpuBackend;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot-row cache on the tornado backend: TT tables whose most looked-up rows move into an
 * uncompressed cache table after a warm-up train as on the cpu backend (the same losses, step by
 * step, within float rounding).
 */
class HotRowCacheTest {

    static double[] losses(ComputeBackend be) throws Exception {
        RunConfig c = Presets.get("tiny");
        c.train.batchSize = 64;
        c.data.trainSamples = 64 * 10;
        c.model.tt.cacheFraction = 0.05;
        c.model.tt.cacheWarmupSteps = 3;
        c.model.tt.cacheRefreshSteps = 4;
        double[] out = new double[10];
        try (Dataset d = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, d);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            try (DlrmModel m = DlrmModel.build(be, c.model, specs, 5);
                 BatchStream s = d.batches(Split.TRAIN, c.train.batchSize, true, 1)) {
                DenseOptimizer opt = Trainer.optimizerFor(c, m);
                for (int step = 0; step < out.length; step++) {
                    Batch b = s.next();
                    out[step] = m.forwardReadLoss(b);
                    m.backward(opt.sparse(0.1f));
                    opt.step(0.1f, m.parameters(), m.gradients());
                }
                boolean cached = false;
                for (EmbeddingBagLayer l : m.tables()) {
                    cached |= l instanceof TtEmbeddingBag t && t.cachePopulated() && t.cachedRows().length > 0;
                }
                assertTrue(cached, be.name() + ": no TT table filled its cache");
            }
        }
        return out;
    }

    @Test
    void trainsAsTheCpuBackend() throws Exception {
        double[] tornado;
        try (TornadoBackend be = Tornado.backend()) {
            tornado = losses(be);
        }
        double[] cpu;
        try (CpuBackend be = new CpuBackend(1)) {
            cpu = losses(be);
        }
        for (int step = 0; step < cpu.length; step++) {
            assertEquals(cpu[step], tornado[step], 1e-4 * Math.max(1, Math.abs(cpu[step])), "loss at step " + step);
        }
    }
}
