package org.ttrec.dlrm.cli;

import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.io.FloatIO;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.model.safetensors.DlrmSafetensors;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.CheckpointStore;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code ttrec export}: writes a checkpoint's model as a safetensors file (docs/safetensors.md). */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Export a trained model to safetensors: MLP weights, uncompressed tables, TT cores and cached "
                + "rows, with the configuration in the metadata (docs/safetensors.md shows how PyTorch scores with it).",
            "Optimiser state is not exported; to resume training, use the checkpoint."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:exported", "2:bad option or checkpoint, or --out exists without --overwrite"})
public final class ExportCommand implements Callable<Integer> {
    @Option(names = "--run", required = true,
            description = "Run folder (its newest checkpoint) or checkpoint file written by 'ttrec train'.")
    Path run;
    @Option(names = "--out", required = true, description = "The safetensors file to write.")
    Path out;
    @Option(names = "--overwrite", description = "Replace --out if it exists.")
    boolean overwrite;

    /**
     * Loads the checkpoint into a model on the scalar backend and writes the file.
     *
     * @return 0 when exported
     * @throws IOException if the checkpoint cannot be read or the file written
     */
    @Override
    public Integer call() throws IOException {
        if (Files.exists(out) && !overwrite) {
            throw new IllegalArgumentException(out + " exists; pass --overwrite to replace it");
        }
        if (Files.isDirectory(out)) {
            throw new IllegalArgumentException(out + " is a folder; --out names the file to write");
        }
        Path file = CheckpointStore.resolve(run);
        Checkpoint.Header h = Checkpoint.readHeader(file);
        RunConfig c = h.config();
        // the scalar backend: loading and reading parameters back needs no fast kernels, and it is always there
        try (ComputeBackend be = Backends.create("scalar", 1)) {
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, be.memoryAvailable());
            try (DlrmModel model = DlrmModel.build(be, c.model, specs, c.train.seed)) {
                Checkpoint.restore(file, model, null);
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("ttrec.version", Main.version());
                meta.put("ttrec.checkpoint", file.toAbsolutePath().normalize().toString());
                meta.put("ttrec.step", Long.toString(h.state().step()));
                meta.put("ttrec.run_config", c.toJson());
                DlrmSafetensors.export(model, out, meta);
                long tt = specs.stream().filter(s -> s.kind() == EmbeddingTableSpec.Kind.TT).count();
                System.out.printf(Locale.ROOT, "%s: model of %s (step %d): %d tables (%d TT, %d uncompressed), "
                                + "%,d parameters, %s%n", out, file, h.state().step(), specs.size(), tt,
                        specs.size() - tt, model.parameterCount(), FloatIO.bytes(Files.size(out)));
                return 0;
            }
        }
    }
}
