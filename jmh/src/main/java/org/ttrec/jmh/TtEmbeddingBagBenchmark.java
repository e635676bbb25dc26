package org.ttrec.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.cpu.VectorTtKernels;
import org.ttrec.engine.cpu.WorkerPool;
import org.ttrec.engine.tt.TtInit;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * TT-EmbeddingBag throughput on Criteo Kaggle's largest table (N = 10,131,227, p = (200, 220,
 * 250)) against the uncompressed EmbeddingBag of the same table. A batch is 2048 bags of
 * 1 ({@code _L1}) or 20 ({@code _L20}) random rows (uniform, or Zipf-like skewed); scores are
 * lookups per second (@OperationsPerInvocation = 2048 * lookups per bag).
 *
 * <p>Example: {@code java -jar jmh/target/benchmarks.jar TtEmbeddingBagBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g", "-XX:+UseParallelGC"})
public class TtEmbeddingBagBenchmark {
    static final int N = 10_131_227;
    static final int[] P = {200, 220, 250};
    static final int BAGS = 2048;
    static final int BATCHES = 8;

    /** The batches (shared by the TT and dense states): 2048 bags of 1 and of 20 lookups. */
    @State(Scope.Benchmark)
    public static class Batches {
        /** Index distribution: "uniform" or "zipf" (P(rank r) ~ 1/r, ranks scattered over the table). */
        @Param({"uniform"})
        public String dist;

        int[][] one, twenty;
        int[] offsets1, offsets20;
        int next1, next20;

        @Setup(Level.Trial)
        public void setUp() {
            SplittableRandom rnd = new SplittableRandom(42);
            one = make(rnd, 1);
            twenty = make(rnd, 20);
            offsets1 = offsets(1);
            offsets20 = offsets(20);
        }

        private int[][] make(SplittableRandom rnd, int lookups) {
            int[][] batches = new int[BATCHES][BAGS * lookups];
            for (int[] batch : batches) {
                for (int j = 0; j < batch.length; j++) {
                    batch[j] = switch (dist) {
                        case "uniform" -> rnd.nextInt(N);
                        case "zipf" -> {
                            // log-uniform rank ~ Zipf(1); an odd multiplier coprime to N scatters ranks over rows
                            long rank = (long) Math.pow(N + 1.0, rnd.nextDouble()) - 1;
                            yield (int) ((Math.min(rank, N - 1) * 2_654_435_761L) % N);
                        }
                        default -> throw new IllegalArgumentException("dist must be uniform or zipf, got " + dist);
                    };
                }
            }
            return batches;
        }

        private static int[] offsets(int lookups) {
            int[] o = new int[BAGS + 1];
            for (int b = 0; b <= BAGS; b++) {
                o[b] = b * lookups;
            }
            return o;
        }

        int[] batch(int lookups) {
            if (lookups == 1) {
                next1 = (next1 + 1) % BATCHES;
                return one[next1];
            }
            next20 = (next20 + 1) % BATCHES;
            return twenty[next20];
        }

        int[] offsets(int lookups, boolean unused) {
            return lookups == 1 ? offsets1 : offsets20;
        }
    }

    /** TT cores and the Vector API kernels. */
    @State(Scope.Benchmark)
    public static class Tt {
        /** "D:q1xq2xq3:R" (JMH splits parameter values at commas). */
        @Param({"16:2x2x4:32", "64:4x4x4:32", "64:4x4x4:64"})
        public String config;
        /** Kernel threads. */
        @Param({"1", "2"})
        public int threads;

        TtShape shape;
        float[][] cores;
        VectorTtKernels kernels;
        WorkerPool pool;
        float[] out;
        float[] grad;

        @Setup(Level.Trial)
        public void setUp() {
            String[] parts = config.split(":");
            int dim = Integer.parseInt(parts[0]);
            String[] qs = parts[1].split("x");
            int[] q = new int[qs.length];
            for (int k = 0; k < q.length; k++) {
                q[k] = Integer.parseInt(qs[k]);
            }
            shape = TtShape.uniformRank(N, P, q, Integer.parseInt(parts[2]));
            cores = TtInit.sampledGaussian().create(shape, 1);
            pool = threads > 1 ? new WorkerPool(threads, "bench") : null;
            // as a TT table does: the cores change only through the backward, so the backward
            // may reuse its forward's products
            kernels = new VectorTtKernels(pool, threads, true);
            out = new float[BAGS * dim];
            grad = new float[BAGS * dim];
            SplittableRandom rnd = new SplittableRandom(7);
            for (int i = 0; i < grad.length; i++) {
                grad[i] = (float) rnd.nextDouble(-1e-3, 1e-3);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (pool != null) {
                pool.close();
            }
        }
    }

    /** The uncompressed table on a backend found through {@link Backends}. */
    @State(Scope.Benchmark)
    public static class Dense {
        /** Backend name; a backend that cannot run here fails this state's set-up with the reason. */
        @Param({"cpu"})
        public String backend;
        /** Kernel threads. */
        @Param({"1", "2"})
        public int denseThreads;

        ComputeBackend be;
        FloatBuf table;
        FloatBuf out;
        FloatBuf grad;
        IntBuf offsets1, offsets20;
        /** Each pre-generated batch, uploaded once (the plans of a training step do the same per batch). */
        final java.util.Map<int[], IntBuf> uploaded = new java.util.IdentityHashMap<>();
        static final int DIM = 16;

        @Setup(Level.Trial)
        public void setUp(Batches batches) {
            if (!Backends.availableNames().contains(backend)) {
                String msg = "dense EmbeddingBag benchmark skipped: backend '" + backend + "' is not available here ("
                        + Backends.availableNames() + ")";
                System.out.println(msg);
                throw new IllegalStateException(msg);
            }
            be = Backends.create(backend, denseThreads);
            float[] t = new float[N * DIM];
            SplittableRandom rnd = new SplittableRandom(3);
            float a = (float) Math.sqrt(1.0 / N);
            for (int i = 0; i < t.length; i++) {
                t[i] = (float) rnd.nextDouble(-a, a);
            }
            table = be.upload(t);
            out = be.allocFloats(BAGS * DIM);
            float[] g = new float[BAGS * DIM];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) rnd.nextDouble(-1e-3, 1e-3);
            }
            grad = be.upload(g);
            offsets1 = be.upload(batches.offsets1);
            offsets20 = be.upload(batches.offsets20);
            for (int[][] set : new int[][][] {batches.one, batches.twenty}) {
                for (int[] batch : set) {
                    uploaded.put(batch, be.upload(batch));
                }
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (be != null) {
                be.close();
            }
        }
    }

    private static final SparseOptimizer SGD = SparseOptimizer.sgd(0.01f);

    private static void tt(Batches b, Tt tt, int lookups, boolean backward, Blackhole bh) {
        int[] idx = b.batch(lookups);
        int[] off = b.offsets(lookups, true);
        int dim = tt.shape.dim();
        tt.kernels.prepare(tt.shape, idx, off, BAGS);
        tt.kernels.forward(tt.cores, null, Pooling.SUM, false, tt.out, 0, dim);
        if (backward) {
            tt.kernels.backward(tt.cores, null, null, Pooling.SUM, tt.grad, 0, dim, SGD);
        }
        bh.consume(tt.out);
    }

    private static void dense(Batches b, Dense dn, int lookups, boolean backward, Blackhole bh) {
        ComputeBackend be = dn.be;
        IntBuf idx = dn.uploaded.get(b.batch(lookups));
        IntBuf off = lookups == 1 ? dn.offsets1 : dn.offsets20;
        be.embeddingBagForward(N, Dense.DIM, dn.table, idx, off, BAGS, null, Pooling.SUM, false, dn.out, 0, Dense.DIM);
        if (backward) {
            be.embeddingBagBackward(N, Dense.DIM, dn.table, null, idx, off, BAGS, null, Pooling.SUM, dn.grad, 0,
                    Dense.DIM, SGD);
        }
        bh.consume(dn.out);
    }

    /** TT forward, bags of 1 lookup. */
    @Benchmark
    @OperationsPerInvocation(BAGS)
    public void ttForward_L1(Batches b, Tt tt, Blackhole bh) {
        tt(b, tt, 1, false, bh);
    }

    /** TT forward, bags of 20 lookups. */
    @Benchmark
    @OperationsPerInvocation(BAGS * 20)
    public void ttForward_L20(Batches b, Tt tt, Blackhole bh) {
        tt(b, tt, 20, false, bh);
    }

    /** TT forward + backward with fused SGD, bags of 1 lookup. */
    @Benchmark
    @OperationsPerInvocation(BAGS)
    public void ttFwdBwdSgd_L1(Batches b, Tt tt, Blackhole bh) {
        tt(b, tt, 1, true, bh);
    }

    /** TT forward + backward with fused SGD, bags of 20 lookups. */
    @Benchmark
    @OperationsPerInvocation(BAGS * 20)
    public void ttFwdBwdSgd_L20(Batches b, Tt tt, Blackhole bh) {
        tt(b, tt, 20, true, bh);
    }

    /** Uncompressed forward (D = 16), bags of 1 lookup. */
    @Benchmark
    @OperationsPerInvocation(BAGS)
    public void denseForward_L1(Batches b, Dense dn, Blackhole bh) {
        dense(b, dn, 1, false, bh);
    }

    /** Uncompressed forward (D = 16), bags of 20 lookups. */
    @Benchmark
    @OperationsPerInvocation(BAGS * 20)
    public void denseForward_L20(Batches b, Dense dn, Blackhole bh) {
        dense(b, dn, 20, false, bh);
    }

    /** Uncompressed forward + backward with fused SGD (D = 16), bags of 1 lookup. */
    @Benchmark
    @OperationsPerInvocation(BAGS)
    public void denseFwdBwdSgd_L1(Batches b, Dense dn, Blackhole bh) {
        dense(b, dn, 1, true, bh);
    }

    /** Uncompressed forward + backward with fused SGD (D = 16), bags of 20 lookups. */
    @Benchmark
    @OperationsPerInvocation(BAGS * 20)
    public void denseFwdBwdSgd_L20(Batches b, Dense dn, Blackhole bh) {
        dense(b, dn, 20, true, bh);
    }
}
