package org.ttrec.jmh;

import org.ttrec.engine.*;
import org.ttrec.engine.cpu.VectorTtKernels;
import org.ttrec.engine.tt.TtInit;
import java.lang.management.*;
import java.util.*;

/**
 * Quick TT-EmbeddingBag harness for a shared, noisy machine: single-threaded kernels, throughput
 * from this thread's CPU time (not wall time), best of {@code -Dreps} (default 6) windows. Same workload as
 * {@link TtEmbeddingBagBenchmark} (2048 bags of 1 and 20 uniform lookups, SGD). JMH stays the
 * reference for reported numbers; this is for A/B runs of two builds in one session.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp <classes> org.ttrec.jmh.TtPhaseHarness
 * [D:q1xq2xq3:R,...] [seconds per window]}; {@code -Dfwdonly=1} skips fwd+bwd, {@code -Dfwdbwdonly=true} the forward alone, {@code -Dlookups=1,20}
 * and {@code -Dbags=2048} set the batch,
 * {@code -Dn=10131227 -Dp=200,220,250} the table, {@code -Dthreads=1} the kernel threads (above 1,
 * wall time, or with {@code -Dwall=true}); {@code -DnotOwned=true} keeps no forward products for the backward.
 */
public class TtPhaseHarness {
    static final int N = Integer.getInteger("n", 10_131_227); static final int[] P = Arrays.stream(System.getProperty("p", "200,220,250").split(",")).mapToInt(Integer::parseInt).toArray(); static final int BAGS = Integer.getInteger("bags", 2048);
    public static void main(String[] a) throws Exception {
        String[] configs = a.length > 0 ? a[0].split(",") : new String[]{"16:2x2x4:32","64:4x4x4:32","64:4x4x4:64"};
        double secs = a.length > 1 ? Double.parseDouble(a[1]) : 1.5;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (String config : configs) {
            String[] parts = config.split(":");
            int dim = Integer.parseInt(parts[0]);
            String[] qs = parts[1].split("x"); int[] q = new int[qs.length];
            for (int k = 0; k < q.length; k++) q[k] = Integer.parseInt(qs[k]);
            TtShape shape = TtShape.uniformRank(N, P, q, Integer.parseInt(parts[2]));
            float[][] cores = TtInit.sampledGaussian().create(shape, 1);
            int th = Integer.getInteger("threads", 1);
            // as a TT table does, unless -DnotOwned=true: the backward reuses its forward's products
            VectorTtKernels kern = new VectorTtKernels(th > 1 ? new org.ttrec.engine.cpu.WorkerPool(th, "harness") : null, th,
                    !Boolean.getBoolean("notOwned"));
            float[] out = new float[BAGS*dim], grad = new float[BAGS*dim];
            SplittableRandom rnd = new SplittableRandom(7);
            for (int i = 0; i < grad.length; i++) grad[i] = (float) rnd.nextDouble(-1e-3, 1e-3);
            for (int lookups : Arrays.stream(System.getProperty("lookups", "1,20").split(",")).mapToInt(Integer::parseInt).toArray()) {
                int[][] batches = new int[8][BAGS*lookups];
                for (int[] b : batches) for (int j = 0; j < b.length; j++) b[j] = rnd.nextInt(N);
                int[] off = new int[BAGS+1]; for (int b = 0; b <= BAGS; b++) off[b] = b*lookups;
                SparseOptimizer sgd = SparseOptimizer.sgd(0.01f);
                for (int mode = Boolean.getBoolean("fwdbwdonly") ? 1 : 0; mode < (System.getProperty("fwdonly") != null ? 1 : 2); mode++) {
                    double best = 0; int REPS = Integer.getInteger("reps", 6);
                    for (int rep = 0; rep < REPS; rep++) { // rep 0 = warmup
                        long t0 = clock(mx, th); long calls = 0; int bi = 0;
                        while (clock(mx, th) - t0 < secs * 1e9) {
                            int[] idx = batches[bi++ & 7];
                            kern.prepare(shape, idx, off, BAGS);
                            kern.forward(cores, null, Pooling.SUM, false, out, 0, dim);
                            if (mode == 1) kern.backward(cores, null, null, Pooling.SUM, grad, 0, dim, sgd);
                            calls++;
                        }
                        long t = clock(mx, th) - t0;
                        double rate0 = calls * (double) BAGS * lookups / (t / 1e9); if (rep > 0) best = Math.max(best, rate0);
                        if (rep == REPS - 1) {
                            double rate = best; t = (long) (1e9 * calls * BAGS * lookups / best);
                            System.out.printf("%-12s L%-2d %-7s %8.3f M lookups/s (%.0f us/call)%n", config, lookups, mode==0?"fwd":"fwdbwd", rate/1e6, t/1e3/calls);
                        }
                    }
                }
            }
        }
    }
    /** This thread's CPU time on one thread; wall time when pool threads share the work. */
    static long clock(ThreadMXBean mx, int threads) {
        return threads > 1 || Boolean.getBoolean("wall") ? System.nanoTime() : mx.getCurrentThreadCpuTime();
    }
}
