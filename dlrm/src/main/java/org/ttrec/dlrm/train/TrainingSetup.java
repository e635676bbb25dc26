package org.ttrec.dlrm.train;

import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.DatasetOptions;
import org.ttrec.dlrm.data.Datasets;
import org.ttrec.dlrm.data.SyntheticConfig;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.model.MemoryPlan;
import org.ttrec.dlrm.model.TableFactory;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.TablesBesideBackend;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * The steps from a configuration to a model, shared by {@code ttrec train}, {@code ttrec eval},
 * tests and benchmarks: open the data, adopt its shape, plan the tables, check memory, build.
 */
public final class TrainingSetup {
    private TrainingSetup() {}

    /**
     * Opens the data a config names: {@code synthetic} is the data pipeline's teacher-labelled
     * generator shaped like the model's tables ({@code data.trainSamples} training rows, the
     * validation and test halves of one more 'day' as dlrm splits Kaggle, Zipf exponent
     * {@code data.zipf}); anything else goes to {@link Datasets#open} (shard folders, MLPerf .bin,
     * raw Criteo text, {@code synthetic:key=value,...}).
     *
     * @param c the run configuration (data.source and, for synthetic data, the model's tables)
     * @return the data set
     * @throws IOException              if the data cannot be opened
     * @throws IllegalArgumentException if the specification is not understood
     */
    public static Dataset openDataset(RunConfig c) throws IOException {
        String src = c.data.source;
        if (src.equals("synthetic")) {
            // 6 of 7 'days' train; validation and test share the seventh.
            long rows = Math.max(7, Math.ceilDiv(c.data.trainSamples * 7, 6));
            return Datasets.synthetic(new SyntheticConfig(rows, c.model.effectiveRows(), c.data.zipf, c.train.seed,
                    c.data.teacherAuc, c.data.ctr, c.data.interactions));
        }
        return Datasets.open(src, DatasetOptions.defaults());
    }

    /**
     * Makes the model's table rows and dense width those of the data.
     *
     * @param c the run configuration, updated
     * @param d the data set
     */
    public static void adopt(RunConfig c, Dataset d) {
        int[] card = d.cardinalities();
        if (!Arrays.equals(card, c.model.effectiveRows())) {
            c.model.tableRows = card;
            c.model.maxIndRange = 0; // the data already applied it
        }
        if (d.denseFeatures() != c.model.denseFeatures) {
            throw new IllegalArgumentException("the data has " + d.denseFeatures() + " dense features, model.bottomMlp '"
                    + c.model.bottomMlp + "' expects " + c.model.denseFeatures);
        }
    }

    /**
     * Validates the config, plans the tables and checks that everything fits in memory,
     * all before allocating anything.
     *
     * @param c         the run configuration
     * @param available bytes available
     * @return the table plan
     * @throws IllegalArgumentException naming what is impossible
     */
    public static List<EmbeddingTableSpec> plan(RunConfig c, long available) {
        c.validate();
        int stateFactor = c.train.optimizer.equals("adagrad") ? 1 : 0;
        List<EmbeddingTableSpec> specs = TableFactory.plan(c.model, MemoryPlan.denseParameters(c), stateFactor);
        MemoryPlan.estimate(c, specs).check(specs, available);
        return specs;
    }

    /**
     * @param be    backend
     * @param c     the run configuration
     * @param specs the table plan
     * @return the model, initialised from {@code c.train.seed}
     */
    public static DlrmModel build(ComputeBackend be, RunConfig c, List<EmbeddingTableSpec> specs) {
        DlrmModel m = DlrmModel.build(be, c.model, specs, c.train.seed);
        m.ensureCapacity(c.train.batchSize);
        return m;
    }

    /**
     * The backend a run asks for: {@code train.backend} on {@code train.threads}, with the
     * embedding tables on {@code train.tableThreads} threads of their own beside the MLP when
     * that is above 0 ({@link TablesBesideBackend}).
     *
     * @param c the run configuration
     * @return the backend (the caller closes it)
     */
    public static ComputeBackend backend(RunConfig c) {
        ComputeBackend be = Backends.create(c.train.backend, c.train.threads);
        if (c.train.tableThreads <= 0) {
            return be;
        }
        try {
            return new TablesBesideBackend(be, Backends.create(c.train.backend, c.train.tableThreads));
        } catch (RuntimeException | Error e) {
            be.close();
            throw e;
        }
    }
}
