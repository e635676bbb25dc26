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

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Training throughput of a Kaggle-shaped DLRM (dim 16, bottom 13-512-256-64-16, top
 * 367-512-256-1, dot interaction, SGD lr 0.1): one op = one full training step (forward,
 * backward, fused sparse update, dense update). The {@code samples} counter reports samples/s.
 *
 * <p>The workload ({@link TrainWorkload}) caps the 26 Kaggle cardinalities at {@code rowsCap} so
 * the uncompressed variant fits a benchmark heap; {@code tableKind} is "dense", "tt" (the 7 big
 * tables TT-compressed at rank 32) or "tt-cache" ("tt" plus the hot-row cache, filled from
 * unmeasured warm-up batches). The kinds run in one JMH run, so their ratio is measured on one
 * machine state. Batches are generated before measuring, so data generation is not timed.
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

    /**
     * Threads of a second backend for the embedding tables, whose work then runs beside the
     * bottom MLP (0: tables on the kernel threads, inline).
     */
    @Param({"0"})
    public int tableThreads;

    /** Backend name. */
    @Param({"auto"})
    public String backend;

    /** Cap on every table's rows (the Kaggle tables hold up to 10M). */
    @Param({"1000000"})
    public int rowsCap;

    private TrainWorkload w;

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
        w = new TrainWorkload(tableKind, batch, backend, threads, tableThreads, rowsCap, cacheFraction);
        System.out.println("\n# " + w.be.description() + "; " + w.model.describe().lines().findFirst().orElse(""));
    }

    /** Closes the backend. */
    @TearDown(Level.Trial)
    public void tearDown() {
        w.close();
    }

    /**
     * One training step, as the trainer runs it (the loss stays on the backend).
     *
     * @param s sample counter
     */
    @Benchmark
    public void trainStep(Samples s) {
        w.step();
        s.samples += w.batchSize();
    }
}
