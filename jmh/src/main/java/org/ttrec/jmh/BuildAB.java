package org.ttrec.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Paired A/B of two builds of ttrec in one JVM, for a noisy machine: each build's benchmark jar
 * is loaded by a class loader of its own (so both sets of classes live side by side), each
 * builds the same {@link TrainWorkload} (Kaggle-shaped DLRM, one training step per call), and
 * the two take turns in short windows; the result is the median over rounds of B's rate divided
 * by A's in the same round. Noise that lasts longer than a window hits both sides of a pair,
 * which separate JVMs cannot promise. The workload is built and driven by reflection, through
 * the constructor and {@code step()} that both builds have, so a build from before an interface
 * change can be the baseline.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -Xmx6g -cp jmh/target/benchmarks.jar
 * org.ttrec.jmh.BuildAB <A benchmarks.jar> <B benchmarks.jar> [kind] [batch] [seconds per window]
 * [rounds]} (kind dense, tt or tt-cache; default tt 128 1.0 10); {@code -Dthreads=1} (above 1 the
 * windows are wall time, else this thread's CPU time), {@code -DrowsCap=1000000}.
 */
public final class BuildAB {
    private BuildAB() {
    }

    /** One build's workload, driven by reflection. */
    private record Side(String label, URLClassLoader loader, Object workload, Method step) {
        void run() throws ReflectiveOperationException {
            step.invoke(workload);
        }
    }

    private static Side side(String label, Path jar, String kind, int batch, int threads, int rowsCap)
            throws Exception {
        URLClassLoader loader = new URLClassLoader(label, new URL[] {jar.toUri().toURL()},
                ClassLoader.getPlatformClassLoader());
        Class<?> c = Class.forName("org.ttrec.jmh.TrainWorkload", true, loader);
        Constructor<?> ctor = c.getDeclaredConstructor(String.class, int.class, String.class, int.class, int.class,
                int.class, double.class);
        ctor.setAccessible(true);
        Object w = ctor.newInstance(kind, batch, "auto", threads, 0, rowsCap, 0.01);
        Method step = c.getDeclaredMethod("step");
        step.setAccessible(true);
        return new Side(label, loader, w, step);
    }

    /**
     * Entry point.
     *
     * @param a jar A, jar B, then optionally kind, batch, seconds per window, rounds
     * @throws Exception on set-up failure
     */
    public static void main(String[] a) throws Exception {
        if (a.length < 2) {
            throw new IllegalArgumentException("usage: BuildAB <A benchmarks.jar> <B benchmarks.jar> [kind] [batch]"
                    + " [seconds per window] [rounds]");
        }
        String kind = a.length > 2 ? a[2] : "tt";
        int batch = a.length > 3 ? Integer.parseInt(a[3]) : 128;
        double secs = a.length > 4 ? Double.parseDouble(a[4]) : 1.0;
        int rounds = a.length > 5 ? Integer.parseInt(a[5]) : 10;
        int threads = Integer.getInteger("threads", 1);
        int rowsCap = Integer.getInteger("rowsCap", 1_000_000);
        Side[] sides = {side("A", Path.of(a[0]), kind, batch, threads, rowsCap),
                side("B", Path.of(a[1]), kind, batch, threads, rowsCap)};
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        List<Double> ratios = new ArrayList<>();
        double[] best = new double[2];
        for (int r = 0; r < rounds + 1; r++) { // round 0 warms both up
            double[] rate = new double[2];
            // alternate which side goes first, so a drift within a round favours neither
            for (int k = 0; k < 2; k++) {
                int i = (r + k) % 2;
                long t0 = TtPhaseHarness.clock(mx, threads);
                long steps = 0;
                while (TtPhaseHarness.clock(mx, threads) - t0 < secs * 1e9) {
                    sides[i].run();
                    steps++;
                }
                rate[i] = steps * (double) batch / ((TtPhaseHarness.clock(mx, threads) - t0) / 1e9);
                best[i] = Math.max(best[i], rate[i]);
            }
            if (r > 0) {
                ratios.add(rate[1] / rate[0]);
            }
        }
        double[] sorted = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        System.out.printf(Locale.ROOT, "%s batch %d, %d thread(s): A best %.0f samples/s, B best %.0f samples/s;"
                        + " B/A per-round median %.3f (rounds %s)%n", kind, batch, threads, best[0], best[1], median,
                Arrays.toString(Arrays.stream(sorted).map(x -> Math.round(x * 1000) / 1000.0).toArray()));
        for (Side s : sides) {
            ((AutoCloseable) s.workload).close();
            s.loader.close();
        }
    }
}
