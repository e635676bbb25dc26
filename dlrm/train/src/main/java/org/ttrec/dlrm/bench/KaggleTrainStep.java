package org.ttrec.dlrm.bench;

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
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;

import java.io.IOException;
import java.util.List;

/**
 * One training step of the Kaggle-shaped DLRM (dim 16, bottom 13-512-256-64-16, top 367-512-256-1,
 * dot interaction, SGD lr 0.1) on pre-generated synthetic batches: the workload of {@code ttrec bench}'s
 * train rows and of the JMH {@code TrainBenchmark} / {@code TrainHarness}, built in one place so the
 * two never measure different models.
 *
 * <p>The 26 Kaggle cardinalities are capped at {@code rowsCap}. Table kinds: "dense" = every table
 * uncompressed; "tt" = the 7 tables above 100,000 rows TT-compressed (3 cores, rank 32, TT-Rec's
 * Kaggle setting); "tt-cache" = "tt" with the hot-row cache holding {@code cacheFraction} of each TT
 * table's rows, filled from lookup counts over {@code warmupBatches} training batches that are not
 * among the measured ones. The step is what {@code Trainer} does per batch, without reading the loss,
 * so a device backend is not forced to wait inside it.
 */
public final class KaggleTrainStep implements AutoCloseable {
    private static final float LR = 0.1f;

    private final ComputeBackend be;
    private final DlrmModel model;
    /** The trainer's running loss sum, on the backend. */
    private final FloatBuf lossSum;
    private long steps;
    private final DenseOptimizer opt;
    private final Batch[] batches;
    private final RunConfig config;
    private int next;

    /**
     * Builds the model on {@code be} and generates the batches (data generation is never timed).
     *
     * @param be            the backend the model lives on; the caller keeps owning it
     * @param kind          "dense", "tt" or "tt-cache"; a TT kind may name the cores' update rule after
     *                      a slash ("tt/sgd", "tt-cache/rowwise-adagrad"; model.tt.optimizer), so
     *                      rules can be timed against each other in one JVM
     * @param batch         samples per step
     * @param rowsCap       cap on every table's rows
     * @param cacheFraction hot-row cache fraction ("tt-cache" only)
     * @param samples       distinct samples the steps cycle through (rounded down to whole batches, at least one)
     * @param warmupBatches batches the "tt-cache" kind counts lookups over before its cache is filled
     * @throws IOException if the synthetic data set cannot be opened
     * @throws IllegalArgumentException if the kind is unknown
     */
    public KaggleTrainStep(ComputeBackend be, String kind, int batch, int rowsCap, double cacheFraction,
                           int samples, int warmupBatches) throws IOException {
        this.be = be;
        RunConfig c = Presets.get("kaggle");
        c.model.maxIndRange = rowsCap;
        int slash = kind.indexOf('/');
        if (slash >= 0) {
            c.model.tt.optimizer = kind.substring(slash + 1);
            kind = kind.substring(0, slash);
            if (kind.equals("dense")) {
                throw new IllegalArgumentException("the dense kind has no TT cores to give an update rule");
            }
        }
        c.model.tt.threshold = switch (kind) {
            case "tt", "tt-cache" -> 100_000;
            case "dense" -> -1;
            default -> throw new IllegalArgumentException("table kind must be dense, tt or tt-cache, got '" + kind + "'");
        };
        boolean cached = kind.equals("tt-cache");
        if (cached) {
            c.model.tt.cacheFraction = cacheFraction;
            c.model.tt.cacheWarmupSteps = warmupBatches;
        }
        c.model.tt.rank = 32;
        c.model.tt.cores = 3;
        c.train.batchSize = batch;
        c.train.testBatchSize = batch;
        this.config = c;
        int nBatches = Math.max(1, samples / batch);
        batches = new Batch[nBatches];
        c.data.trainSamples = (long) batch * (nBatches + (cached ? warmupBatches : 0));
        Dataset data = TrainingSetup.openDataset(c);
        TrainingSetup.adopt(c, data);
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Runtime.getRuntime().maxMemory());
        long tt = specs.stream().filter(sp -> sp.kind() == EmbeddingTableSpec.Kind.TT).count();
        if (tt != (kind.equals("dense") ? 0 : 7)) {
            throw new IllegalStateException(kind + ": " + tt + " TT tables planned");
        }
        model = DlrmModel.build(be, c.model, specs, c.train.seed);
        lossSum = be.allocFloats(1);
        model.ensureCapacity(batch);
        opt = Trainer.optimizerFor(c, model);
        try (BatchStream s = data.batches(Split.TRAIN, batch, false, 0)) {
            if (cached) {
                // the cache counts lookups over its warm-up batches, then keeps the hottest rows;
                // measured batches are others, so their hits come from the data's skew alone
                for (int i = 0; i < warmupBatches; i++) {
                    step(s.next());
                }
            }
            for (int i = 0; i < nBatches; i++) {
                batches[i] = s.next();
            }
        }
    }

    /** One training step on the next pre-generated batch (queued on a device backend, not awaited). */
    public void step() {
        Batch b = batches[next];
        next = (next + 1) % batches.length;
        step(b);
    }

    /** @return samples per step */
    public int batchSize() {
        return batches[0].size();
    }

    /** @return the model being trained */
    public DlrmModel model() {
        return model;
    }

    /** @return the run configuration (the data's table sizes adopted), e.g. to checkpoint the model */
    public RunConfig config() {
        return config;
    }

    /** @return every pre-generated row's table indices, one array per row (for scoring benchmarks) */
    public int[][] rowIndices() {
        int n = 0;
        for (Batch b : batches) {
            n += b.size();
        }
        int[][] rows = new int[n][];
        int r = 0;
        for (Batch b : batches) {
            for (int i = 0; i < b.size(); i++, r++) {
                rows[r] = new int[b.tables()];
                for (int t = 0; t < b.tables(); t++) {
                    rows[r][t] = b.indices()[t][b.offsets()[t][i]];
                }
            }
        }
        return rows;
    }

    /** @return the backend the model lives on */
    public ComputeBackend backend() {
        return be;
    }

    /** What {@code Trainer} does per step: the loss is checked and added up on the backend, not read. */
    private void step(Batch b) {
        model.forward(b);
        be.checkFinite(1, model.lossBuffer(), 0, ++steps);
        be.axpy(1, 1f, model.lossBuffer(), 0, lossSum, 0);
        model.backward(opt.sparse(LR));
        opt.step(LR, model.parameters(), model.gradients());
    }

    /** Closes the model; the backend stays open (its owner closes it). */
    @Override
    public void close() {
        model.close();
    }
}
