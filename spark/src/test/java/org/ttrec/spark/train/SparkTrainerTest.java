package org.ttrec.spark.train;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.Evaluator;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Data-parallel training and distributed evaluation in local[2] (two task attempts allowed, for the retry test). */
class SparkTrainerTest {
    private static JavaSparkContext sc;
    private static final AtomicInteger FAILED_TASKS = new AtomicInteger();
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @BeforeAll
    static void start() {
        sc = new JavaSparkContext(new SparkConf().setMaster("local[2,2]").setAppName("SparkTrainerTest")
                .set("spark.ui.enabled", "false")
                .set("spark.serializer.extraDebugInfo", "false")); // its debugger needs a class JDK 25 lacks
        sc.sc().addSparkListener(new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd e) {
                if (!e.taskInfo().successful()) {
                    FAILED_TASKS.incrementAndGet();
                }
            }
        });
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    static RunConfig config(long trainSamples) {
        RunConfig c = Presets.get("tiny");
        c.train.backend = "cpu";
        c.train.threads = 1;
        c.train.progress = false;
        c.data.trainSamples = trainSamples;
        c.train.batchSize = 64;
        c.train.testBatchSize = 500;
        c.train.evalEvery = 0;
        c.train.optimizer = "adagrad";
        c.train.lr = 0.05;
        // smaller tables than tiny's (three of them TT): a few hundred thousand samples train them well
        c.model.tableRows = new int[] {4, 10, 40, 100, 300, 1000, 2000, 5000, 20_000, 50_000};
        c.model.tt.threshold = 3000;
        return c;
    }

    /** The single-machine run of a config, and its model's state and metrics. */
    record Single(ModelState state, BinaryMetrics.Result validation, BinaryMetrics.Result test) {}

    static Single single(RunConfig config) throws IOException {
        RunConfig c = config.copy();
        try (Dataset d = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, d);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            try (ComputeBackend be = Backends.create("cpu", 1); DlrmModel m = TrainingSetup.build(be, c, specs)) {
                DenseOptimizer opt = Trainer.optimizerFor(c, m);
                Trainer t = new Trainer(c, m, opt, specs, d, null, null, null);
                t.setRunTest(false);
                t.setFinalValidation(false);
                t.run();
                return new Single(ModelState.capture(m, opt), Evaluator.evaluate(m, d, Split.VALIDATION, c.train.testBatchSize),
                        Evaluator.evaluate(m, d, Split.TEST, c.train.testBatchSize));
            }
        }
    }

    static void assertSameState(ModelState a, ModelState b, String what) {
        List<float[]> x = a.arrays(), y = b.arrays();
        assertEquals(x.size(), y.size(), what + ": arrays");
        for (int i = 0; i < x.size(); i++) {
            assertArrayEquals(x.get(i), y.get(i), what + ": array " + i);
        }
    }

    @Test
    void oneReplicaIsTheSingleMachineRunExactly(@TempDir Path dir) throws IOException {
        RunConfig c = config(6_000);
        c.train.maxSteps = 24;
        Single one = single(c);
        for (int k : new int[] {1, 7}) {
            // both combines reduce to the one replica's state, exactly
            Combine how = k == 1 ? Combine.SUM : Combine.AVERAGE;
            SparkTrainer.Result r = SparkTrainer.run(sc, c, new SparkTrainOptions(1, k, 1, 2, true, how, how, null),
                    dir.resolve("k" + k), false, QUIET);
            assertEquals((24 + k - 1) / k, r.rounds().size(), "rounds at K=" + k);
            assertEquals(24, r.positions()[0].step());
            assertSameState(one.state(), r.state(), "one replica, K=" + k);
            // the distributed evaluation (2 tasks) scores as one machine does
            assertEquals(one.validation().auc(), r.validation().auc(), 0.0, "validation AUC");
            assertEquals(one.validation().accuracy(), r.validation().accuracy(), 0.0);
            assertEquals(one.test().auc(), r.test().auc(), 0.0, "test AUC");
            assertEquals(one.test().count(), r.test().count());
            assertEquals(one.test().logLoss(), r.test().logLoss(), 1e-12 * one.test().logLoss());
        }
    }

    @Test
    void twoReplicasReachTheSingleMachineAuc(@TempDir Path dir) throws IOException {
        RunConfig c = config(150_000);
        c.train.epochs = 2;
        c.train.optimizer = "sgd"; // tiny's own optimiser and rate
        c.train.lr = 0.2;
        Single one = single(c);
        SparkTrainer.Result r = SparkTrainer.run(sc, c, SparkTrainOptions.of(2, 50), dir, false, QUIET);
        System.out.printf("single machine: test %s%n2 replicas, K=50: test %s (%.0f samples/s over %d rounds)%n",
                one.test(), r.test(), r.samplesPerSec(), r.rounds().size());
        assertTrue(one.test().auc() > 0.7, "the single-machine run learns: " + one.test());
        // the global batch of 64 is shared, 32 per replica: each replica takes one machine's number of steps
        assertEquals(2 * ((150_000 + 63) / 64), r.positions()[0].step(), 2);
        // reaches it: at most 0.003 below (on this short run, two replicas' averaging may even come out ahead),
        // and never far off either way
        assertTrue(r.test().auc() >= one.test().auc() - 0.003, "2 replicas " + r.test() + " against one machine " + one.test());
        assertEquals(one.test().auc(), r.test().auc(), 0.01, "test AUC of 2 replicas against one machine");
        assertFalse(java.util.Arrays.equals(one.state().arrays().get(0), r.state().arrays().get(0)),
                "two replicas are not the single-machine run");
    }

    @Test
    void aFailedReplicaIsRetriedAndTheResultIsTheSame(@TempDir Path dir) throws IOException {
        RunConfig c = config(6_000);
        c.train.maxSteps = 15;
        SparkTrainer.Result clean = SparkTrainer.run(sc, c, SparkTrainOptions.of(2, 5),
                dir.resolve("clean"), false, QUIET);
        int before = FAILED_TASKS.get();
        SparkTrainer.Result retried = SparkTrainer.run(sc, c, SparkTrainOptions.of(2, 5).withFailOnce("1:1"),
                dir.resolve("retried"), false, QUIET);
        assertEquals(before + 1, FAILED_TASKS.get(), "the hook failed one task attempt");
        assertSameState(clean.state(), retried.state(), "with a retried replica");
        assertEquals(clean.test(), retried.test());
    }

    @Test
    void aStoppedJobResumesFromItsLastRound(@TempDir Path dir) throws IOException {
        RunConfig c = config(6_000);
        c.train.maxSteps = 20;
        SparkTrainOptions o = SparkTrainOptions.of(2, 5);
        SparkTrainer.Result whole = SparkTrainer.run(sc, c, o, dir.resolve("whole"), false, QUIET);
        RunConfig half = c.copy();
        half.train.maxSteps = 10;
        SparkTrainer.run(sc, half, o, dir.resolve("resumed"), false, QUIET);
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> SparkTrainer.run(sc, c, SparkTrainOptions.of(2, 7), dir.resolve("resumed"), true, QUIET));
        assertTrue(other.getMessage().contains("it has 2 replicas and 5 steps per round"), other.getMessage());
        SparkTrainer.Result rest = SparkTrainer.run(sc, c, o, dir.resolve("resumed"), true, QUIET);
        assertEquals(2, rest.rounds().size(), "rounds 3 and 4 only");
        assertSameState(whole.state(), rest.state(), "resumed after round 2");
        assertEquals(20, rest.positions()[1].step());
    }

    @Test
    void impossibleSetupsAreRefusedBeforeAnyTask(@TempDir Path dir) {
        RunConfig c = config(6_000);
        c.model.tt.cacheFraction = 0.05;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SparkTrainer.run(sc, c, SparkTrainOptions.of(2, 5), dir.resolve("a"), false, QUIET));
        assertTrue(e.getMessage().contains("hot-row cache"), e.getMessage());
        RunConfig tiny = config(60);
        e = assertThrows(IllegalArgumentException.class,
                () -> SparkTrainer.run(sc, tiny, SparkTrainOptions.of(64, 5), dir.resolve("b"), false, QUIET));
        assertTrue(e.getMessage().contains("replicas"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SparkTrainOptions.of(2, 0));
    }
}
