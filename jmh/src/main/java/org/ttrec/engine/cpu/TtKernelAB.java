package org.ttrec.engine.cpu;

import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.tt.TtInit;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Paired A/B of two {@link VectorTtKernels} configurations on a noisy machine: two kernel
 * instances in one JVM, each with its own cores, the same batches; they take turns in short
 * windows of this thread's CPU time, and the result is the median over windows of A's rate
 * divided by B's in the window next to it. Host noise that lasts longer than a window (this
 * project's VMs swing by up to 2x) hits both sides of a pair, which separate JVMs or best-of-N
 * runs cannot promise. A is a table's kernels as the engine runs them (single-threaded, keeping
 * the forward's products for the backward). B is {@code none}: the same, a control whose ratio
 * shows the harness's own spread; or {@code reuse}: B recomputes the forward's products in the
 * backward instead of keeping them. (The kernels' other variants are chosen by the inputs; their
 * A/B history is in bench/README.) To compare two builds, load each in a class loader of its own
 * and alternate the same way.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar
 * org.ttrec.engine.cpu.TtKernelAB <none|reuse> [lookups]}; {@code -Dbags=2048}, {@code
 * -Dn=10131227 -Dp=200,220,250} (the table, D16 q = (2, 2, 4) R32), {@code -Dwindows=30},
 * {@code -DwindowMs=200}, {@code -Dfwdonly=true}.
 */
public final class TtKernelAB {
    private TtKernelAB() {
    }

    /**
     * Entry point.
     *
     * @param a B's configuration ({@code none} or {@code reuse}), then lookups per bag (default 1)
     */
    public static void main(String[] a) {
        if (a.length < 1) {
            throw new IllegalArgumentException("usage: TtKernelAB <none|reuse> [lookups]");
        }
        String b = a[0];
        boolean bKeeps = switch (b) {
            case "none" -> true;
            case "reuse" -> false;
            default -> throw new IllegalArgumentException("unknown B '" + b + "': none or reuse");
        };
        int lookups = a.length > 1 ? Integer.parseInt(a[1]) : 1;
        int n = Integer.getInteger("n", 10_131_227), bags = Integer.getInteger("bags", 2048);
        int[] p = Arrays.stream(System.getProperty("p", "200,220,250").split(",")).mapToInt(Integer::parseInt).toArray();
        TtShape shape = TtShape.uniformRank(n, p, new int[] {2, 2, 4}, 32);
        int dim = shape.dim();
        VectorTtKernels[] k = {new VectorTtKernels(null, 1, true), new VectorTtKernels(null, 1, bKeeps)};
        float[][][] cores = new float[2][][];
        for (int i = 0; i < 2; i++) {
            cores[i] = TtInit.sampledGaussian().create(shape, 1);
        }
        SplittableRandom rnd = new SplittableRandom(7);
        int[][] batches = new int[8][bags * lookups];
        for (int[] batch : batches) {
            for (int j = 0; j < batch.length; j++) {
                batch[j] = rnd.nextInt(n);
            }
        }
        int[] off = new int[bags + 1];
        for (int bag = 0; bag <= bags; bag++) {
            off[bag] = bag * lookups;
        }
        float[] out = new float[bags * dim], grad = new float[bags * dim];
        for (int i = 0; i < grad.length; i++) {
            grad[i] = (float) rnd.nextDouble(-1e-3, 1e-3);
        }
        SparseOptimizer sgd = SparseOptimizer.sgd(0.01f);
        boolean fwdOnly = Boolean.getBoolean("fwdonly");
        int windows = Integer.getInteger("windows", 30);
        long windowNs = Long.getLong("windowMs", 200) * 1_000_000L;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double[][] rate = new double[2][windows];
        int next = 0;
        for (int w = -3; w < windows; w++) { // three warm-up pairs
            for (int i = 0; i < 2; i++) {
                long t0 = mx.getCurrentThreadCpuTime(), calls = 0;
                while (mx.getCurrentThreadCpuTime() - t0 < windowNs) {
                    k[i].prepare(shape, batches[next++ & 7], off, bags);
                    k[i].forward(cores[i], null, Pooling.SUM, false, out, 0, dim);
                    if (!fwdOnly) {
                        k[i].backward(cores[i], null, null, Pooling.SUM, grad, 0, dim, sgd);
                    }
                    calls++;
                }
                if (w >= 0) {
                    rate[i][w] = calls * (double) bags * lookups / ((mx.getCurrentThreadCpuTime() - t0) / 1e9);
                }
            }
        }
        double[] ratio = new double[windows];
        for (int w = 0; w < windows; w++) {
            ratio[w] = rate[0][w] / rate[1][w];
        }
        double[] ra = rate[0].clone(), rb = rate[1].clone();
        Arrays.sort(ra);
        Arrays.sort(rb);
        Arrays.sort(ratio);
        System.out.printf("B %s, %d x %d%s: A median %.3fM (best %.3fM), B median %.3fM (best %.3fM); "
                        + "A/B paired median %.3f (quartiles %.3f..%.3f)%n", b, bags, lookups,
                fwdOnly ? " forward" : " fwd+bwd+SGD", ra[windows / 2] / 1e6, ra[windows - 1] / 1e6,
                rb[windows / 2] / 1e6, rb[windows - 1] / 1e6, ratio[windows / 2], ratio[windows / 4],
                ratio[3 * windows / 4]);
    }
}
