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
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The GEMMs of one Kaggle-shaped training step's MLPs and nothing else: for every layer of the
 * bottom (13-512-256-64-16) and top (367-512-256-1) MLPs the forward y = x W^T, the weight
 * gradient dW = dy^T x and (but for the first layer) the input gradient dx = dy W, each as the
 * {@code gemm} call {@code linearForward}/{@code linearBackward} make, at batch {@code batch}.
 * One op = one step's 20 products; the {@code flops} counter reports FLOP/s (divide by
 * PeakBenchmark's score x lanes x 2 for the fraction of FMA peak). It isolates the small-m GEMM
 * shapes that dominate the batch-128 step from the rest of it.
 *
 * <p>Run: {@code ./ttrec jmh MlpGemmBenchmark -p threads=1}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms1g", "-Xmx1g"})
public class MlpGemmBenchmark {

    /** Layer widths of the bottom MLP, then of the top MLP (input width first). */
    private static final int[][] MLPS = {{13, 512, 256, 64, 16}, {367, 512, 256, 1}};

    /** Mini-batch size: the m of the forward and input-gradient products. */
    @Param({"128", "2048"})
    public int batch;

    /** Backend name. */
    @Param({"cpu"})
    public String backend;

    /** Kernel threads. */
    @Param({"1"})
    public int threads;

    private ComputeBackend be;
    /** Per layer: x (batch x in), W (out x in), y and dy (batch x out), dW, dx. */
    private FloatBuf[][] bufs;
    private int[][] shapes;
    private long flopsPerOp;

    /** Counts floating-point operations so JMH reports FLOP/s next to steps/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        /** Multiply-adds x 2. */
        public long flops;
    }

    /** Random operands for every layer. */
    @Setup(Level.Trial)
    public void setup() {
        be = Backends.create(backend, threads);
        SplittableRandom r = new SplittableRandom(7);
        int layers = 0;
        for (int[] mlp : MLPS) {
            layers += mlp.length - 1;
        }
        bufs = new FloatBuf[layers][];
        shapes = new int[layers][];
        int l = 0;
        for (int[] mlp : MLPS) {
            for (int i = 0; i + 1 < mlp.length; i++, l++) {
                int in = mlp[i], out = mlp[i + 1];
                boolean first = i == 0 && mlp == MLPS[0];
                shapes[l] = new int[] {in, out, first ? 1 : 0};
                bufs[l] = new FloatBuf[] {rand(r, batch * in), rand(r, out * in), be.allocFloats(batch * out),
                        rand(r, batch * out), be.allocFloats(out * in), be.allocFloats(batch * in)};
                flopsPerOp += 2L * batch * in * out * (first ? 2 : 3);
            }
        }
    }

    private FloatBuf rand(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble() - 0.5f;
        }
        return be.upload(x);
    }

    /** Stops the backend's threads. */
    @TearDown(Level.Trial)
    public void tearDown() {
        be.close();
    }

    /**
     * One step's MLP products.
     *
     * @param f the FLOP counter
     * @return the backend, so the products are not dead code
     */
    @Benchmark
    public ComputeBackend products(Flops f) {
        int m = batch;
        for (int l = 0; l < shapes.length; l++) {
            int in = shapes[l][0], out = shapes[l][1];
            FloatBuf[] b = bufs[l];
            be.gemm(false, true, m, out, in, 1f, b[0], 0, in, b[1], 0, in, 0f, b[2], 0, out);
            be.gemm(true, false, out, in, m, 1f, b[3], 0, out, b[0], 0, in, 0f, b[4], 0, in);
            if (shapes[l][2] == 0) {
                be.gemm(false, false, m, in, out, 1f, b[3], 0, out, b[1], 0, in, 0f, b[5], 0, in);
            }
        }
        f.flops += flopsPerOp;
        return be;
    }
}
