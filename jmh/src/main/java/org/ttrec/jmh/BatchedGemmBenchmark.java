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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Batched small GEMM in the shapes of the TT-EmbeddingBag contraction: 65,536 products of
 * (m x k)(k x n), {@code 2x32x64} and {@code 4x32x4} (m x k x n). Every product has its own A
 * and C; B comes from a pool of 256 matrices (TT core slices repeat across lookups). The
 * {@code gathered} variant addresses them by offset lists, the {@code strided} one uses fixed
 * strides with B shared (stride 0). Score: milliseconds per batch; GFLOP/s =
 * 2 m n k 65536 / (score x 1e6).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BatchedGemmBenchmark {
    static final int BATCH = 65536;
    static final int POOL = 256;

    /** m x k x n. */
    @Param({"2x32x64", "4x32x4"})
    public String shape;

    /** Backend name. */
    @Param({"scalar", "cpu"})
    public String backend;

    /** Kernel threads (the scalar backend ignores it). */
    @Param({"1", "2"})
    public int threads;

    private ComputeBackend be;
    private int m, n, k;
    private FloatBuf a, b, c;
    private IntBuf aOffs, bOffs, cOffs;

    /** Random operands and offset lists. */
    @Setup(Level.Trial)
    public void setup() {
        String[] s = shape.split("x");
        m = Integer.parseInt(s[0]);
        k = Integer.parseInt(s[1]);
        n = Integer.parseInt(s[2]);
        be = Backends.create(backend, threads);
        SplittableRandom r = new SplittableRandom(42);
        a = be.upload(random(r, BATCH * m * k));
        b = be.upload(random(r, POOL * k * n));
        c = be.allocFloats(BATCH * m * n);
        int[] ao = new int[BATCH], bo = new int[BATCH], co = new int[BATCH];
        for (int x = 0; x < BATCH; x++) {
            ao[x] = x * m * k;
            bo[x] = r.nextInt(POOL) * k * n;
            co[x] = x * m * n;
        }
        aOffs = be.upload(ao);
        bOffs = be.upload(bo);
        cOffs = be.upload(co);
    }

    static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble() - 0.5f;
        }
        return v;
    }

    /** Stops the backend's threads. */
    @TearDown(Level.Trial)
    public void tearDown() {
        be.close();
    }

    /** @return C */
    @Benchmark
    public FloatBuf gathered() {
        be.gemmBatched(false, false, m, n, k, 1f, a, aOffs, k, b, bOffs, n, 0f, c, cOffs, n, 0, BATCH);
        return c;
    }

    /** @return C */
    @Benchmark
    public FloatBuf strided() {
        be.gemmStridedBatched(false, false, m, n, k, 1f, a, 0, k, m * k, b, 0, n, 0, 0f, c, 0, n, m * n, BATCH);
        return c;
    }
}
