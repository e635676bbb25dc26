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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Square SGEMM C = A B (row-major, no transposes, beta = 0) of the scalar reference and the
 * Vector API backend at 1 and 2 threads. The score is milliseconds per product;
 * GFLOP/s = 2 size^3 / (score x 1e6). The scalar backend is single-threaded and ignores
 * {@code threads} (run it with {@code -p threads=1}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class GemmBenchmark {
    /** Matrix size (m = n = k); 1000 is the non-power-of-two case (ragged tiles). */
    @Param({"256", "1000", "1024"})
    public int size;

    /** Backend name. */
    @Param({"scalar", "cpu"})
    public String backend;

    /** Kernel threads. */
    @Param({"1", "2"})
    public int threads;

    private ComputeBackend be;
    private FloatBuf a, b, c;

    /** Random operands. */
    @Setup(Level.Trial)
    public void setup() {
        be = Backends.create(backend, threads);
        SplittableRandom r = new SplittableRandom(42);
        int n = size * size;
        float[] x = new float[n], y = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble() - 0.5f;
            y[i] = (float) r.nextDouble() - 0.5f;
        }
        a = be.upload(x);
        b = be.upload(y);
        c = be.allocFloats(n);
    }

    /** Stops the backend's threads. */
    @TearDown(Level.Trial)
    public void tearDown() {
        be.close();
    }

    /** @return C, so the product is not dead code */
    @Benchmark
    public FloatBuf sgemm() {
        be.gemm(false, false, size, size, size, 1f, a, 0, size, b, 0, size, 0f, c, 0, size);
        return c;
    }
}
