package org.ttrec.dlrm.cli;

import org.ttrec.dlrm.checkpoint.Checkpoint;
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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ttrec eval}: evaluates a checkpoint on a split of a data set. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a checkpoint: ROC AUC, accuracy and log loss.")
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, description = "Checkpoint file written by 'ttrec train'.")
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
        Checkpoint.Header h = Checkpoint.readHeader(checkpoint);
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
        try (Dataset ds = TrainingSetup.openDataset(c)) {
            int[] rows = c.model.effectiveRows();
            TrainingSetup.adopt(c, ds);
            if (!java.util.Arrays.equals(rows, c.model.effectiveRows())) {
                throw new IllegalArgumentException("the data's table sizes differ from the checkpoint's model");
            }
            c.train.batchSize = c.train.testBatchSize;
            try (ComputeBackend be = Backends.create(backend, threads)) {
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, be.memoryAvailable());
            try (DlrmModel model = TrainingSetup.build(be, c, specs)) {
                Checkpoint.restore(checkpoint, model, null);
                long t0 = System.nanoTime();
                BinaryMetrics.Result r = Evaluator.evaluate(model, ds, sp, c.train.testBatchSize);
                double sec = (System.nanoTime() - t0) * 1e-9;
                System.out.printf(Locale.ROOT, "%s (step %d) on %s %s: AUC %.4f  accuracy %.4f  log loss %.4f  (%,d samples, %,.0f samples/s)%n",
                        checkpoint, h.state().step(), ds.describe(), sp.name().toLowerCase(Locale.ROOT), r.auc(),
                        r.accuracy(), r.logLoss(), r.count(), r.count() / sec);
                return 0;
            }
            }
        }
    }
}
