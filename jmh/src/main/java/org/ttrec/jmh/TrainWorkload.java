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
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.TablesBesideBackend;

import java.io.IOException;
import java.util.List;

/**
 * The training workload that {@link TrainBenchmark} and {@link TrainHarness} measure: the
 * Kaggle-shaped DLRM (dim 16, bottom 13-512-256-64-16, top 367-512-256-1, dot interaction, SGD lr
 * 0.1) with its 26 cardinalities capped at {@code rowsCap}, and pre-generated batches of 2,048
 * samples in all (or {@code -Dsamples=N}) that {@link #step()} trains on in turn.
 *
 * <p>Table kinds: "dense" = every table uncompressed; "tt" = the 7 tables above 100,000 rows
 * TT-compressed (3 cores, rank 32, TT-Rec's Kaggle setting); "tt-cache" = "tt" with the hot-row
 * cache holding {@code cacheFraction} of each TT table's rows, filled from lookup counts over
 * {@code WARMUP_BATCHES} training batches (64, or {@code -DcacheWarmup=N}) that are not among the
 * measured ones.
 */
final class TrainWorkload implements AutoCloseable {
    /** Distinct training samples cycled through ({@code -Dsamples=N}); rounded to whole batches. */
    static final int SAMPLES = Integer.getInteger("samples", 2048);
    /** Training batches the "tt-cache" kind counts lookups over before its cache is filled. */
    static final int WARMUP_BATCHES = Integer.getInteger("cacheWarmup", 64);
    private static final float LR = 0.1f;

    final ComputeBackend be;
    final DlrmModel model;
    /** The trainer's running loss sum, on the backend. */
    private final FloatBuf lossSum;
    private long steps;
    private final DenseOptimizer opt;
    private final Batch[] batches;
    private final RunConfig config;
    private int next;

    TrainWorkload(String kind, int batch, String backend, int threads, int tableThreads, int rowsCap,
                  double cacheFraction) throws IOException {
        RunConfig c = Presets.get("kaggle");
        c.model.maxIndRange = rowsCap;
        c.model.tt.threshold = switch (kind) {
            case "tt", "tt-cache" -> 100_000;
            case "dense" -> -1;
            default -> throw new IllegalArgumentException("table kind must be dense, tt or tt-cache, got '" + kind + "'");
        };
        boolean cached = kind.equals("tt-cache");
        if (cached) {
            c.model.tt.cacheFraction = cacheFraction;
            c.model.tt.cacheWarmupSteps = WARMUP_BATCHES;
        }
        c.model.tt.rank = 32;
        c.model.tt.cores = 3;
        c.train.batchSize = batch;
        c.train.testBatchSize = batch;
        this.config = c;
        int nBatches = Math.max(1, SAMPLES / batch);
        batches = new Batch[nBatches];
        c.data.trainSamples = (long) batch * (nBatches + (cached ? WARMUP_BATCHES : 0));
        Dataset data = TrainingSetup.openDataset(c);
        TrainingSetup.adopt(c, data);
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Runtime.getRuntime().maxMemory());
        long tt = specs.stream().filter(sp -> sp.kind() == EmbeddingTableSpec.Kind.TT).count();
        if (tt != (kind.equals("dense") ? 0 : 7)) {
            throw new IllegalStateException(kind + ": " + tt + " TT tables planned");
        }
        be = tableThreads > 0 ? new TablesBesideBackend(Backends.create(backend, threads),
                Backends.create(backend, tableThreads)) : Backends.create(backend, threads);
        model = org.ttrec.dlrm.model.DlrmModel.build(be, c.model, specs, c.train.seed);
        lossSum = be.allocFloats(1);
        model.ensureCapacity(batch);
        opt = Trainer.optimizerFor(c, model);
        try (BatchStream s = data.batches(Split.TRAIN, batch, false, 0)) {
            if (cached) {
                // the cache counts lookups over its warm-up batches, then keeps the hottest rows;
                // measured batches are others, so their hits come from the data's skew alone
                for (int i = 0; i < WARMUP_BATCHES; i++) {
                    step(s.next());
                }
            }
            for (int i = 0; i < nBatches; i++) {
                batches[i] = s.next();
            }
        }
    }

    /** @return the run configuration (the data's table sizes adopted) */
    RunConfig config() {
        return config;
    }

    /** @return every pre-generated row's table indices, one array of 26 per row */
    int[][] rowIndices() {
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

    /** One training step on the next pre-generated batch. */
    void step() {
        Batch b = batches[next];
        next = (next + 1) % batches.length;
        step(b);
    }

    /** @return samples per batch */
    int batchSize() {
        return batches[0].size();
    }

    /** What {@code Trainer} does per step: the loss is checked and added up on the backend, not read. */
    private void step(Batch b) {
        model.forward(b);
        be.checkFinite(1, model.lossBuffer(), 0, ++steps);
        be.axpy(1, 1f, model.lossBuffer(), 0, lossSum, 0);
        model.backward(opt.sparse(LR));
        opt.step(LR, model.parameters(), model.gradients());
    }

    @Override
    public void close() {
        model.close();
        be.close(); // and the tables' backend, if they have one
    }
}
