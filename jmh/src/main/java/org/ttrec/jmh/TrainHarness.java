package org.ttrec.jmh;

import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;

/**
 * Quick A/B harness for a shared, noisy machine: the {@link TrainBenchmark} workload (Kaggle-shaped
 * DLRM, one training step per op) with 1 kernel thread, the table kinds built in one JVM and
 * measured in alternating windows of this thread's CPU time, so their ratios are taken under the
 * same machine state. Prints the best window of each kind and its ratio to the first kind. JMH stays the
 * reference for reported numbers.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -Xmx3g -cp <benchmarks.jar>
 * org.ttrec.jmh.TrainHarness [batch] [seconds per window] [rounds]}; {@code -DrowsCap=1000000},
 * {@code -Dthreads=1} (kernel threads; above 1 the windows are wall time), {@code -Dkinds=dense,tt,tt-cache}, {@code -DcacheFraction=0.01} (of "tt-cache", warmed up as in
 * {@link TrainBenchmark}).
 */
public final class TrainHarness {
    private TrainHarness() {
    }

    /** One model with its batches. */
    private static final class Setup {
        final DlrmModel model;
        final DenseOptimizer opt;
        final Batch[] batches = new Batch[16];
        final ComputeBackend be;
        int next;

        Setup(String kind, int batch) throws Exception {
            RunConfig c = Presets.get("kaggle");
            c.model.maxIndRange = Integer.getInteger("rowsCap", 1_000_000);
            c.model.tt.threshold = kind.equals("dense") ? -1 : 100_000;
            c.model.tt.rank = 32;
            c.model.tt.cores = 3;
            boolean cached = kind.equals("tt-cache");
            if (cached) {
                c.model.tt.cacheFraction = Double.parseDouble(System.getProperty("cacheFraction", "0.01"));
                c.model.tt.cacheWarmupSteps = TrainBenchmark.WARMUP_BATCHES;
            }
            c.train.batchSize = batch;
            c.train.testBatchSize = batch;
            c.data.trainSamples = (long) batch * (batches.length + (cached ? TrainBenchmark.WARMUP_BATCHES : 0));
            Dataset data = TrainingSetup.openDataset(c);
            TrainingSetup.adopt(c, data);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Runtime.getRuntime().maxMemory());
            be = Backends.create("auto", Integer.getInteger("threads", 1));
            model = TrainingSetup.build(be, c, specs);
            opt = Trainer.optimizerFor(c, model);
            try (BatchStream s = data.batches(Split.TRAIN, batch, false, 0)) {
                for (int i = 0; cached && i < TrainBenchmark.WARMUP_BATCHES; i++) {
                    model.forward(s.next());
                    model.backward(opt.sparse(0.1f));
                    opt.step(0.1f, model.parameters(), model.gradients());
                }
                for (int i = 0; i < batches.length; i++) {
                    batches[i] = s.next();
                }
            }
        }

        void step() {
            Batch b = batches[next];
            next = (next + 1) % batches.length;
            model.forward(b);
            model.backward(opt.sparse(0.1f));
            opt.step(0.1f, model.parameters(), model.gradients());
        }
    }

    /** Thread CPU time, or wall time when other threads do part of the work. */
    private static long now(ThreadMXBean mx, boolean wall) {
        return wall ? System.nanoTime() : mx.getCurrentThreadCpuTime();
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
        Setup[] setups = new Setup[kinds.length];
        for (int i = 0; i < kinds.length; i++) {
            setups[i] = new Setup(kinds[i], batch);
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        boolean wall = Integer.getInteger("threads", 1) > 1;
        double[] best = new double[kinds.length];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < kinds.length; i++) {
                long t0 = now(mx, wall);
                long steps = 0;
                while (now(mx, wall) - t0 < secs * 1e9) {
                    setups[i].step();
                    steps++;
                }
                double rate = steps * (double) batch / ((now(mx, wall) - t0) / 1e9);
                if (r > 0) { // round 0 warms up
                    best[i] = Math.max(best[i], rate);
                }
            }
        }
        StringBuilder sb = new StringBuilder("batch " + batch + ":");
        for (int i = 0; i < kinds.length; i++) {
            sb.append(String.format(" %s %.0f samples/s (%.3fx %s);", kinds[i], best[i], best[i] / best[0], kinds[0]));
        }
        System.out.println(sb);
        for (Setup s : setups) {
            s.be.close();
        }
    }
}
