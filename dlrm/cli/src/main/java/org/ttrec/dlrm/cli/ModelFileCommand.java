package org.ttrec.dlrm.cli;

import org.ttrec.dlrm.io.FloatIO;
import org.ttrec.dlrm.score.ModelFile;
import org.ttrec.dlrm.score.ModelInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ttrec model-file}: writes the serving model file of a checkpoint or run folder
 * (docs/model-file.md), or with {@code --inspect} checks and describes one.
 */
@Command(name = "model-file", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a model file (.ttrm) for scoring: configuration, MLPs, tables and dictionaries in one "
                + "checksummed file that a service memory-maps (docs/model-file.md).",
            "With --inspect, verify a model file's checksums and describe it."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:written (or inspected)", "2:bad option, or an unreadable, corrupt or inconsistent input"})
public final class ModelFileCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SOURCE",
            description = "A checkpoint, or a run folder (its newest checkpoint); with --inspect, a model file.")
    Path source;
    @Option(names = "--out", description = "The model file to write (default: SOURCE's run folder/model.ttrm).")
    Path out;
    @Option(names = "--best", description = "From a run folder, take best.ttrec (best validation AUC) instead of the newest checkpoint.")
    boolean best;
    @Option(names = "--dictionaries", description = "Dictionaries (.ttrd) to embed, so the model scores raw categorical values "
            + "(default: the run folder's dictionaries.ttrd, else the preprocessed data folder's).")
    Path dictionaries;
    @Option(names = "--inspect", description = "Verify and describe SOURCE, a model file; write nothing.")
    boolean inspect;

    @Override
    public Integer call() throws IOException {
        Path file = source;
        if (!inspect) {
            Path target = out != null ? out
                    : (Files.isDirectory(source) ? source : source.toAbsolutePath().getParent()).resolve("model" + ModelFile.EXTENSION);
            long t0 = System.nanoTime();
            Path ckpt = ModelFile.write(source, target, dictionaries, best);
            System.out.printf(Locale.ROOT, "wrote %s from %s (%s, %.0f ms)%n", target, ckpt,
                    FloatIO.bytes(Files.size(target)), (System.nanoTime() - t0) / 1e6);
            file = target;
        }
        ModelInfo i = ModelFile.inspect(file);
        System.out.printf(Locale.ROOT, "%s: %d dense + %d categorical features, %,d parameters (x%.1f compression), "
                        + "step %d, %s%n", file, i.denseFeatures(), i.tables().size(), i.parameters(), i.compressionRatio(),
                i.step(), i.dictionaries() ? "scores raw values (dictionaries embedded)" : "scores table indices only (no dictionaries)");
        for (ModelInfo.Table t : i.tables()) {
            System.out.printf(Locale.ROOT, "  %s: %s %,d rows%s%n", t.name(), t.kind(), t.rows(),
                    t.kind().equals("TT") ? " p=" + t.p() + " q=" + t.q() + " ranks=" + t.ranks()
                            + (t.cacheRows() >= 0 ? ", " + t.cacheRows() + " cached rows" : "") : "");
        }
        return 0;
    }
}
