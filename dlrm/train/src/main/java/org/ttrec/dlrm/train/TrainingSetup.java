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

import com.fasterxml.jackson.databind.JsonNode;
import org.ttrec.dlrm.data.Split;
import org.ttrec.engine.TtShape;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

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

    /**
     * Checks that every split a run reads has rows: training needs training rows, and the
     * validation and test evaluations need theirs (an empty split's metrics are NaN).
     *
     * @param d      the data set
     * @param splits the splits that must not be empty
     * @throws IllegalArgumentException naming the data set, the empty split and the row counts
     */
    public static void checkSplits(Dataset d, Split... splits) {
        long train = d.size(Split.TRAIN), val = d.size(Split.VALIDATION), test = d.size(Split.TEST);
        String counts = String.format(Locale.ROOT, "%,d training, %,d validation, %,d test rows", train, val, test);
        if (train == 0 && val == 0 && test == 0) {
            throw new IllegalArgumentException("the data set " + d.describe() + " has no rows (0 rows: an empty file, "
                    + "or only a header line?)");
        }
        for (Split s : splits) {
            if (d.size(s) == 0) {
                String name = s == Split.TRAIN ? "training" : s.name().toLowerCase(Locale.ROOT);
                throw new IllegalArgumentException("the " + name + " split of " + d.describe() + " has 0 rows (" + counts
                        + "). " + (s == Split.TRAIN ? "There is nothing to train on."
                        : "Its metrics would be undefined (NaN).")
                        + " A single raw file is split as dlrm splits Kaggle (6 of 7 parts train, the 7th test and "
                        + "validation), so it needs at least 7 rows; MLPerf .bin data needs test.bin and val.bin beside train.bin.");
            }
        }
    }

    /**
     * Checks that every TT table really compresses: a TT shape with more parameters than the
     * uncompressed table costs memory and time for nothing.
     *
     * @param specs the table plan
     * @param allow whether the user allowed it anyway (--allow-expansion): then a warning is printed
     * @param warn  where the warning goes
     * @throws IllegalArgumentException naming the tables, their sizes and the largest rank that compresses
     */
    public static void checkCompression(List<EmbeddingTableSpec> specs, boolean allow, PrintStream warn) {
        List<String> bad = new ArrayList<>();
        int maxRank = Integer.MAX_VALUE;
        for (EmbeddingTableSpec s : specs) {
            if (s.kind() != EmbeddingTableSpec.Kind.TT || s.parameterCount() < s.uncompressedParameterCount()) {
                continue;
            }
            bad.add(String.format(Locale.ROOT, "%s: TT ranks %s give %,d parameters, x%.2f of the %,d of the "
                            + "uncompressed table", s.name(), Arrays.toString(s.ttShape().ranks()), s.parameterCount(),
                    (double) s.uncompressedParameterCount() / s.parameterCount(), s.uncompressedParameterCount()));
            maxRank = Math.min(maxRank, largestCompressingRank(s));
        }
        if (bad.isEmpty()) {
            return;
        }
        String msg = "compression below 1x: " + String.join("; ", bad) + ". "
                + (maxRank > 0 ? "--tt-rank " + maxRank + " or lower compresses every one of them; " : "")
                + "lower --tt-rank, raise --tt-threshold (keep small tables uncompressed), or pass --allow-expansion "
                + "to train them anyway";
        if (!allow) {
            throw new IllegalArgumentException(msg);
        }
        warn.println("[ttrec] warning: " + msg);
    }

    /** @return the largest uniform rank whose shape (same factors) has fewer parameters than the table, 0 if none */
    private static int largestCompressingRank(EmbeddingTableSpec s) {
        TtShape t = s.ttShape();
        long dense = s.uncompressedParameterCount() - (long) s.cacheRows() * s.dim();
        int hi = 1;
        for (int r : t.ranks()) {
            hi = Math.max(hi, r);
        }
        for (int r = hi; r >= 1; r--) {
            if (TtShape.uniformRank(t.rows(), t.p(), t.q(), r).parameterCount() < dense) {
                return r;
            }
        }
        return 0;
    }

    /**
     * Checks, before a model is built, that a checkpoint fits the plan made for the data: the
     * same tables (rows, dimension, kind, TT shape, cache), MLP and optimiser.
     *
     * @param file  the checkpoint (for messages)
     * @param h     its header
     * @param c     the run configuration (data adopted)
     * @param specs the plan
     * @throws IllegalArgumentException naming each table that differs and what to do
     */
    public static void checkResumable(java.nio.file.Path file, Checkpoint.Header h, RunConfig c,
                                      List<EmbeddingTableSpec> specs) {
        JsonNode tables = h.header().path("tables");
        List<String> diff = new ArrayList<>();
        if (tables.size() != specs.size()) {
            diff.add("it has " + tables.size() + " tables, the data " + specs.size());
        } else {
            for (int i = 0; i < specs.size(); i++) {
                EmbeddingTableSpec s = specs.get(i);
                JsonNode t = tables.get(i);
                List<String> d = new ArrayList<>();
                if (t.path("rows").asLong() != s.rows()) {
                    d.add(String.format(Locale.ROOT, "%,d rows in the checkpoint, %,d from the data", t.path("rows").asLong(), s.rows()));
                }
                if (t.path("dim").asInt() != s.dim()) {
                    d.add("dimension " + t.path("dim").asInt() + " vs " + s.dim());
                }
                if (!t.path("kind").asText(s.kind().name()).equals(s.kind().name())) {
                    d.add(t.path("kind").asText() + " in the checkpoint, " + s.kind() + " now");
                } else if (s.ttShape() != null && d.isEmpty()) {
                    if (!t.path("ranks").asText(Arrays.toString(s.ttShape().ranks())).equals(Arrays.toString(s.ttShape().ranks()))
                            || !t.path("p").asText(Arrays.toString(s.ttShape().p())).equals(Arrays.toString(s.ttShape().p()))) {
                        d.add("TT shape p=" + t.path("p").asText() + " ranks=" + t.path("ranks").asText() + " vs p="
                                + Arrays.toString(s.ttShape().p()) + " ranks=" + Arrays.toString(s.ttShape().ranks()));
                    }
                    if (t.has("cacheRows") && t.path("cacheRows").asInt() != s.cacheRows()) {
                        d.add("hot-row cache of " + t.path("cacheRows").asInt() + " vs " + s.cacheRows() + " rows");
                    }
                }
                if (!d.isEmpty()) {
                    diff.add(s.name() + ": " + String.join(", ", d));
                }
            }
        }
        long dense = MemoryPlan.denseParameters(c);
        if (h.header().path("denseParameters").asLong(dense) != dense) {
            diff.add("the MLPs hold " + h.header().path("denseParameters").asLong() + " parameters in the checkpoint, "
                    + dense + " now");
        }
        String opt = h.config().train.optimizer;
        if (!opt.equals(c.train.optimizer)) {
            diff.add("optimizer " + opt + " in the checkpoint, " + c.train.optimizer + " now (--optimizer)");
        }
        if (!diff.isEmpty()) {
            throw new IllegalArgumentException("checkpoint " + file + " does not fit this run: " + String.join("; ", diff)
                    + ". Resume on the data it was trained on (omit --data) with its model options; raw text files get "
                    + "table sizes from their own values, so preprocess the data once (ttrec preprocess) and train and "
                    + "resume on that folder");
        }
    }
}
