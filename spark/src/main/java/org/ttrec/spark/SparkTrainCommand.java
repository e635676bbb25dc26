package org.ttrec.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.spark.train.Combine;
import org.ttrec.spark.train.SparkTrainOptions;
import org.ttrec.spark.train.SparkTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ttrec-spark train}: data-parallel training ({@link SparkTrainer}). */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Data-parallel training on Spark: --replicas copies of the model, each a Spark task "
                + "training --steps-per-round steps on its part of the training split, combined after every round "
                + "through Spark's shuffle; a checkpoint per round in --out, --resume continues from the last one; "
                + "validation and test metrics from a distributed evaluation at the end.",
                "Exit codes: 0 done, 2 bad input, 3 diverged."})
public final class SparkTrainCommand implements Callable<Integer> {
    @Option(names = "--master", description = "Spark master URL (default: spark-submit's, else local[*])")
    String master;
    @Option(names = "--preset", defaultValue = "tiny", description = "model and training preset: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})",
            completionCandidates = PresetNames.class)
    String preset;
    @Option(names = "--config", description = "a JSON config file applied over the preset")
    Path configFile;
    @Option(names = "--set", description = "config overrides path=value, e.g. train.lr=0.05 (repeatable)")
    List<String> sets = new ArrayList<>();
    @Option(names = "--data", description = "data every task can read: a shard folder (ttrec preprocess or "
            + "ttrec-spark preprocess), raw Criteo text, or 'synthetic' (default: the preset's)")
    String data;
    @Option(names = "--epochs", description = "epochs")
    Integer epochs;
    @Option(names = "--max-steps", description = "steps per replica at most")
    Long maxSteps;
    @Option(names = "--batch-size", description = "samples per step of one replica")
    Integer batchSize;
    @Option(names = "--lr", description = "learning rate")
    Double lr;
    @Option(names = "--optimizer", description = "sgd or adagrad (MLPs and dense tables)")
    String optimizer;
    @Option(names = "--tt-rank", description = "TT rank")
    Integer ttRank;
    @Option(names = "--tt-threshold", description = "tables with more rows are TT-compressed")
    Integer ttThreshold;
    @Option(names = "--seed", description = "seed of the initial weights, the data order and synthetic data")
    Long seed;
    @Option(names = "--replicas", description = "model replicas, one Spark task each per round (default: the "
            + "context's default parallelism)")
    Integer replicas;
    @Option(names = "--steps-per-round", defaultValue = "100", description = "K: steps each replica takes between "
            + "two combines (default: ${DEFAULT-VALUE})")
    int stepsPerRound;
    @Option(names = "--replica-threads", defaultValue = "1", description = "kernel threads per replica; give each "
            + "task as many cores (spark.task.cpus) (default: ${DEFAULT-VALUE})")
    int replicaThreads;
    @Option(names = "--batch-per-replica", description = "--batch-size is each replica's batch (the global "
            + "batch is replicas times larger); default: --batch-size is the global batch, shared by the replicas")
    boolean batchPerReplica;
    @Option(names = "--combine-weights", description = "average or sum (of the replicas' changes) (default: average)")
    String combineWeights;
    @Option(names = "--combine-state", description = "average or sum, for the optimiser state (default: average)")
    String combineState;
    @Option(names = "--eval-tasks", defaultValue = "0", description = "tasks of the evaluation (default: as many as replicas)")
    int evalTasks;
    @Option(names = "--out", description = "run folder on the driver (default: runs/spark-<timestamp>)")
    Path out;
    @Option(names = "--resume", description = "continue the run in --out from its last round")
    boolean resume;
    @Option(names = "--test-fail-once", hidden = true, description = "test hook round:replica")
    String failOnce;

    /** The preset names, for help. */
    static final class PresetNames extends ArrayList<String> {
        PresetNames() {
            super(Presets.names());
        }
    }

    @Override
    public Integer call() throws Exception {
        RunConfig c = Presets.get(preset);
        if (configFile != null) {
            c.apply(configFile);
        }
        for (String s : sets) {
            c.set(s);
        }
        if (data != null) {
            c.data.source = data;
        }
        if (epochs != null) {
            c.train.epochs = epochs;
        }
        if (maxSteps != null) {
            c.train.maxSteps = maxSteps;
        }
        if (batchSize != null) {
            c.train.batchSize = batchSize;
        }
        if (lr != null) {
            c.train.lr = lr;
        }
        if (optimizer != null) {
            c.train.optimizer = optimizer;
        }
        if (ttRank != null) {
            c.model.tt.rank = ttRank;
        }
        if (ttThreshold != null) {
            c.model.tt.threshold = ttThreshold;
        }
        if (seed != null) {
            c.train.seed = seed;
        }
        c.train.backend = "cpu";
        c.validate();
        Combine w = parse(combineWeights, SparkTrainOptions.DEFAULT_WEIGHTS, "--combine-weights");
        Combine s = parse(combineState, SparkTrainOptions.DEFAULT_STATE, "--combine-state");
        if (resume && out == null) {
            throw new IllegalArgumentException("--resume needs --out, the run folder to continue");
        }
        Path dir = out != null ? out : Path.of("runs", "spark-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
        // checked before a Spark context starts; the replica count may come from the context
        new SparkTrainOptions(replicas == null ? 1 : replicas, stepsPerRound, replicaThreads, evalTasks, !batchPerReplica,
                w, s, failOnce);
        if (!resume) {
            org.ttrec.dlrm.train.RunFolder.check(dir, false);
        }
        try (JavaSparkContext sc = SparkMain.context("ttrec-spark train", master)) {
            int r = replicas != null ? replicas : sc.defaultParallelism();
            SparkTrainOptions o = new SparkTrainOptions(r, stepsPerRound, replicaThreads, evalTasks, !batchPerReplica, w, s,
                    failOnce);
            System.out.printf(Locale.ROOT, "[spark] %s on %s: %d replicas x %d steps per round, %d thread(s) each, "
                    + "weights %s, optimiser state %s; run folder %s%n", c.data.source, sc.master(), r, stepsPerRound,
                    replicaThreads, w.cliName(), s.cliName(), dir);
            SparkTrainer.Result res = SparkTrainer.run(sc, c, o, dir, resume, System.out);
            System.out.printf(Locale.ROOT, "[spark] %d rounds, %,.0f training samples/s over all replicas; "
                    + "checkpoints in %s%n", res.rounds().size(), res.samplesPerSec(), dir);
        }
        return 0;
    }

    private static Combine parse(String v, Combine dflt, String option) {
        if (v == null) {
            return dflt;
        }
        for (Combine c : Combine.values()) {
            if (c.cliName().equals(v.trim().toLowerCase(Locale.ROOT))) {
                return c;
            }
        }
        throw new IllegalArgumentException(option + " must be average or sum, got '" + v + "'");
    }
}
