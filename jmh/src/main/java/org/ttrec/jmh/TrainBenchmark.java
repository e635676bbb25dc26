package org.ttrec.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
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
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Training throughput of a Kaggle-shaped DLRM (dim 16, bottom 13-512-256-64-16, top
 * 367-512-256-1, dot interaction, SGD lr 0.1): one op = one full training step (forward,
 * backward, fused sparse update, dense update). The {@code samples} counter reports samples/s.
 *
 * <p>Tables have the 26 Kaggle cardinalities capped at {@code rowsCap} so the uncompressed
 * variant fits a benchmark heap. {@code tableKind}: "dense" = every table uncompressed; "tt" =
 * the 7 tables above 100,000 rows TT-compressed (3 cores, rank 32, TT-Rec's Kaggle setting),
 * the other 19 uncompressed; "tt-cache" = "tt" with TT-Rec's hot-row cache holding
 * {@code cacheFraction} of each TT table's rows, filled from lookup counts over 64 warm-up training
 * batches that are not among the measured ones. The kinds run in one JMH run, so their ratio is
 * measured on one machine state. Batches are generated before measuring, so data generation is not timed.
 *
 * <p>Run: {@code ./ttrec jmh TrainBenchmark -f 1 -wi 2 -i 3 -w 2s -r 2s}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms3g", "-Xmx3g", "-XX:+AlwaysPreTouch"})
public class TrainBenchmark {

    /** "dense", "tt" or "tt-cache" (TT with the hot-row cache, warmed up before measuring). */
    @Param({"dense", "tt", "tt-cache"})
    public String tableKind;

    /** Fraction of each TT table's rows the hot-row cache keeps ("tt-cache" only). */
    @Param({"0.01"})
    public double cacheFraction;

    /** Mini-batch size. */
    @Param({"128", "2048"})
    public int batch;

    /** Kernel threads. */
    @Param({"1", "2"})
    public int threads;

    /** Backend name. */
    @Param({"auto"})
    public String backend;

    /** Cap on every table's rows (the Kaggle tables hold up to 10M). */
    @Param({"1000000"})
    public int rowsCap;

    private static final int BATCHES = 16;
    /** Training batches the "tt-cache" kind counts lookups over before its cache is filled. */
    static final int WARMUP_BATCHES = 64;
    private ComputeBackend be;
    private DlrmModel model;
    private DenseOptimizer opt;
    private Batch[] batches;
    private int next;

    /** Counts samples so JMH reports samples/s next to steps/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Samples {
        /** Samples trained. */
        public long samples;

        /** Resets per iteration. */
        @Setup(Level.Iteration)
        public void reset() {
            samples = 0;
        }
    }

    /** Builds the model and pre-generates the batches. */
    @Setup(Level.Trial)
    public void setup() throws IOException {
        RunConfig c = Presets.get("kaggle");
        c.model.maxIndRange = rowsCap;
        c.model.tt.threshold = switch (tableKind) {
            case "tt", "tt-cache" -> 100_000;
            case "dense" -> -1;
            default -> throw new IllegalArgumentException("tableKind must be dense, tt or tt-cache, got '" + tableKind
                    + "'");
        };
        boolean cached = tableKind.equals("tt-cache");
        if (cached) {
            c.model.tt.cacheFraction = cacheFraction;
            c.model.tt.cacheWarmupSteps = WARMUP_BATCHES;
        }
        c.model.tt.rank = 32;
        c.model.tt.cores = 3;
        c.train.batchSize = batch;
        c.train.testBatchSize = batch;
        c.data.trainSamples = (long) batch * (BATCHES + (cached ? WARMUP_BATCHES : 0));
        Dataset data = TrainingSetup.openDataset(c);
        TrainingSetup.adopt(c, data);
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Runtime.getRuntime().maxMemory());
        long tt = specs.stream().filter(sp -> sp.kind() == EmbeddingTableSpec.Kind.TT).count();
        if (tt != (tableKind.equals("dense") ? 0 : 7)) {
            throw new IllegalStateException(tableKind + ": " + tt + " TT tables planned");
        }
        be = Backends.create(backend, threads);
        model = TrainingSetup.build(be, c, specs);
        opt = Trainer.optimizerFor(c, model);
        batches = new Batch[BATCHES];
        try (BatchStream s = data.batches(Split.TRAIN, batch, false, 0)) {
            if (cached) {
                // the cache counts lookups over its warm-up batches, then keeps the hottest rows;
                // measured batches are others, so their hits come from the data's skew alone
                for (int i = 0; i < WARMUP_BATCHES; i++) {
                    model.forward(s.next());
                    model.backward(opt.sparse(0.1f));
                    opt.step(0.1f, model.parameters(), model.gradients());
                }
            }
            for (int i = 0; i < BATCHES; i++) {
                batches[i] = s.next();
            }
        }
        System.out.println("\n# " + be.description() + "; " + model.describe().lines().findFirst().orElse(""));
    }

    /** Closes the backend. */
    @TearDown(Level.Trial)
    public void tearDown() {
        be.close();
    }

    /**
     * One training step.
     *
     * @param s sample counter
     * @return the loss (so the step cannot be eliminated)
     */
    @Benchmark
    public double trainStep(Samples s) {
        Batch b = batches[next];
        next = (next + 1) % BATCHES;
        double loss = model.forward(b);
        model.backward(opt.sparse(0.1f));
        opt.step(0.1f, model.parameters(), model.gradients());
        s.samples += b.size();
        return loss;
    }
}
