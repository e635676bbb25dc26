package org.ttrec.engine.tornado;

import org.junit.jupiter.api.Test;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.FloatBuf;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A training step in steady state compiles nothing and runs the same executions: from the third
 * step on, the steps of a DLRM with dense and TT tables (the tiny preset) replay the programs the
 * first two compiled, with the same number of executions per step, although the learning rate
 * changes every step (it travels in the per-execution arguments).
 */
class SteadyStepCompileTest {

    @Test
    void noProgramIsCompiledAfterTheSecondStep() throws Exception {
        // the tiny preset's model, as TrainingMatchesCpuTest trains it: the two share programs
        RunConfig c = Presets.get("tiny");
        c.train.progress = false;
        c.train.batchSize = 64;
        c.data.trainSamples = 64 * 8;
        try (Dataset d = TrainingSetup.openDataset(c); TornadoBackend be = Tornado.backend()) {
            TrainingSetup.adopt(c, d);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            try (DlrmModel m = DlrmModel.build(be, c.model, specs, 3);
                 FloatBuf lossSum = be.allocFloats(1);
                 BatchStream s = d.batches(Split.TRAIN, c.train.batchSize, true, 1)) {
                DenseOptimizer opt = Trainer.optimizerFor(c, m);
                long programsAfter2 = 0, executionsAfter2 = 0, executionsAfter5 = 0;
                for (int step = 1; step <= 8; step++) {
                    Batch b = s.next();
                    // what Trainer does per step, learning rate changing every step
                    float lr = 0.1f / step;
                    m.forward(b);
                    be.checkFinite(1, m.lossBuffer(), 0, step);
                    be.axpy(1, 1f, m.lossBuffer(), 0, lossSum, 0);
                    m.backward(opt.sparse(lr));
                    opt.step(lr, m.parameters(), m.gradients());
                    if (step == 2) {
                        be.sync();
                        programsAfter2 = be.programsCompiled();
                        executionsAfter2 = be.executions();
                    }
                    if (step == 5) {
                        be.sync();
                        executionsAfter5 = be.executions();
                    }
                }
                be.sync();
                System.out.println("SteadyStepCompileTest: " + be.stats());
                assertTrue(programsAfter2 > 0, "the counter counts");
                assertEquals(programsAfter2, be.programsCompiled(), "programs compiled after step 2");
                assertEquals((executionsAfter5 - executionsAfter2) / 3, (be.executions() - executionsAfter5) / 3,
                        "executions per step");
                assertEquals(-1, be.firstNonFinite());
            }
        }
    }
}
