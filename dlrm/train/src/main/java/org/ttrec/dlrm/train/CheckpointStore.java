package org.ttrec.dlrm.train;

import org.ttrec.dlrm.io.AtomicFiles;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A run folder's checkpoints, one file per step, so that nothing good is ever replaced:
 * <pre>
 * RUN/checkpoints/step-000000001000.ttrec   one per checkpointed step: the last N are kept, and the best
 * RUN/checkpoint.ttrec                      the newest (another name of its step file)
 * RUN/best.ttrec                            the best by validation AUC (another name of its step file)
 * </pre>
 * Each step file is written atomically before the two names are moved to it, so a crash at any
 * moment leaves every name pointing at a complete, checksummed file. Which files are kept has no
 * influence on training: a resumed run reads one file and continues from it.
 */
public final class CheckpointStore {
    /** The folder of per-step files inside a run folder. */
    public static final String DIR = "checkpoints";
    /** The newest checkpoint's name in the run folder. */
    public static final String LATEST = "checkpoint.ttrec";
    /** The best checkpoint's name (by validation AUC) in the run folder. */
    public static final String BEST = "best.ttrec";
    private static final Pattern STEP = Pattern.compile("^step-(\\d+)\\.ttrec$");

    private final Path runDir;
    private final int keep;
    private long bestStep = -1;
    private double bestAuc = Double.NaN;

    /**
     * @param runDir the run folder
     * @param keep   how many of the newest step files to keep (0: all); the best is kept besides
     */
    public CheckpointStore(Path runDir, int keep) {
        if (keep < 0) {
            throw new IllegalArgumentException("--keep-checkpoints must be >= 0 (0 = keep all), got " + keep);
        }
        this.runDir = runDir;
        this.keep = keep;
        Path best = runDir.resolve(BEST);
        if (Files.isRegularFile(best)) {
            // continuing in place: the folder's best so far stays the best until beaten
            try {
                Checkpoint.Header h = Checkpoint.readHeader(best);
                double auc = h.header().path("validation").path("auc").asDouble(Double.NaN);
                if (!Double.isNaN(auc)) {
                    bestAuc = auc;
                    bestStep = h.state().step();
                }
            } catch (IOException e) {
                // an unreadable best.ttrec is replaced by the next validated checkpoint
            }
        }
    }

    /** @return the run folder */
    public Path runDir() {
        return runDir;
    }

    /**
     * @param step a training step
     * @return the file name of its checkpoint
     */
    public static String fileName(long step) {
        return String.format(Locale.ROOT, "step-%012d.ttrec", step);
    }

    /**
     * Writes the checkpoint of a state to its own step file, points {@code checkpoint.ttrec} (and
     * {@code best.ttrec} if its validation AUC is the best so far) at it, then removes step files
     * beyond the newest N that are not the best.
     *
     * @param model         the model
     * @param opt           its optimiser
     * @param config        the run configuration
     * @param specs         the table plan
     * @param state         the training position
     * @param provenance    provenance header fields, or null
     * @param extra         further header fields, or null
     * @param validationAuc the validation AUC of exactly this state, or NaN if it was not evaluated
     * @return the step file written
     * @throws IOException if writing fails (earlier checkpoints are untouched)
     */
    public Path save(DlrmModel model, DenseOptimizer opt, RunConfig config, List<EmbeddingTableSpec> specs,
                     TrainState state, ObjectNode provenance, ObjectNode extra, double validationAuc) throws IOException {
        Path file = runDir.resolve(DIR).resolve(fileName(state.step()));
        Checkpoint.write(file, model, opt, config, specs, state, provenance, extra);
        AtomicFiles.link(file, runDir.resolve(LATEST));
        if (!Double.isNaN(validationAuc) && (bestStep < 0 || validationAuc > bestAuc)) {
            bestAuc = validationAuc;
            bestStep = state.step();
            AtomicFiles.link(file, runDir.resolve(BEST));
        }
        prune();
        return file;
    }

    private void prune() throws IOException {
        if (keep == 0) {
            return;
        }
        TreeMap<Long, Path> all = stepFiles(runDir.resolve(DIR));
        List<Long> steps = new ArrayList<>(all.descendingKeySet());
        for (int i = keep; i < steps.size(); i++) {
            if (steps.get(i) != bestStep) {
                Files.deleteIfExists(all.get(steps.get(i)));
            }
        }
    }

    /**
     * @param dir a {@value #DIR} folder
     * @return its step files by step (empty if there is no such folder)
     * @throws IOException if it cannot be listed
     */
    public static TreeMap<Long, Path> stepFiles(Path dir) throws IOException {
        TreeMap<Long, Path> m = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return m;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "step-*.ttrec")) {
            for (Path p : s) {
                Matcher x = STEP.matcher(p.getFileName().toString());
                if (x.matches() && Files.isRegularFile(p)) {
                    try {
                        m.put(Long.parseLong(x.group(1)), p);
                    } catch (NumberFormatException e) {
                        // not one of ours
                    }
                }
            }
        }
        return m;
    }

    /**
     * What a {@code --resume} or {@code --checkpoint} path stands for: a file is itself; a run
     * folder stands for its newest checkpoint (the highest step file in {@value #DIR}, else
     * {@value #LATEST}).
     *
     * @param path a checkpoint file or a run folder
     * @return the checkpoint file
     * @throws IOException if a folder holds no checkpoint, or the path does not exist
     */
    public static Path resolve(Path path) throws IOException {
        if (!Files.isDirectory(path)) {
            if (!Files.exists(path)) {
                throw new IOException("checkpoint " + path + " does not exist");
            }
            return path;
        }
        TreeMap<Long, Path> steps = stepFiles(path.resolve(DIR));
        if (!steps.isEmpty()) {
            return steps.lastEntry().getValue();
        }
        if (Files.isRegularFile(path.resolve(LATEST))) {
            return path.resolve(LATEST);
        }
        throw new IOException(path + " is a folder without checkpoints (no " + DIR + "/step-*.ttrec or " + LATEST
                + "); give a checkpoint file or a run folder written by 'ttrec train'");
    }

    /**
     * @param checkpoint a checkpoint file
     * @return the run folder it belongs to: {@code RUN} for {@code RUN/checkpoints/step-N.ttrec} and for
     *         {@code RUN/checkpoint.ttrec}
     */
    public static Path runFolderOf(Path checkpoint) {
        Path parent = checkpoint.toAbsolutePath().normalize().getParent();
        if (parent.getFileName() != null && parent.getFileName().toString().equals(DIR)
                && Files.isRegularFile(parent.getParent().resolve("config.json"))) {
            return parent.getParent();
        }
        return parent;
    }
}
