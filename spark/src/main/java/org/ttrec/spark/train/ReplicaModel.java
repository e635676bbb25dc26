package org.ttrec.spark.train;

import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.ComputeBackend;

import java.io.IOException;
import java.util.List;

/**
 * One replica's model, optimiser and data inside a Spark task, built the way {@code ttrec train}
 * builds them (so round 0 starts from the same seeded weights as a single-machine run), with an
 * averaged state installed when there is one.
 */
final class ReplicaModel implements AutoCloseable {
    final RunConfig config;
    final Dataset data;
    final ComputeBackend backend;
    final List<EmbeddingTableSpec> specs;
    final DlrmModel model;
    final DenseOptimizer opt;

    private ReplicaModel(RunConfig config, Dataset data, ComputeBackend backend, List<EmbeddingTableSpec> specs,
                         DlrmModel model, DenseOptimizer opt) {
        this.config = config;
        this.data = data;
        this.backend = backend;
        this.specs = specs;
        this.model = model;
        this.opt = opt;
    }

    /**
     * @param configJson the run configuration as JSON
     * @param threads    kernel threads
     * @param part       which part of the training split this replica reads (-1: the whole data set)
     * @param parts      how many parts there are
     * @param state      the state to install, or null to keep the seeded initial weights
     * @return the replica
     * @throws IOException if the data cannot be opened
     */
    static ReplicaModel open(String configJson, int threads, int part, int parts, ModelState state) throws IOException {
        RunConfig c = RunConfig.fromJson(configJson);
        c.train.threads = threads;
        c.train.tableThreads = 0;
        c.train.progress = false;
        Dataset whole = TrainingSetup.openDataset(c);
        Dataset data = whole;
        ComputeBackend be = null;
        DlrmModel model = null;
        try {
            data = part < 0 ? whole : whole.trainPart(part, parts);
            TrainingSetup.adopt(c, data);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Runtime.getRuntime().maxMemory());
            be = TrainingSetup.backend(c);
            model = TrainingSetup.build(be, c, specs);
            DenseOptimizer opt = Trainer.optimizerFor(c, model);
            if (state != null) {
                state.install(model, opt);
            }
            return new ReplicaModel(c, data, be, specs, model, opt);
        } catch (RuntimeException | Error e) {
            if (model != null) {
                model.close();
            }
            if (be != null) {
                be.close();
            }
            data.close();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            model.close();
            backend.close();
        } finally {
            data.close();
        }
    }
}
