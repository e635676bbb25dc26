package org.ttrec.dlrm.train;

import org.junit.jupiter.api.Test;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TT-Rec claim at test scale (issue 6): on the same teacher-labelled synthetic data, with the
 * same seed and the same number of steps, a model whose large tables are TT compressed with a
 * suitable rank reaches a test AUC within 0.005 of the same model with every table uncompressed.
 */
class TtVersusDenseTest {

    /**
     * The tiny preset's MLPs on 9 tables (the 3 largest TT when {@code tt}), 150k teacher-labelled
     * samples, one epoch (1172 steps), one thread on the auto backend (the Vector API one here).
     */
    static RunConfig config(boolean tt, String optimizer, double lr, int rank, double cacheFraction) {
        RunConfig c = Presets.get("tiny");
        c.train.backend = "auto";
        c.train.threads = 1;
        c.train.progress = false;
        c.train.evalEvery = 0;
        c.train.batchSize = 128;
        c.train.testBatchSize = 4096;
        c.train.epochs = 1;
        c.train.optimizer = optimizer;
        c.train.lr = lr;
        c.data.trainSamples = 150_000;
        c.model.tableRows = new int[] {4, 10, 40, 100, 300, 1000, 5000, 20_000, 60_000};
        c.model.tt.threshold = tt ? 4000 : -1;
        c.model.tt.rank = rank;
        c.model.tt.cacheFraction = cacheFraction;
        c.model.tt.cacheWarmupSteps = 100;
        return c;
    }

    record Outcome(double auc, long steps, double compression, int ttTables, String backend) {}

    static Outcome train(RunConfig c) throws IOException {
        Dataset d = TrainingSetup.openDataset(c);
        TrainingSetup.adopt(c, d);
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
        try (ComputeBackend be = Backends.create(c.train.backend, c.train.threads)) {
            DlrmModel m = TrainingSetup.build(be, c, specs);
            Trainer t = new Trainer(c, m, Trainer.optimizerFor(c, m), specs, d, null, null, null);
            Trainer.Summary s = t.run();
            int tt = 0;
            for (EmbeddingBagLayer l : m.tables()) {
                tt += l instanceof TtEmbeddingBag ? 1 : 0;
            }
            return new Outcome(s.test().auc(), s.state().step(),
                    (double) m.uncompressedParameterCount() / m.parameterCount(), tt, be.name());
        }
    }

    static void compare(String what, String optimizer, double lr, int rank, double cache) throws IOException {
        Outcome dense = train(config(false, optimizer, lr, rank, cache));
        Outcome tt = train(config(true, optimizer, lr, rank, cache));
        System.out.printf("TT vs dense, %s (%s lr %s, rank %d, backend %s): test AUC TT %.4f vs uncompressed %.4f "
                        + "(diff %+.4f), %d steps each, %d TT tables, model compression %.1fx%n", what, optimizer, lr,
                rank, tt.backend, tt.auc, dense.auc, tt.auc - dense.auc, tt.steps, tt.ttTables, tt.compression);
        assertEquals(0, dense.ttTables);
        assertEquals(3, tt.ttTables);
        assertEquals(dense.steps, tt.steps);
        assertTrue(tt.compression > 2, "compression " + tt.compression);
        // both must have learned something, else matching AUCs would mean nothing
        assertTrue(dense.auc > 0.7 && tt.auc > 0.7, "AUCs " + dense.auc + ", " + tt.auc);
        assertTrue(Math.abs(tt.auc - dense.auc) <= 0.005,
                what + ": TT AUC " + tt.auc + " vs uncompressed " + dense.auc + " (rank " + rank + ")");
    }

    /**
     * Plain TT cores, Adagrad for every parameter. (With plain SGD at lr 0.2 the TT model trails
     * by about 0.02 AUC at this scale whatever the rank, 8 to 32: TT cores learn rare rows more
     * slowly under SGD; Adagrad's per-entry step sizes close that gap, and the hot-row cache below
     * does so for SGD.)
     */
    @Test
    void ttWithAdagradMatchesUncompressedAuc() throws IOException {
        compare("plain TT", "adagrad", 0.05, 32, 0);
    }

    /** TT-Rec's configuration: TT cores plus a hot-row cache of 1% of each TT table's rows, SGD. */
    @Test
    void ttWithHotRowCacheAndSgdMatchesUncompressedAuc() throws IOException {
        compare("TT + 1% hot-row cache", "sgd", 0.2, 16, 0.01);
    }
}
