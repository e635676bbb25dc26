package org.ttrec.dlrm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.checkpoint.AtomicFiles;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.ttrec.dlrm.metrics.Plots;

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
 * A run's folder: config.json (configuration and provenance), metrics.jsonl (one JSON object
 * per training log or evaluation, appended as they happen, kept across resumes), loss.png and
 * auc.png, and checkpoint.ttrec.
 */
public final class RunFolder implements Trainer.Listener, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;
    private final BufferedWriter metrics;
    private final List<double[]> trainLoss = new ArrayList<>();
    private final List<double[]> valLoss = new ArrayList<>();
    private final List<double[]> valAuc = new ArrayList<>();
    private final List<double[]> testAuc = new ArrayList<>();

    /**
     * Opens (creating if needed) a run folder; an existing metrics.jsonl is kept and its points
     * reloaded so plots of a resumed run show the whole history.
     *
     * @param dir the folder
     * @throws IOException if it cannot be created
     */
    public RunFolder(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        Path m = dir.resolve("metrics.jsonl");
        if (Files.exists(m)) {
            for (String line : Files.readAllLines(m, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode n = JSON.readTree(line);
                    record(n.path("kind").asText(), n.path("step").asDouble(), n);
                } catch (IOException e) {
                    // a line cut by a crash: skip it, the rest of the history is still good
                }
            }
        }
        this.metrics = Files.newBufferedWriter(m, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
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

    /** @return where the run's checkpoint goes */
    public Path checkpoint() {
        return dir.resolve("checkpoint.ttrec");
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
        ObjectNode root = JSON.createObjectNode();
        root.set("provenance", provenance);
        root.set("config", JSON.readTree(config.toJson()));
        var arr = root.putArray("tables");
        tables.forEach(arr::add);
        Path target = dir.resolve("config.json");
        Path tmp = AtomicFiles.tempNear(target);
        try {
            Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root), StandardOpenOption.CREATE_NEW);
            AtomicFiles.commit(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
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
