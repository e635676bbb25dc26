package org.ttrec.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Quick A/B harness for a shared, noisy machine: the {@link TrainBenchmark} workload (Kaggle-shaped
 * DLRM, one training step per op) with 1 kernel thread, the table kinds built in one JVM and
 * measured in alternating windows of this thread's CPU time, so their ratios are taken under the
 * same machine state. Prints the best window of each kind and its ratio to the first kind. JMH stays the
 * reference for reported numbers.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -Xmx3g -cp <benchmarks.jar>
 * org.ttrec.jmh.TrainHarness [batch] [seconds per window] [rounds]}; {@code -DrowsCap=1000000},
 * {@code -Dthreads=1} (kernel threads; above 1, or with {@code -Dwall=true}, the windows are
 * wall time), {@code -Dkinds=dense,tt,tt-cache} (each optionally {@code kind@threads+tableThreads},
 * e.g. {@code tt@1+1}: tables on a backend of their own beside the MLP; a TT kind may name its cores'
 * update rule, {@code tt/sgd} against {@code tt} times SGD cores against the default Adagrad ones
 * in one JVM; any kind on more than one
 * thread makes every window wall time), {@code -DcacheFraction=0.01} (of "tt-cache", warmed up as in
 * {@link TrainWorkload}), {@code -Dsamples=2048} (distinct samples the steps cycle through). Besides
 * the ratio of bests it prints the median over rounds of each round's ratio, steadier when the
 * machine's speed drifts.
 */
public final class TrainHarness {
    private TrainHarness() {
    }

    /**
     * Entry point.
     *
     * @param a batch, seconds per window, rounds
     * @throws Exception on set-up failure
     */
    public static void main(String[] a) throws Exception {
        int batch = a.length > 0 ? Integer.parseInt(a[0]) : 128;
        double secs = a.length > 1 ? Double.parseDouble(a[1]) : 1.0;
        int rounds = a.length > 2 ? Integer.parseInt(a[2]) : 6;
        String[] kinds = System.getProperty("kinds", "dense,tt,tt-cache").split(",");
        int threads = Integer.getInteger("threads", 1);
        int clockThreads = threads;
        TrainWorkload[] setups = new TrainWorkload[kinds.length];
        for (int i = 0; i < kinds.length; i++) {
            // kind[@threads[+tableThreads]]: e.g. tt@1+1 = MLP on 1 thread, tables on 1 more beside it
            String[] kt = kinds[i].split("@");
            int th = threads, tableTh = 0;
            if (kt.length > 1) {
                String[] mt = kt[1].split("\\+");
                th = Integer.parseInt(mt[0]);
                tableTh = mt.length > 1 ? Integer.parseInt(mt[1]) : 0;
            }
            clockThreads = Math.max(clockThreads, th + tableTh); // several threads: wall time
            setups[i] = new TrainWorkload(kt[0], batch, "auto", th, tableTh,
                    Integer.getInteger("rowsCap", 1_000_000), Double.parseDouble(System.getProperty("cacheFraction", "0.01")));
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double[] best = new double[kinds.length];
        double[][] rates = new double[kinds.length][Math.max(0, rounds - 1)];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < kinds.length; i++) {
                long t0 = TtPhaseHarness.clock(mx, clockThreads);
                long steps = 0;
                while (TtPhaseHarness.clock(mx, clockThreads) - t0 < secs * 1e9) {
                    setups[i].step();
                    steps++;
                }
                double rate = steps * (double) batch / ((TtPhaseHarness.clock(mx, clockThreads) - t0) / 1e9);
                if (r > 0) { // round 0 warms up
                    best[i] = Math.max(best[i], rate);
                    rates[i][r - 1] = rate;
                }
            }
        }
        StringBuilder sb = new StringBuilder("batch " + batch + ":");
        for (int i = 0; i < kinds.length; i++) {
            // the ratio in each round, where the kinds ran minutes apart at most, then its median:
            // steadier than the ratio of bests when the machine's speed drifts
            double[] paired = new double[rates[i].length];
            for (int r = 0; r < paired.length; r++) {
                paired[r] = rates[i][r] / rates[0][r];
            }
            java.util.Arrays.sort(paired);
            double median = paired.length == 0 ? Double.NaN : paired.length % 2 == 1 ? paired[paired.length / 2]
                    : (paired[paired.length / 2 - 1] + paired[paired.length / 2]) / 2;
            sb.append(String.format(" %s %.0f samples/s (%.3fx %s; per-round median %.3fx);", kinds[i], best[i],
                    best[i] / best[0], kinds[0], median));
        }
        System.out.println(sb);
        for (TrainWorkload s : setups) {
            s.close();
        }
    }
}
