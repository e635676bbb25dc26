package org.ttrec.dlrm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.train.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue item 3: run folders are never mixed. A new run refuses a non-empty folder unless told to
 * overwrite it, a resume writes a new folder linked to its parent, and checkpoints are kept per
 * step (the last N and the best by validation AUC).
 */
class RunFolderCliTest {

    private static List<Long> steps(Path metrics, String kind) throws Exception {
        ObjectMapper m = new ObjectMapper();
        return Files.readAllLines(metrics).stream().map(l -> {
            try {
                return m.readTree(l);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).filter(n -> n.path("kind").asText().equals(kind)).map(n -> n.path("step").asLong()).toList();
    }

    @Test
    void aNewRunRefusesAnExistingRunFolderUnlessToldToOverwrite(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        assertEquals(0, Cli.train(out, "--max-steps", "20").rc());
        byte[] ck = Files.readAllBytes(out.resolve("checkpoint.ttrec"));
        byte[] cfg = Files.readAllBytes(out.resolve("config.json"));
        byte[] metrics = Files.readAllBytes(out.resolve("metrics.jsonl"));

        Cli.Result again = Cli.train(out, "--max-steps", "5");
        assertEquals(2, again.rc(), again::all);
        assertTrue(again.err().contains("--overwrite") && again.err().contains(out.toString()), again.err());
        assertArrayEquals(ck, Files.readAllBytes(out.resolve("checkpoint.ttrec")));
        assertArrayEquals(cfg, Files.readAllBytes(out.resolve("config.json")));
        assertArrayEquals(metrics, Files.readAllBytes(out.resolve("metrics.jsonl")));

        Cli.Result over = Cli.train(out, "--max-steps", "5", "--overwrite");
        assertEquals(0, over.rc(), over::all);
        // the loss plot's data starts afresh: only this run's steps
        assertEquals(List.of(5L), steps(out.resolve("metrics.jsonl"), "train"));
        assertEquals(5, Checkpoint.readHeader(out.resolve("checkpoint.ttrec")).state().step());
    }

    @Test
    void resumeWritesANewFolderLinkedToItsParent(@TempDir Path dir) throws Exception {
        Path parent = dir.resolve("parent");
        assertEquals(0, Cli.train(parent, "--max-steps", "10").rc());
        Path ck = parent.resolve("checkpoint.ttrec");
        byte[] before = Files.readAllBytes(ck);
        byte[] metrics = Files.readAllBytes(parent.resolve("metrics.jsonl"));
        Path child = dir.resolve("child");
        Cli.Result r = Cli.run("train", "--resume", ck, "--max-steps", "20", "--out", child, "--no-progress");
        assertEquals(0, r.rc(), r::all);
        assertArrayEquals(before, Files.readAllBytes(ck), "resume replaced the checkpoint it started from");
        assertArrayEquals(metrics, Files.readAllBytes(parent.resolve("metrics.jsonl")), "resume wrote into its parent");
        JsonNode cfg = new ObjectMapper().readTree(child.resolve("config.json").toFile());
        assertEquals(10, cfg.at("/resumedFrom/step").asLong(), cfg.toString());
        assertTrue(cfg.at("/resumedFrom/checkpoint").asText().endsWith(".ttrec"), cfg.toString());
        assertEquals(20, Checkpoint.readHeader(child.resolve("checkpoint.ttrec")).state().step());
        assertEquals(List.of(15L, 20L), steps(child.resolve("metrics.jsonl"), "train"));
    }

    @Test
    void checkpointsAreKeptPerStepTheLastNAndTheBest(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        Cli.Result r = Cli.train(out, "--max-steps", "30", "--eval-every", "5", "--keep-checkpoints", "2");
        assertEquals(0, r.rc(), r::all);
        List<String> files;
        try (Stream<Path> s = Files.list(out.resolve("checkpoints"))) {
            files = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        // the last two, plus the best by validation AUC if it is older
        assertTrue(files.contains("step-000000000030.ttrec") && files.contains("step-000000000025.ttrec"), files.toString());
        assertTrue(files.size() == 2 || files.size() == 3, files.toString());
        long best = Checkpoint.readHeader(out.resolve("best.ttrec")).state().step();
        assertTrue(files.contains(String.format("step-%012d.ttrec", best)), best + " not kept: " + files);
        double maxAuc = -1, aucAtBest = Double.NaN;
        for (JsonNode n : new ObjectMapper().readerFor(JsonNode.class).<JsonNode>readValues(out.resolve("metrics.jsonl").toFile()).readAll()) {
            if (n.path("kind").asText().equals("validation")) {
                maxAuc = Math.max(maxAuc, n.path("auc").asDouble());
                if (n.path("step").asLong() == best) {
                    aucAtBest = n.path("auc").asDouble();
                }
            }
        }
        assertEquals(maxAuc, aucAtBest, "best.ttrec is not the checkpoint with the best validation AUC");
        assertEquals(30, Checkpoint.readHeader(out.resolve("checkpoint.ttrec")).state().step());
    }
}
