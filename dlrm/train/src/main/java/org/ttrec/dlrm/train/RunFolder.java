package org.ttrec.dlrm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.io.AtomicFiles;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.data.ShardFormat;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.metrics.BinaryMetrics;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's folder: config.json (configuration and provenance, and for a resumed run the checkpoint
 * it started from), metrics.jsonl (one JSON object per training log or evaluation, appended as
 * they happen), loss.png and auc.png, the checkpoints ({@link CheckpointStore}:
 * checkpoints/step-N.ttrec, checkpoint.ttrec, best.ttrec) and, for data mapped in memory (raw
 * text), dictionaries.ttrd ({@link #writeDictionaries}).
 *
 * <p>One folder holds one run: a new run refuses a folder that already holds files unless told to
 * overwrite it ({@link #check}), and only a resume that continues in place appends to a folder,
 * after dropping the metrics lines past the step it resumes from.
 */
public final class RunFolder implements Trainer.Listener, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;
    private final BufferedWriter metrics;
    private final List<double[]> trainLoss = new ArrayList<>();
    private final List<double[]> valLoss = new ArrayList<>();
    private final List<double[]> valAuc = new ArrayList<>();
    private final List<double[]> testAuc = new ArrayList<>();

    /** How a run uses its folder. */
    public enum Mode {
        /** A new run: the folder must not exist or be empty. */
        NEW,
        /** A new run told to overwrite: the run files of an earlier run in the folder are deleted first. */
        OVERWRITE,
        /** A resumed run continuing in its own folder: metrics.jsonl is kept up to the resumed step. */
        CONTINUE
    }

    /** The model file {@code ttrec model-file} writes into a run folder by default: an earlier run's, if overwritten. */
    static final String MODEL_FILE = "model.ttrm";
    /** Files and folders a run writes; {@link Mode#OVERWRITE} deletes these and nothing else. */
    static final List<String> RUN_FILES = List.of("config.json", "metrics.jsonl", "loss.png", "auc.png",
            CheckpointStore.LATEST, CheckpointStore.BEST, CheckpointStore.DIR, ShardFormat.DICTIONARIES,
            MODEL_FILE);

    /**
     * Checks, before any work, that a new run may use a folder.
     *
     * @param dir       the folder
     * @param overwrite whether the user allowed replacing an earlier run there
     * @throws IllegalArgumentException if the folder is a file, or holds files and overwriting was not allowed
     * @throws IOException              if it cannot be listed
     */
    public static void check(Path dir, boolean overwrite) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + dir + " is a file, not a folder");
        }
        List<String> present = contents(dir);
        if (present.isEmpty()) {
            return;
        }
        if (!overwrite) {
            throw new IllegalArgumentException("run folder " + dir + " is not empty (" + String.join(", ", present)
                    + "): a new run would mix its files with those there. Pass --overwrite to replace the run in it, "
                    + "choose another --out, or resume with --resume " + dir + " (--continue-in-place to append to it)");
        }
        List<String> foreign = new ArrayList<>(present);
        foreign.removeAll(RUN_FILES);
        if (!foreign.isEmpty()) {
            throw new IllegalArgumentException("run folder " + dir + " holds files that are not a ttrec run's ("
                    + String.join(", ", foreign) + "); --overwrite replaces only a run's files, so choose another --out");
        }
    }

    /**
     * @param dir a folder
     * @return the visible entries of a folder, sorted (none if it does not exist), stale
     *         temporaries of dead writers removed and live ones left out
     * @throws IOException if it cannot be listed
     */
    public static List<String> contents(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return names;
        }
        AtomicFiles.removeStale(dir);
        try (var s = Files.list(dir)) {
            s.forEach(p -> names.add(p.getFileName().toString()));
        }
        names.removeIf(AtomicFiles::isTemporary);
        java.util.Collections.sort(names);
        return names;
    }

    /**
     * Opens a run folder for a new run ({@link Mode#NEW}, {@link Mode#OVERWRITE}).
     *
     * @param dir  the folder (created if needed)
     * @param mode NEW or OVERWRITE
     * @throws IOException if it cannot be created or cleared
     */
    public RunFolder(Path dir, Mode mode) throws IOException {
        this(dir, mode, -1);
    }

    /**
     * Opens a run folder. A new run gets an empty metrics.jsonl; a run continued in place keeps
     * the lines up to the step it resumes from (later ones belonged to the interrupted run's
     * future, which this run replaces) and reloads them, so plots show the whole history.
     *
     * @param dir          the folder (created if needed)
     * @param mode         how the run uses it
     * @param resumedStep  for {@link Mode#CONTINUE}: the step resumed from
     * @throws IOException if it cannot be created or read
     */
    public RunFolder(Path dir, Mode mode, long resumedStep) throws IOException {
        this.dir = dir;
        if (mode == Mode.NEW) {
            check(dir, false);
        } else if (mode == Mode.OVERWRITE) {
            check(dir, true);
            for (String f : RUN_FILES) {
                deleteTree(dir.resolve(f));
            }
        }
        Files.createDirectories(dir);
        Path m = dir.resolve("metrics.jsonl");
        if (mode == Mode.CONTINUE && Files.exists(m)) {
            List<String> kept = new ArrayList<>();
            for (String line : Files.readAllLines(m, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode n = JSON.readTree(line);
                    if (n.path("step").asLong() > resumedStep) {
                        continue;
                    }
                    record(n.path("kind").asText(), n.path("step").asDouble(), n);
                    kept.add(line);
                } catch (IOException e) {
                    // a line cut by a crash: drop it, the rest of the history is still good
                }
            }
            AtomicFiles.write(m, out -> {
                for (String line : kept) { // as Files.write(path, lines) writes them
                    out.write((line + System.lineSeparator()).getBytes(StandardCharsets.UTF_8));
                }
            });
        }
        this.metrics = Files.newBufferedWriter(m, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (var s = Files.list(p)) {
                for (Path c : s.toList()) {
                    deleteTree(c);
                }
            }
        }
        Files.deleteIfExists(p);
    }

    private void record(String kind, double step, JsonNode n) {
        switch (kind) {
            case "train" -> trainLoss.add(new double[] {step, n.path("loss").asDouble()});
            case "validation" -> {
                valLoss.add(new double[] {step, n.path("logloss").asDouble()});
                valAuc.add(new double[] {step, n.path("auc").asDouble()});
            }
            case "test" -> testAuc.add(new double[] {step, n.path("auc").asDouble()});
            default -> { }
        }
    }

    /** @return the folder */
    public Path dir() {
        return dir;
    }

    /** @return where the run's newest checkpoint is named */
    public Path checkpoint() {
        return dir.resolve(CheckpointStore.LATEST);
    }

    /**
     * Writes config.json atomically.
     *
     * @param config     the configuration
     * @param provenance version, git SHA, backend, JVM, CPU, ...
     * @param tables     one description line per table
     * @throws IOException if writing fails
     */
    public void writeConfig(RunConfig config, ObjectNode provenance, List<String> tables) throws IOException {
        writeConfig(config, provenance, tables, null);
    }

    /**
     * Writes config.json atomically.
     *
     * @param config      the configuration
     * @param provenance  version, git SHA, backend, JVM, CPU, ...
     * @param tables      one description line per table
     * @param resumedFrom for a resumed run: the checkpoint, run folder and step it started from; else null
     * @throws IOException if writing fails
     */
    public void writeConfig(RunConfig config, ObjectNode provenance, List<String> tables, ObjectNode resumedFrom)
            throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.set("provenance", provenance);
        if (resumedFrom != null) {
            root.set("resumedFrom", resumedFrom);
        }
        root.set("config", JSON.readTree(config.toJson()));
        var arr = root.putArray("tables");
        tables.forEach(arr::add);
        Path target = dir.resolve("config.json");
        String text = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        AtomicFiles.write(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Saves the dictionaries of data mapped in memory (raw text) as {@code dictionaries.ttrd}, so
     * that the run's models can score raw categorical values as training mapped them ({@code
     * ttrec model-file} and the scoring API look for them here). Nothing is written for data
     * without such dictionaries ({@link Dataset#dictionaries()} is null).
     *
     * @param data the training data
     * @throws IOException if writing fails
     */
    public void writeDictionaries(Dataset data) throws IOException {
        Dictionaries d = data.dictionaries();
        if (d != null) {
            d.write(dir.resolve(ShardFormat.DICTIONARIES));
        }
    }

    private void line(ObjectNode n) {
        try {
            metrics.write(JSON.writeValueAsString(n));
            metrics.newLine();
            metrics.flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot append to " + dir.resolve("metrics.jsonl"), e);
        }
        record(n.path("kind").asText(), n.path("step").asDouble(), n);
    }

    @Override
    public void onLog(TrainState s, double meanLoss, double lr, double samplesPerSec) {
        ObjectNode n = JSON.createObjectNode();
        n.put("kind", "train");
        n.put("step", s.step());
        n.put("epoch", s.epoch());
        n.put("samples", s.samples());
        n.put("loss", meanLoss);
        n.put("lr", lr);
        n.put("samples_per_s", samplesPerSec);
        n.put("time", java.time.Instant.now().toString());
        line(n);
    }

    @Override
    public void onEval(TrainState s, Split split, BinaryMetrics.Result r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("kind", split == Split.TEST ? "test" : "validation");
        n.put("step", s.step());
        n.put("epoch", s.epoch());
        n.put("auc", r.auc());
        n.put("accuracy", r.accuracy());
        n.put("logloss", r.logLoss());
        n.put("count", r.count());
        n.put("time", java.time.Instant.now().toString());
        line(n);
    }

    /**
     * Writes loss.png and auc.png.
     *
     * @throws IOException if writing fails
     */
    public void writePlots() throws IOException {
        Map<String, List<double[]>> loss = new LinkedHashMap<>();
        loss.put("train loss", trainLoss);
        loss.put("validation log loss", valLoss);
        Plots.write(dir.resolve("loss.png"), "Loss", "BCE", loss);
        Map<String, List<double[]>> auc = new LinkedHashMap<>();
        auc.put("validation AUC", valAuc);
        auc.put("test AUC", testAuc);
        Plots.write(dir.resolve("auc.png"), "ROC AUC", "AUC", auc);
    }

    @Override
    public void close() throws IOException {
        metrics.close();
    }
}
