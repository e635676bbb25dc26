package org.ttrec.tests.e2e;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.DenseTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.ForwardingBackend;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.TtTable;
import org.ttrec.engine.cpu.CpuBackend;
import org.ttrec.engine.scalar.ScalarBackend;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A training step in steady state allocates no backend buffer: from the third step on, neither
 * the model (through a counting decorator of its backend) nor the tables and plans inside the
 * backend (its own count of created buffers) ask for one. Dense and TT tables, the hot-row cache
 * once populated, the scalar and cpu backends at 1 and 2 threads.
 */
class SteadyStepAllocationTest {

    /** Counts what the model asks its backend to create; tables are created through it too. */
    static final class CountingBackend extends ForwardingBackend {
        final AtomicLong created = new AtomicLong();

        CountingBackend(ComputeBackend delegate) {
            super(delegate);
        }

        @Override
        public FloatBuf allocFloats(int n) {
            created.incrementAndGet();
            return delegate.allocFloats(n);
        }

        @Override
        public IntBuf allocInts(int n) {
            created.incrementAndGet();
            return delegate.allocInts(n);
        }

        @Override
        public FloatBuf upload(float[] data) {
            created.incrementAndGet();
            return delegate.upload(data);
        }

        @Override
        public IntBuf upload(int[] data) {
            created.incrementAndGet();
            return delegate.upload(data);
        }

        @Override
        public TtTable newTtTable(String name, TtShape shape) {
            created.incrementAndGet();
            return delegate.newTtTable(name, shape);
        }

        @Override
        public DenseTable newDenseTable(String name, int rows, int dim) {
            created.incrementAndGet();
            return delegate.newDenseTable(name, rows, dim);
        }

        @Override
        public ComputeBackend tableBackend() {
            return this;
        }
    }

    @ParameterizedTest(name = "{0}/{1} {2}")
    @CsvSource({"scalar, 1, dense", "scalar, 1, tt", "scalar, 1, tt-cache",
            "cpu, 1, dense", "cpu, 1, tt", "cpu, 1, tt-cache", "cpu, 2, tt", "cpu, 2, tt-cache"})
    void noBackendBufferAfterTheSecondStep(String backend, int threads, String tables) throws Exception {
        RunConfig c = Presets.get("tiny");
        c.train.progress = false;
        c.train.batchSize = 128;
        c.data.trainSamples = 128 * 8;
        c.model.tableRows = new int[] {5, 40, 300, 3000, 20_000};
        c.model.tt.threshold = tables.equals("dense") ? -1 : 1000;
        c.model.tt.rank = 16;
        if (tables.equals("tt-cache")) { // populated after the first step, never refreshed
            c.model.tt.cacheFraction = 0.05;
            c.model.tt.cacheWarmupSteps = 1;
            c.model.tt.cacheRefreshSteps = 0;
        }
        ScalarBackend host = backend.equals("cpu") ? new CpuBackend(threads) : new ScalarBackend();
        try (Dataset d = TrainingSetup.openDataset(c); CountingBackend be = new CountingBackend(host)) {
            TrainingSetup.adopt(c, d);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            try (DlrmModel m = DlrmModel.build(be, c.model, specs, 3);
                 FloatBuf lossSum = be.allocFloats(1);
                 BatchStream s = d.batches(Split.TRAIN, c.train.batchSize, true, 1)) {
                DenseOptimizer opt = Trainer.optimizerFor(c, m);
                long modelAfter2 = 0, hostAfter2 = 0;
                for (int step = 1; step <= 8; step++) {
                    Batch b = s.next();
                    // what Trainer does per step
                    m.forward(b);
                    be.checkFinite(1, m.lossBuffer(), 0, step);
                    be.axpy(1, 1f, m.lossBuffer(), 0, lossSum, 0);
                    m.backward(opt.sparse(0.1f));
                    opt.step(0.1f, m.parameters(), m.gradients());
                    if (step == 2) {
                        modelAfter2 = be.created.get();
                        hostAfter2 = host.buffersCreated();
                    }
                }
                m.awaitTables();
                assertTrue(modelAfter2 > 0 && hostAfter2 > 0, "the counters count");
                assertEquals(modelAfter2, be.created.get(), "buffers or tables the model created after step 2");
                assertEquals(hostAfter2, host.buffersCreated(), "buffers the backend created after step 2");
                assertEquals(-1, be.firstNonFinite());
            }
        }
    }
}
