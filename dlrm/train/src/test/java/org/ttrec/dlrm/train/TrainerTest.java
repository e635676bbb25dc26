package org.ttrec.dlrm.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.engine.scalar.ScalarBackend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {

    static RunConfig small() {
        RunConfig c = Presets.get("tiny");
        c.train.backend = "scalar";
        c.train.progress = false;
        c.data.trainSamples = 1000;
        c.train.batchSize = 64;
        c.train.testBatchSize = 256;
        c.train.evalEvery = 0;
        return c;
    }

    record Run(DlrmModel model, DenseOptimizer opt, List<EmbeddingTableSpec> specs, Dataset data) {}

    static Run setup(RunConfig c) throws IOException {
        Dataset d = TrainingSetup.openDataset(c);
        TrainingSetup.adopt(c, d);
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
        DlrmModel m = TrainingSetup.build(new ScalarBackend(), c, specs);
        return new Run(m, Trainer.optimizerFor(c, m), specs, d);
    }

    @Test
    void trainingOnSyntheticDataLearns() throws IOException {
        RunConfig c = small();
        c.data.trainSamples = 48_000;
        c.train.epochs = 1;
        Run r = setup(c);
        double before = Evaluator.evaluate(r.model, r.data, Split.VALIDATION, 1024).auc();
        Trainer t = new Trainer(c, r.model, r.opt, r.specs, r.data, null, null, null);
        Trainer.Summary s = t.run();
        System.out.printf("synthetic: validation AUC %.4f before, %s after; test %s%n", before, s.validation(), s.test());
        // the teacher caps AUC at about 0.80 (data.teacherAuc)
        assertTrue(s.validation().auc() > 0.65, "validation AUC " + s.validation().auc());
        assertTrue(s.test().auc() > 0.65, "test AUC " + s.test().auc());
        assertTrue(s.validation().auc() > before + 0.1);
        assertEquals(750, s.state().step());
    }

    static float[] snapshot(DlrmModel m) {
        float[] p = m.parameters().toArray();
        int total = p.length;
        for (EmbeddingBagLayer l : m.tables()) {
            total += l.rows() * l.dim();
        }
        float[] all = java.util.Arrays.copyOf(p, total);
        int off = p.length;
        for (EmbeddingBagLayer l : m.tables()) {
            int[] ids = new int[l.rows()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = i;
            }
            float[] t = l.materialize(ids);
            System.arraycopy(t, 0, all, off, t.length);
            off += t.length;
        }
        return all;
    }

    @Test
    void resumeIsBitIdentical(@TempDir Path dir) throws IOException {
        for (String optimizer : new String[] {"sgd", "adagrad"}) {
            RunConfig c = small();
            c.train.optimizer = optimizer;
            c.train.lr = optimizer.equals("sgd") ? 0.2 : 0.05;
            c.train.epochs = 5;
            c.train.maxSteps = 40; // 16 batches per epoch: crosses epoch boundaries, resumes mid-epoch
            c.train.lrWarmupSteps = 10;
            c.train.lrDecayStartStep = 25;
            c.train.lrDecaySteps = 10;
            RunConfig withEval = c.copy();
            withEval.train.evalEvery = 7; // evaluations in between must not disturb training
            withEval.train.testBatchSize = 300;
            Run full = setup(withEval.copy());
            Trainer tf = new Trainer(withEval, full.model, full.opt, full.specs, full.data, null, null, null);
            tf.setRunTest(false);
            tf.run();

            RunConfig half = c.copy();
            half.train.maxSteps = 20;
            Path ck = dir.resolve(optimizer + ".ckpt");
            Run a = setup(half.copy());
            Trainer ta = new Trainer(half, a.model, a.opt, a.specs, a.data, ck, null, null);
            ta.setRunTest(false);
            ta.run();

            RunConfig rest = Checkpoint.readHeader(ck).config();
            assertEquals(20, rest.train.maxSteps);
            rest.train.maxSteps = 40;
            rest.train.seed = c.train.seed;
            Run b = setup(rest.copy());
            Checkpoint.Header h = Checkpoint.restore(ck, b.model, b.opt);
            assertEquals(20, h.state().step());
            Trainer tb = new Trainer(rest, b.model, b.opt, b.specs, b.data, null, null, null);
            tb.resumeFrom(h.state());
            tb.setRunTest(false);
            tb.run();
            assertEquals(40, tb.state().step());
            assertEquals(tf.state(), tb.state());
            assertArrayEquals(snapshot(full.model), snapshot(b.model), optimizer + ": resumed run differs");
            // and the half-way model really differs (the test would be vacuous otherwise)
            assertTrue(!java.util.Arrays.equals(snapshot(full.model), snapshot(a.model)));
        }
    }

    /** Wraps a data set and poisons one training batch with a NaN label. */
    record Poisoned(Dataset inner, long badBatch) implements Dataset {
        @Override
        public int denseFeatures() {
            return inner.denseFeatures();
        }

        @Override
        public int[] cardinalities() {
            return inner.cardinalities();
        }

        @Override
        public long size(Split split) {
            return inner.size(split);
        }

        @Override
        public BatchStream batches(Split split, int batchSize, boolean shuffle, long seed) throws IOException {
            BatchStream s = inner.batches(split, batchSize, shuffle, seed);
            return new BatchStream() {
                long n;

                @Override
                public Batch next() throws IOException {
                    Batch b = s.next();
                    if (b != null && split == Split.TRAIN && n++ == badBatch) {
                        b.labels()[3] = Float.NaN;
                    }
                    return b;
                }

                @Override
                public void close() throws IOException {
                    s.close();
                }
            };
        }

        @Override
        public String describe() {
            return "poisoned";
        }
    }

    @Test
    void nanLossStopsWithTheLastGoodCheckpointKept(@TempDir Path dir) throws IOException {
        RunConfig c = small();
        c.train.checkpointEvery = 5;
        Run r = setup(c);
        Path ck = dir.resolve("run.ckpt");
        Trainer t = new Trainer(c, r.model, r.opt, r.specs, new Poisoned(r.data, 7), ck, null, null);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, t::run);
        assertEquals(8, e.step());
        assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("step 8")
                && e.getMessage().contains("step 5"), e.getMessage());
        assertTrue(Files.exists(ck));
        Run again = setup(c.copy());
        assertEquals(5, Checkpoint.restore(ck, again.model, again.opt).state().step());
        for (float v : again.model.parameters().toArray()) {
            assertTrue(Float.isFinite(v));
        }
    }
}
