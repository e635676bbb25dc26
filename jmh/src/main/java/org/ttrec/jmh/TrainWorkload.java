package org.ttrec.jmh;

import org.ttrec.dlrm.bench.KaggleTrainStep;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.score.ModelFile;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.TrainState;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.TablesBesideBackend;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The training workload that {@link TrainBenchmark} and {@link TrainHarness} measure: a
 * {@link KaggleTrainStep} (the Kaggle-shaped DLRM that {@code ttrec bench} trains too) with its
 * 26 cardinalities capped at {@code rowsCap}, on pre-generated batches of 2,048 samples in all (or
 * {@code -Dsamples=N}) that {@link #step()} trains on in turn.
 *
 * <p>Table kinds: "dense", "tt", "tt-cache" as {@link KaggleTrainStep} describes; "tt-cache" fills
 * its cache from {@code WARMUP_BATCHES} (64, or {@code -DcacheWarmup=N}) unmeasured batches.
 */
final class TrainWorkload implements AutoCloseable {
    /** Distinct training samples cycled through ({@code -Dsamples=N}); rounded to whole batches. */
    static final int SAMPLES = Integer.getInteger("samples", 2048);
    /** Training batches the "tt-cache" kind counts lookups over before its cache is filled. */
    static final int WARMUP_BATCHES = Integer.getInteger("cacheWarmup", 64);

    final ComputeBackend be;
    final DlrmModel model;
    private final KaggleTrainStep step;

    TrainWorkload(String kind, int batch, String backend, int threads, int tableThreads, int rowsCap,
                  double cacheFraction) throws IOException {
        be = tableThreads > 0 ? new TablesBesideBackend(Backends.create(backend, threads),
                Backends.create(backend, tableThreads)) : Backends.create(backend, threads);
        try {
            step = new KaggleTrainStep(be, kind, batch, rowsCap, cacheFraction, SAMPLES, WARMUP_BATCHES);
        } catch (IOException | RuntimeException e) {
            be.close();
            throw e;
        }
        model = step.model();
    }

    /** One training step on the next pre-generated batch. */
    void step() {
        step.step();
    }

    /** @return the run configuration (the data's table sizes adopted) */
    RunConfig config() {
        return step.config();
    }

    /** @return every pre-generated row's table indices, one array of 26 per row */
    int[][] rowIndices() {
        return step.rowIndices();
    }

    /** @return samples per batch */
    int batchSize() {
        return step.batchSize();
    }

    /**
     * The model as trained so far, as the scoring benchmarks load it: a checkpoint
     * ({@code dir/ck.ttrec}) and, from it, a scoring model file ({@code dir/model.ttrm}).
     *
     * @param state the training position the checkpoint records
     * @return the model file
     */
    Path writeModelFile(Path dir, TrainState state) throws IOException {
        Path ck = dir.resolve("ck.ttrec"), file = dir.resolve("model.ttrm");
        RunConfig c = config();
        Checkpoint.write(ck, model, Trainer.optimizerFor(c, model), c, TrainingSetup.plan(c, Long.MAX_VALUE), state, null);
        ModelFile.write(ck, file, null, false);
        return file;
    }

    @Override
    public void close() {
        step.close();
        be.close(); // and the tables' backend, if they have one
    }
}
