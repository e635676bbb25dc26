package org.ttrec.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.CheckpointStore;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.spark.train.ModelState;
import org.ttrec.spark.train.SparkEvaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ttrec-spark eval}: a checkpoint's metrics on a split, as a distributed job ({@link SparkEvaluator}). */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "AUC, accuracy and log loss of a checkpoint (any ttrec checkpoint or run folder) on the "
                + "validation and test splits, scored by Spark tasks; the same numbers as ttrec eval.")
public final class SparkEvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "a checkpoint file or run folder")
    Path checkpoint;
    @Option(names = "--data", description = "the data (default: the checkpoint's)")
    String data;
    @Option(names = "--master", description = "Spark master URL (default: spark-submit's, else local[*])")
    String master;
    @Option(names = "--tasks", description = "Spark tasks (default: the context's default parallelism)")
    Integer tasks;
    @Option(names = "--threads", defaultValue = "1", description = "kernel threads per task (default: ${DEFAULT-VALUE})")
    int threads;

    @Override
    public Integer call() throws Exception {
        Path file = CheckpointStore.resolve(checkpoint);
        Checkpoint.Header header = Checkpoint.readHeader(file);
        RunConfig c = header.config();
        if (data != null) {
            c.data.source = data;
        }
        c.train.backend = "cpu";
        ModelState state;
        try (Dataset d = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, d);
            TrainingSetup.checkSplits(d, Split.VALIDATION, Split.TEST);
        }
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Runtime.getRuntime().maxMemory());
        TrainingSetup.checkResumable(file, header, c, specs);
        try (ComputeBackend be = Backends.create("cpu", 1); DlrmModel m = TrainingSetup.build(be, c, specs)) {
            DenseOptimizer opt = Trainer.optimizerFor(c, m);
            Checkpoint.restore(file, m, opt);
            state = ModelState.capture(m, opt);
        }
        try (JavaSparkContext sc = SparkMain.context("ttrec-spark eval", master)) {
            int n = tasks != null ? tasks : sc.defaultParallelism();
            String json = c.toJson();
            for (Split s : new Split[] {Split.VALIDATION, Split.TEST}) {
                BinaryMetrics.Result r = SparkEvaluator.evaluate(sc, json, state, s, n, threads);
                System.out.printf(Locale.ROOT, "%-10s %s%n", s.name().toLowerCase(Locale.ROOT), r);
            }
        }
        return 0;
    }
}
