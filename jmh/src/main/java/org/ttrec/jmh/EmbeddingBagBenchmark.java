package org.ttrec.jmh;

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
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * EmbeddingBag on an uncompressed 10M x 16 table (640 MB, far beyond the caches, as Criteo's
 * large tables are): 2,048 bags of 1 or 20 uniformly random lookups, sum pooling; the forward
 * gather-and-pool, and the backward with fused SGD. Score: microseconds per batch.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class EmbeddingBagBenchmark {
    static final int ROWS = 10_000_000;
    static final int DIM = 16;
    static final int BAGS = 2048;

    /** Lookups per bag. */
    @Param({"1", "20"})
    public int lookups;

    /** Backend name. */
    @Param({"scalar", "cpu"})
    public String backend;

    /** Kernel threads (the scalar backend ignores it). */
    @Param({"1", "2"})
    public int threads;

    private ComputeBackend be;
    private FloatBuf table, out;
    private IntBuf indices, offsets;
    private final SparseOptimizer sgd = SparseOptimizer.sgd(1e-3f);

    /** Random table and lookups. */
    @Setup(Level.Trial)
    public void setup() {
        be = Backends.create(backend, threads);
        SplittableRandom r = new SplittableRandom(42);
        float[] t = new float[ROWS * DIM];
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) r.nextDouble() - 0.5f;
        }
        table = be.upload(t);
        int[] idx = new int[BAGS * lookups], off = new int[BAGS + 1];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = r.nextInt(ROWS);
        }
        for (int bag = 0; bag <= BAGS; bag++) {
            off[bag] = bag * lookups;
        }
        indices = be.upload(idx);
        offsets = be.upload(off);
        out = be.allocFloats(BAGS * DIM);
    }

    /** Stops the backend's threads. */
    @TearDown(Level.Trial)
    public void tearDown() {
        be.close();
    }

    /** @return the pooled rows */
    @Benchmark
    public FloatBuf forward() {
        be.embeddingBagForward(ROWS, DIM, table, indices, offsets, BAGS, null, Pooling.SUM, false, out, 0, DIM);
        return out;
    }

    /** @return the table, updated by SGD with {@code out} as the gradient */
    @Benchmark
    public FloatBuf backwardSgd() {
        be.embeddingBagBackward(ROWS, DIM, table, null, indices, offsets, BAGS, null, Pooling.SUM, out, 0, DIM, sgd);
        return table;
    }
}
