package org.ttrec.dlrm.cli;

import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.CheckpointStore;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.Evaluator;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ttrec eval}: evaluates a checkpoint on a split of a data set. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a checkpoint: ROC AUC, accuracy and log loss.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:evaluated", "2:bad option, checkpoint or data (e.g. an empty split, tables that differ)",
            "4:a metric is undefined (NaN), e.g. a split with one class only"})
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "Checkpoint file written by 'ttrec train', or a run folder (its newest checkpoint).")
    Path checkpoint;
    @Option(names = "--data", description = "Data (default: what the checkpoint was trained on).")
    String data;
    @Option(names = "--split", description = "test, validation or train (default: test).")
    String split = "test";
    @Option(names = "--backend", description = "Compute backend (default auto).")
    String backend = "auto";
    @Option(names = "--device", description = DeviceOption.HELP)
    String device;
    @Option(names = "--threads", description = "Kernel threads (0 = all cores).")
    int threads = 0;
    @Option(names = {"--test-batch-size", "--batch-size"}, description = "Evaluation batch size.")
    Integer batchSize;

    @Override
    public Integer call() throws IOException {
        DeviceOption.apply(device, backend);
        Path file = CheckpointStore.resolve(checkpoint);
        Checkpoint.Header h = Checkpoint.readHeader(file);
        RunConfig c = h.config();
        if (data != null) {
            c.data.source = data;
        }
        if (batchSize != null) {
            c.train.testBatchSize = batchSize;
        }
        Split sp = switch (split.toLowerCase(Locale.ROOT)) {
            case "test" -> Split.TEST;
            case "validation", "val" -> Split.VALIDATION;
            case "train" -> Split.TRAIN;
            default -> throw new IllegalArgumentException("--split must be test, validation or train, got '" + split + "'");
        };
        c.train.batchSize = c.train.testBatchSize;
        c.validate();
        try (ComputeBackend be = Backends.create(backend, threads);
             Dataset ds = TrainingSetup.openDataset(c)) {
            TrainingSetup.checkSplits(ds, sp);
            int[] rows = c.model.effectiveRows();
            TrainingSetup.adopt(c, ds);
            int[] now = c.model.effectiveRows();
            if (!Arrays.equals(rows, now)) {
                throw new IllegalArgumentException(tablesDiffer(file, rows, now, ds));
            }
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, be.memoryAvailable());
            try (DlrmModel model = TrainingSetup.build(be, c, specs)) {
                Checkpoint.restore(file, model, null);
                long t0 = System.nanoTime();
                BinaryMetrics.Result r = Evaluator.evaluate(model, ds, sp, c.train.testBatchSize);
                double sec = (System.nanoTime() - t0) * 1e-9;
                System.out.printf(Locale.ROOT, "%s (step %d) on %s %s: AUC %.4f  accuracy %.4f  log loss %.4f  (%,d samples, %,.0f samples/s)%n",
                        file, h.state().step(), ds.describe(), sp.name().toLowerCase(Locale.ROOT), r.auc(),
                        r.accuracy(), r.logLoss(), r.count(), r.count() / sec);
                if (Double.isNaN(r.auc()) || Double.isNaN(r.logLoss())) {
                    System.err.println("ttrec eval: the metrics are undefined (NaN): an AUC needs both labels in the "
                            + sp.name().toLowerCase(Locale.ROOT) + " split of " + ds.describe());
                    return 4;
                }
                return 0;
            }
        }
    }

    /** Names the tables whose sizes differ and says why raw text does that and what to do. */
    static String tablesDiffer(Path file, int[] model, int[] data, Dataset ds) {
        StringBuilder sb = new StringBuilder("the data's table sizes differ from the model in " + file + ": ");
        int shown = 0, differ = 0;
        for (int t = 0; t < Math.max(model.length, data.length); t++) {
            long m = t < model.length ? model[t] : -1, d = t < data.length ? data[t] : -1;
            if (m == d) {
                continue;
            }
            differ++;
            if (shown++ < 6) {
                sb.append(shown == 1 ? "" : "; ").append(String.format(Locale.ROOT, "table %d: %,d rows in the model, %,d in the data", t, m, d));
            }
        }
        if (differ > shown) {
            sb.append("; and ").append(differ - shown).append(" more");
        }
        sb.append(" (").append(ds.describe()).append("). A raw text file is mapped with dictionaries of its own values, "
                + "so another file gives other table sizes and other indices. Evaluate on the data the model was trained "
                + "on (omit --data: its test split), or preprocess the training data once (ttrec preprocess) and train "
                + "and evaluate on that folder");
        return sb.toString();
    }
}
