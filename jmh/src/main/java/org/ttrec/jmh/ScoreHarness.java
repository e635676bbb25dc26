package org.ttrec.jmh;

import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.score.CategoricalEncoding;
import org.ttrec.dlrm.score.ScoringModel;
import org.ttrec.dlrm.score.ScoringOptions;
import org.ttrec.dlrm.train.TrainState;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Scoring against training on one thread, for a shared, noisy machine: the Kaggle-shaped TT
 * workload of {@link TrainBenchmark} trains (batch 128, one kernel thread) and its model file is
 * scored through the API (512-row requests, one replica) in alternating windows of this thread's
 * CPU time, so the ratio is taken under the same machine state. Prints samples/s of each and the
 * per-round median of scoring over training. {@link ScoreBenchmark} stays the reference for
 * latencies and two threads.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -Xmx3g -cp <benchmarks.jar>
 * org.ttrec.jmh.ScoreHarness [seconds per window] [rounds]}.
 */
public final class ScoreHarness {
    private ScoreHarness() {
    }

    /**
     * Entry point.
     *
     * @param a seconds per window, rounds
     * @throws Exception on set-up failure
     */
    public static void main(String[] a) throws Exception {
        double secs = a.length > 0 ? Double.parseDouble(a[0]) : 1.0;
        int rounds = a.length > 1 ? Integer.parseInt(a[1]) : 8;
        int rowsCap = Integer.getInteger("rowsCap", 1_000_000);
        Path dir = Files.createTempDirectory("ttrec-score-harness");
        Path file;
        int[][] rows;
        try (TrainWorkload w = new TrainWorkload("tt", 512, "cpu", 1, 0, rowsCap, 0)) {
            file = w.writeModelFile(dir, TrainState.start());
            rows = w.rowIndices();
        }
        int t = rows[0].length, n = rows.length / 512;
        float[][] dense = new float[n][512 * 13];
        int[][] cat = new int[n][512 * t];
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < 512; r++) {
                System.arraycopy(rows[i * 512 + r], 0, cat[i], r * t, t);
                for (int j = 0; j < 13; j++) {
                    dense[i][r * 13 + j] = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(1000);
                }
            }
        }
        // start-up: map, verify every checksum and build the first replica, in a JVM that has loaded once
        double bestLoad = Double.MAX_VALUE;
        long replicaBytes = 0;
        for (int i = 0; i < 6; i++) {
            long t0 = System.nanoTime();
            try (ScoringModel m = ScoringModel.load(file, ScoringOptions.defaults().withBackend("cpu"))) {
                bestLoad = Math.min(bestLoad, (System.nanoTime() - t0) / 1e6);
                replicaBytes = m.replicaBytes();
            }
        }
        System.out.printf("model file %,d bytes: load (map, verify, first replica) %.1f ms at best of 6; %,d bytes of "
                + "parameters per replica%n", Files.size(file), bestLoad, replicaBytes);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (TrainWorkload train = new TrainWorkload("tt", 128, "cpu", 1, 0, rowsCap, 0);
             ScoringModel model = ScoringModel.load(file, ScoringOptions.defaults().withBackend("cpu"))) {
            float[] out = new float[512];
            double[] ratio = new double[rounds - 1];
            double bestTrain = 0, bestScore = 0;
            for (int r = 0; r < rounds; r++) {
                long t0 = mx.getCurrentThreadCpuTime();
                long samples = 0;
                while (mx.getCurrentThreadCpuTime() - t0 < secs * 1e9) {
                    train.step();
                    samples += 128;
                }
                double trainRate = samples / ((mx.getCurrentThreadCpuTime() - t0) / 1e9);
                t0 = mx.getCurrentThreadCpuTime();
                samples = 0;
                for (int i = 0; mx.getCurrentThreadCpuTime() - t0 < secs * 1e9; i = (i + 1) % n) {
                    model.predict(512, dense[i], cat[i], CategoricalEncoding.INDEX, out);
                    samples += 512;
                }
                double scoreRate = samples / ((mx.getCurrentThreadCpuTime() - t0) / 1e9);
                if (r > 0) { // round 0 warms up
                    ratio[r - 1] = scoreRate / trainRate;
                    bestTrain = Math.max(bestTrain, trainRate);
                    bestScore = Math.max(bestScore, scoreRate);
                }
            }
            java.util.Arrays.sort(ratio);
            System.out.printf("training (batch 128, 1 thread) %.0f samples/s; scoring (512-row requests, 1 thread) %.0f samples/s; "
                    + "ratio of bests %.2fx, per-round median %.2fx (range %.2f..%.2f)%n", bestTrain, bestScore,
                    bestScore / bestTrain, ratio[ratio.length / 2], ratio[0], ratio[ratio.length - 1]);
        }
        Files.delete(file);
        Files.delete(dir.resolve("ck.ttrec"));
        Files.delete(dir);
    }
}
