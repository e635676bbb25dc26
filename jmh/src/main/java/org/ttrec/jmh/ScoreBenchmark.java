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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.score.CategoricalEncoding;
import org.ttrec.dlrm.score.ScoringModel;
import org.ttrec.dlrm.score.ScoringOptions;
import org.ttrec.dlrm.train.TrainState;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Scoring through the public API ({@link ScoringModel}) of the Kaggle-shaped TT model that
 * {@link TrainBenchmark} trains (the 7 tables above 100,000 rows TT at rank 32, cardinalities
 * capped at {@code rowsCap}), loaded from a model file written from its checkpoint: the latency of
 * one-row requests (SampleTime: JMH prints p50 and p99) and the throughput of 512-row requests, each
 * on 1 and on 2 calling threads with one replica (one kernel thread) each. Rows are the workload's
 * training rows (Zipf-skewed indices) with random raw counts as dense features; pre-built per thread,
 * so their making is not timed.
 *
 * <p>Compare with the training throughput of the same model in the same run:
 * {@code ./ttrec jmh 'ScoreBenchmark|TrainBenchmark' -p tableKind=tt -p batch=128 -p threads=1,2 -f 1 -wi 2 -i 3 -w 2s -r 2s}
 * (batch-512 samples/s = the {@code samples} line of {@code batch512*}).
 */
@State(Scope.Benchmark)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms3g", "-Xmx3g", "-XX:+AlwaysPreTouch"})
public class ScoreBenchmark {
    /** Cap on every table's rows, as in {@link TrainBenchmark}. */
    @Param({"1000000"})
    public int rowsCap;

    private ScoringModel model;
    private int[][] indices;
    private int pool;

    /** Trains the workload a few steps, checkpoints it, writes the model file and loads it. */
    @Setup(Level.Trial)
    public void setup() throws IOException {
        Path dir = Files.createTempDirectory("ttrec-score-bench");
        Path file;
        try (TrainWorkload w = new TrainWorkload("tt", 512, "cpu", 1, 0, rowsCap, 0)) {
            for (int i = 0; i < 4; i++) {
                w.step();
            }
            file = w.writeModelFile(dir, new TrainState(4, 0, 4, 4L * 512));
            indices = w.rowIndices();
        }
        long t0 = System.nanoTime();
        model = ScoringModel.load(file, ScoringOptions.defaults().withBackend("cpu"));
        System.out.printf("%n# model file %,d bytes, loaded in %.1f ms; %s%n", Files.size(file), (System.nanoTime() - t0) / 1e6,
                Presets.get("kaggle").model);
        Files.delete(file);
        Files.delete(dir.resolve("ck.ttrec"));
        Files.delete(dir);
        pool = indices.length;
        if (pool < 512) {
            throw new IllegalStateException("need at least 512 rows, have " + pool + " (-Dsamples)");
        }
    }

    /** Releases the replicas and the mapping. */
    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }

    /** One calling thread's requests, made before measuring: the pool cut into 1-row and 512-row requests. */
    @State(Scope.Thread)
    public static class Requests {
        float[][] dense1, dense512;
        int[][] cat1, cat512;
        float[] out = new float[512];
        int next1, next512;

        /** Copies rows of the workload (a different start per thread) and draws raw counts. */
        @Setup(Level.Trial)
        public void setup(ScoreBenchmark b) {
            int rows = b.pool, t = b.indices[0].length;
            SplittableRandom rnd = new SplittableRandom(Thread.currentThread().threadId());
            float[] dense = new float[rows * 13];
            int[] cat = new int[rows * t];
            int shift = rnd.nextInt(rows);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(b.indices[(r + shift) % rows], 0, cat, r * t, t);
                for (int j = 0; j < 13; j++) {
                    dense[r * 13 + j] = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(1000);
                }
            }
            dense1 = new float[rows][];
            cat1 = new int[rows][];
            for (int r = 0; r < rows; r++) {
                dense1[r] = Arrays.copyOfRange(dense, r * 13, (r + 1) * 13);
                cat1[r] = Arrays.copyOfRange(cat, r * t, (r + 1) * t);
            }
            int k = rows / 512;
            dense512 = new float[k][];
            cat512 = new int[k][];
            for (int i = 0; i < k; i++) {
                dense512[i] = Arrays.copyOfRange(dense, i * 512 * 13, (i + 1) * 512 * 13);
                cat512[i] = Arrays.copyOfRange(cat, i * 512 * t, (i + 1) * 512 * t);
            }
        }
    }

    /** Samples scored, for samples/s next to calls/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Samples {
        /** Samples scored. */
        public long samples;

        /** Resets per iteration. */
        @Setup(Level.Iteration)
        public void reset() {
            samples = 0;
        }
    }

    private float one(Requests q) {
        int i = q.next1;
        q.next1 = i + 1 == q.dense1.length ? 0 : i + 1;
        model.predict(1, q.dense1[i], q.cat1[i], CategoricalEncoding.INDEX, q.out);
        return q.out[0];
    }

    private float batch(Requests q, Samples s) {
        int i = q.next512;
        q.next512 = i + 1 == q.dense512.length ? 0 : i + 1;
        model.predict(512, q.dense512[i], q.cat512[i], CategoricalEncoding.INDEX, q.out);
        s.samples += 512;
        return q.out[0];
    }

    /** @return one row's probability; latency on one thread */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Threads(1)
    public float latency1Thread(Requests q) {
        return one(q);
    }

    /** @return one row's probability; latency with two threads scoring at once */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Threads(2)
    public float latency2Threads(Requests q) {
        return one(q);
    }

    /** @return the first of 512 probabilities; throughput on one thread */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(1)
    public float batch512Thread1(Requests q, Samples s) {
        return batch(q, s);
    }

    /** @return the first of 512 probabilities; throughput with two threads scoring at once */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public float batch512Threads2(Requests q, Samples s) {
        return batch(q, s);
    }
}
