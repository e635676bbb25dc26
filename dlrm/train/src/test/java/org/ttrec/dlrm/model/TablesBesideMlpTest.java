package org.ttrec.dlrm.model;

import org.junit.jupiter.api.Test;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.TablesBesideBackend;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.scalar.ScalarBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tables on a backend of their own, run beside the MLP ({@link TablesBesideBackend},
 * {@code train.tableThreads}): training gives
 * the bits of the inline model, the tables' update overlaps what follows the backward until
 * something needs the tables, and a table's failure on the other thread surfaces on the caller's.
 */
class TablesBesideMlpTest {

    private static RunConfig config() {
        RunConfig c = Presets.get("tiny");
        c.train.progress = false;
        c.train.batchSize = 64;
        c.data.trainSamples = 64 * 12;
        c.model.tableRows = new int[] {5, 40, 300, 3000, 20_000};
        c.model.tt.threshold = 1000; // two TT tables, three dense
        c.model.tt.rank = 8;
        return c;
    }

    private record Trained(float[] params, List<float[]> tables, double[] losses) {}

    private static Trained train(boolean beside) throws Exception {
        RunConfig c = config();
        try (Dataset d = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, d);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            try (ComputeBackend be = beside ? new TablesBesideBackend(new ScalarBackend(), new ScalarBackend())
                    : new ScalarBackend();
                 DlrmModel m = DlrmModel.build(be, c.model, specs, 3)) {
                m.ensureCapacity(c.train.batchSize);
                DenseOptimizer opt = Trainer.optimizerFor(c, m);
                double[] losses = new double[12];
                try (BatchStream s = d.batches(Split.TRAIN, c.train.batchSize, false, 0)) {
                    for (int i = 0; i < losses.length; i++) {
                        losses[i] = m.forwardReadLoss(s.next());
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
                assertEquals(2, tt, "TT tables");
                return new Trained(m.parameters().toArray(), tables, losses);
            }
        }
    }

    @Test
    void tablesBesideTheMlpTrainToTheSameBits() throws Exception {
        Trained inline = train(false), beside = train(true);
        assertArrayEquals(inline.losses, beside.losses, "losses");
        assertTrue(inline.losses[11] != inline.losses[0], "the model trained");
        assertArrayEquals(inline.params, beside.params, "MLP parameters");
        for (int t = 0; t < inline.tables.size(); t++) {
            assertArrayEquals(inline.tables.get(t), beside.tables.get(t), "table " + t);
        }
    }

    @Test
    void aTableFailureOnTheTableThreadReachesTheCaller() throws Exception {
        RunConfig c = config();
        try (Dataset d = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, d);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            try (ComputeBackend be = new TablesBesideBackend(new ScalarBackend(), new ScalarBackend());
                 DlrmModel m = DlrmModel.build(be, c.model, specs, 3);
                 BatchStream s = d.batches(Split.TRAIN, c.train.batchSize, false, 0)) {
                Batch b = s.next();
                int[][] idx = b.indices().clone();
                idx[3] = idx[3].clone();
                idx[3][5] = 3000; // table 3 has 3000 rows
                Batch bad = new Batch(b.size(), b.dense(), b.labels(), idx, b.offsets());
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(bad));
                assertTrue(e.getMessage().contains("3000"), e.getMessage());
                // the model is still usable afterwards
                double loss = m.forwardReadLoss(b);
                assertTrue(Double.isFinite(loss));
            }
        }
    }

    /**
     * A table backend whose uncompressed-table backward waits for a gate (or fails), so a test
     * controls when the tables' update ends.
     */
    private static final class GatedBackend extends ScalarBackend {
        final CountDownLatch gate = new CountDownLatch(1);
        final AtomicInteger updates = new AtomicInteger();
        volatile boolean fail;

        @Override
        public void embeddingBagBackward(int rows, int dim, FloatBuf table, FloatBuf state, IntBuf indices,
                                         IntBuf offsets, int bags, FloatBuf perSampleWeights, Pooling pooling,
                                         FloatBuf gradOut, int gradOff, int ldGrad, SparseOptimizer opt) {
            try {
                if (!gate.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("gate never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            if (fail) {
                throw new IllegalStateException("table update failed on purpose");
            }
            super.embeddingBagBackward(rows, dim, table, state, indices, offsets, bags, perSampleWeights, pooling,
                    gradOut, gradOff, ldGrad, opt);
            updates.incrementAndGet();
        }
    }

    @Test
    void backwardReturnsBeforeTheTablesAreUpdatedAndReadersWaitForThem() throws Exception {
        RunConfig c = config();
        try (Dataset d = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, d);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            GatedBackend tableBe = new GatedBackend();
            try (ComputeBackend be = new TablesBesideBackend(new ScalarBackend(), tableBe);
                 DlrmModel m = DlrmModel.build(be, c.model, specs, 3);
                 BatchStream s = d.batches(Split.TRAIN, c.train.batchSize, false, 0)) {
                m.forward(s.next());
                m.backward(SparseOptimizer.sgd(0.2f)); // the table thread now waits at the gate
                assertEquals(0, tableBe.updates.get(), "backward returned with the tables still pending");
                Thread opener = new Thread(() -> {
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    tableBe.gate.countDown();
                });
                opener.start();
                List<EmbeddingBagLayer> tables = m.tables(); // must wait for the update
                assertEquals(3, tableBe.updates.get(), "tables() returned before the 3 dense tables were updated");
                assertEquals(5, tables.size());
                opener.join();
            }
        }
    }

    @Test
    void aFailedUpdateSurfacesAtTheNextForward() throws Exception {
        RunConfig c = config();
        try (Dataset d = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, d);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            GatedBackend tableBe = new GatedBackend();
            tableBe.fail = true;
            tableBe.gate.countDown();
            try (ComputeBackend be = new TablesBesideBackend(new ScalarBackend(), tableBe);
                 DlrmModel m = DlrmModel.build(be, c.model, specs, 3);
                 BatchStream s = d.batches(Split.TRAIN, c.train.batchSize, false, 0)) {
                Batch b = s.next();
                m.forward(b);
                m.backward(SparseOptimizer.sgd(0.2f)); // its failure is not known yet
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.forward(b));
                assertTrue(e.getMessage().contains("on purpose"), e.getMessage());
                // reported once: the model goes on
                assertTrue(Double.isFinite(m.forwardReadLoss(b)));
            }
        }
    }
}
