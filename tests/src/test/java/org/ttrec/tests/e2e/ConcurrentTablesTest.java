package org.ttrec.tests.e2e;

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
import org.ttrec.engine.Pending;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.cpu.CpuBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cpu backend runs a model's tables side by side ({@code ComputeBackend.submitTables}, each TT
 * table on kernels of its own): training gives the bits of the tables run one after another, and
 * of one thread; the tasks really overlap; a failure is the lowest table's.
 */
class ConcurrentTablesTest {

    /** The cpu backend with its tables one after another, as before they could overlap. */
    private static final class InOrder extends CpuBackend {
        InOrder(int threads) {
            super(threads);
        }

        @Override
        public Pending submitTables(int n, IntConsumer task) {
            for (int i = 0; i < n; i++) {
                task.accept(i);
            }
            return Pending.DONE;
        }
    }

    private record Trained(float[] params, List<float[]> tables, double[] losses) {}

    private static Trained train(ComputeBackend be, boolean cache) throws Exception {
        RunConfig c = Presets.get("tiny");
        c.train.progress = false;
        c.train.batchSize = 128;
        c.data.trainSamples = 128 * 10;
        c.model.tableRows = new int[] {5, 40, 300, 3000, 20_000, 50_000};
        c.model.tt.threshold = 1000; // three TT tables (R32, the fused kernels), three dense
        c.model.tt.rank = 32;
        if (cache) { // hot rows counted for 3 steps, then cached, refreshed every 4
            c.model.tt.cacheFraction = 0.05;
            c.model.tt.cacheWarmupSteps = 3;
            c.model.tt.cacheRefreshSteps = 4;
        }
        try (Dataset d = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, d);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            try (DlrmModel m = DlrmModel.build(be, c.model, specs, 3)) {
                m.ensureCapacity(c.train.batchSize);
                DenseOptimizer opt = Trainer.optimizerFor(c, m);
                double[] losses = new double[10];
                try (BatchStream s = d.batches(Split.TRAIN, c.train.batchSize, false, 0)) {
                    for (int i = 0; i < losses.length; i++) {
                        Batch b = s.next();
                        losses[i] = m.forwardReadLoss(b);
                        m.backward(SparseOptimizer.sgd(0.2f));
                        opt.step(0.2f, m.parameters(), m.gradients());
                    }
                }
                List<float[]> tables = new ArrayList<>();
                int tt = 0;
                for (EmbeddingBagLayer l : m.tables()) {
                    tables.add(l.materializeAll());
                    tt += l instanceof TtEmbeddingBag ? 1 : 0;
                }
                assertEquals(3, tt, "TT tables");
                return new Trained(m.parameters().toArray(), tables, losses);
            }
        }
    }

    @Test
    void tablesSideBySideTrainToTheBitsOfTablesInOrder() throws Exception {
        sameBits(false);
    }

    @Test
    void withTheHotRowCacheToo() throws Exception {
        sameBits(true);
    }

    private static void sameBits(boolean cache) throws Exception {
        Trained side, inOrder, one;
        try (CpuBackend two = new CpuBackend(2); InOrder twoInOrder = new InOrder(2); CpuBackend single = new CpuBackend(1)) {
            side = train(two, cache);
            inOrder = train(twoInOrder, cache);
            one = train(single, cache);
        }
        assertTrue(side.losses[9] != side.losses[0], "the model trained");
        for (Trained other : List.of(inOrder, one)) {
            String what = other == inOrder ? "tables in order" : "1 thread";
            assertArrayEquals(other.losses, side.losses, "losses, " + what);
            assertArrayEquals(other.params, side.params, "MLP parameters, " + what);
            for (int t = 0; t < side.tables.size(); t++) {
                assertArrayEquals(other.tables.get(t), side.tables.get(t), "table " + t + ", " + what);
            }
        }
    }

    @Test
    void tasksOverlapAndEachRunsOnce() throws Exception {
        try (CpuBackend be = new CpuBackend(2)) {
            // two tasks that each wait for the other: they finish only if they run at once
            CountDownLatch both = new CountDownLatch(2);
            AtomicIntegerArray runs = new AtomicIntegerArray(9);
            be.submitTables(9, i -> {
                runs.incrementAndGet(i);
                if (i < 2) {
                    both.countDown();
                    try {
                        assertTrue(both.await(30, TimeUnit.SECONDS), "task " + i + " waited alone");
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }).await();
            for (int i = 0; i < 9; i++) {
                assertEquals(1, runs.get(i), "task " + i);
            }
        }
        try (CpuBackend be = new CpuBackend(1)) {
            List<Integer> order = new ArrayList<>();
            be.submitTables(5, order::add).await();
            assertEquals(List.of(0, 1, 2, 3, 4), order, "one thread: in order");
        }
    }

    @Test
    void theLowestFailingTableIsReported() {
        try (CpuBackend be = new CpuBackend(2)) {
            IllegalArgumentException first = new IllegalArgumentException("table 2");
            AtomicIntegerArray runs = new AtomicIntegerArray(6);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> be.submitTables(6, i -> {
                runs.incrementAndGet(i);
                if (i == 2) {
                    throw first;
                }
                if (i == 4) {
                    throw new IllegalArgumentException("table 4");
                }
            }).await());
            assertSame(first, e);
            for (int i = 0; i < 6; i++) {
                assertEquals(1, runs.get(i), "every task ran: " + i);
            }
        }
    }
}
