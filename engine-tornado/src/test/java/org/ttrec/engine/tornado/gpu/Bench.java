package org.ttrec.engine.tornado.gpu;

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
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.TtTable;
import org.ttrec.engine.tt.TtInit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The GPU script's measurements, on one backend ({@code --backend}, default tornado):
 * <ul>
 * <li>TT-EmbeddingBag forward + backward + SGD, p = (200, 220, 250), q = (2, 2, 4), R = 32 (the
 * Kaggle's largest table, 11M rows, D = 16), one lookup per bag, uniform rows, at 2,048 and
 * 65,536 lookups per batch: lookups/s, the plan (host sort and copy) included;</li>
 * <li>one training step of the Kaggle-shaped DLRM (7 TT tables of rank 32) at batch 128 and 2048
 * on synthetic data: samples/s.</li>
 * </ul>
 * Each result is printed and appended to the file given by {@code --out} as one JSON line.
 * Usage: {@code Bench [--backend NAME] [--threads N] [--out FILE] [--seconds S]}.
 */
public final class Bench {
    private Bench() {}

    /** @param args see the class comment */
    public static void main(String[] args) throws IOException {
        String backend = "tornado";
        int threads = 0;
        Path out = null;
        double seconds = 5;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--backend" -> backend = args[++i];
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        List<String> results = new ArrayList<>();
        try (ComputeBackend be = Backends.create(backend, threads)) {
            String device = be.description();
            for (int lookups : new int[] {2048, 65536}) {
                double rate = ttStep(be, lookups, seconds);
                results.add(json("tt_fwd_bwd_sgd", device, "lookups", lookups, "lookups_per_s", rate));
            }
        }
        for (int batch : new int[] {128, 2048}) {
            results.add(trainStep(backend, threads, batch, seconds));
        }
        for (String r : results) {
            System.out.println(r);
        }
        if (out != null) {
            Files.write(out, results, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
    }

    static String json(String what, String device, String sizeName, int size, String rateName, double rate) {
        return String.format(Locale.ROOT, "{\"bench\":\"%s\",\"backend\":\"%s\",\"%s\":%d,\"%s\":%.1f}", what,
                device.replace("\"", "'"), sizeName, size, rateName, rate);
    }

    /** TT forward + backward + SGD, plans set each step: lookups per second. */
    static double ttStep(ComputeBackend be, int lookups, double seconds) {
        TtShape s = TtShape.uniformRank(200 * 220 * 250, new int[] {200, 220, 250}, new int[] {2, 2, 4}, 32);
        SplittableRandom r = new SplittableRandom(1);
        int batches = 4;
        int[][] idx = new int[batches][lookups];
        for (int[] b : idx) {
            for (int j = 0; j < lookups; j++) {
                b[j] = r.nextInt(s.rows());
            }
        }
        int[] off = new int[lookups + 1];
        for (int j = 0; j <= lookups; j++) {
            off[j] = j;
        }
        try (TtTable t = be.newTtTable("bench", s); LookupPlan plan = t.newPlan();
             FloatBuf out = be.allocFloats(lookups * s.dim()); FloatBuf grad = be.allocFloats(lookups * s.dim())) {
            float[][] cores = TtInit.sampledGaussian().create(s, 7);
            for (int k = 0; k < cores.length; k++) {
                t.writeCore(k, cores[k]);
            }
            be.fill(lookups * s.dim(), 1e-3f, grad, 0);
            SparseOptimizer sgd = SparseOptimizer.sgd(0.01f);
            long n = 0;
            long t0 = 0;
            for (int warm = 0; ; warm++) {
                if (warm == 3) {
                    be.sync();
                    t0 = System.nanoTime();
                }
                plan.set(idx[warm % batches], off, lookups, null);
                t.forward(plan, Pooling.SUM, false, out, 0, s.dim());
                t.backward(plan, Pooling.SUM, grad, 0, s.dim(), sgd);
                if (warm >= 3) {
                    n++;
                    if (n % 4 == 0) {
                        be.sync();
                        if (System.nanoTime() - t0 > seconds * 1e9) {
                            break;
                        }
                    }
                }
            }
            be.sync();
            return n * (double) lookups / ((System.nanoTime() - t0) * 1e-9);
        }
    }

    /** One Kaggle-shaped training step (7 TT tables of rank 32), as Trainer runs it: samples per second. */
    static String trainStep(String backend, int threads, int batch, double seconds) throws IOException {
        RunConfig c = Presets.get("kaggle");
        c.model.tt.threshold = 100_000;
        c.model.tt.rank = 32;
        c.model.tt.cores = 3;
        c.train.batchSize = batch;
        c.train.testBatchSize = batch;
        int nBatches = 8;
        c.data.trainSamples = (long) batch * nBatches;
        try (Dataset data = TrainingSetup.openDataset(c); ComputeBackend be = Backends.create(backend, threads)) {
            TrainingSetup.adopt(c, data);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, be.memoryAvailable());
            Batch[] batches = new Batch[nBatches];
            try (BatchStream st = data.batches(Split.TRAIN, batch, false, 0)) {
                for (int i = 0; i < nBatches; i++) {
                    batches[i] = st.next();
                }
            }
            try (DlrmModel model = DlrmModel.build(be, c.model, specs, c.train.seed); FloatBuf lossSum = be.allocFloats(1)) {
                model.ensureCapacity(batch);
                DenseOptimizer opt = Trainer.optimizerFor(c, model);
                long steps = 0;
                long t0 = 0;
                for (int i = 0; ; i++) {
                    if (i == 3) {
                        be.sync();
                        t0 = System.nanoTime();
                    }
                    Batch b = batches[i % nBatches];
                    model.forward(b);
                    be.checkFinite(1, model.lossBuffer(), 0, i + 1);
                    be.axpy(1, 1f, model.lossBuffer(), 0, lossSum, 0);
                    model.backward(opt.sparse(0.1f));
                    opt.step(0.1f, model.parameters(), model.gradients());
                    if (i >= 3) {
                        steps++;
                        if (steps % 4 == 0) {
                            be.sync();
                            if (System.nanoTime() - t0 > seconds * 1e9) {
                                break;
                            }
                        }
                    }
                }
                be.sync();
                double rate = steps * (double) batch / ((System.nanoTime() - t0) * 1e-9);
                if (be instanceof org.ttrec.engine.tornado.TornadoBackend tb) {
                    System.out.println("[tornado] batch " + batch + ": " + tb.stats());
                }
                return json("kaggle_train_step", be.description(), "batch", batch, "samples_per_s", rate);
            }
        }
    }
}
