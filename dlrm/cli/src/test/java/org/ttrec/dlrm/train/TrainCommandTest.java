package org.ttrec.dlrm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.cli.Main;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code ttrec train} and {@code ttrec eval} commands, run in-process on tiny synthetic data. */
class TrainCommandTest {
    private static final String[] SMALL = {"--backend", "scalar", "--no-progress", "--train-samples", "3000",
        "--batch-size", "100", "--eval-every", "10"};

    private static String[] args(String cmd, Path out, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of(cmd));
        a.addAll(List.of(SMALL));
        a.add("--out");
        a.add(out.toString());
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        int rc;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            rc = cl.execute(args);
        } finally {
            System.setOut(old);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, () -> "exit code; stdout: " + out + " stderr: " + err);
        return out;
    }

    @Test
    void trainWritesARunFolderAndEvalReadsIt(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        String s = run(args("train", out, "--max-steps", "20"));
        assertTrue(s.contains("test:") && s.contains("AUC") && s.contains("compression x") && s.contains("table 9: 8,000,000 -> ")
                && s.contains("samples/s"), s);
        for (String f : new String[] {"config.json", "metrics.jsonl", "loss.png", "auc.png", "checkpoint.ttrec"}) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("scalar", cfg.at("/config/train/backend").asText());
        assertTrue(cfg.at("/provenance/jvm").asText().contains("25"));
        assertTrue(cfg.at("/provenance/gitSha").isTextual());
        assertEquals(10, cfg.at("/tables").size());
        assertTrue(cfg.at("/tables/9").asText().startsWith("table 9: TT 1000000 x 8"), cfg.at("/tables").toString());
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"kind\":\"validation\"") && l.contains("\"step\":10")), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"kind\":\"test\"")), lines.toString());
        byte[] png = Files.readAllBytes(out.resolve("auc.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);

        String e = run("eval", "--checkpoint", out.resolve("checkpoint.ttrec").toString(), "--backend", "scalar");
        assertTrue(e.contains("step 20") && e.contains("AUC"), e);
        // evaluating the checkpoint gives the test AUC the training run printed
        String auc = s.substring(s.indexOf("test:")).split("AUC ")[1].substring(0, 6);
        assertTrue(e.contains("AUC " + auc), e + " vs " + auc);

        // continuing in the run's own folder appends to its history (a plain resume would make a new folder)
        String r = run(args("train", out, "--resume", out.resolve("checkpoint.ttrec").toString(), "--max-steps", "30",
                "--continue-in-place"));
        assertTrue(r.contains("done after 30 steps"), r);
        assertEquals(30, Checkpoint.readHeader(out.resolve("checkpoint.ttrec")).state().step());
        assertTrue(Files.readAllLines(out.resolve("metrics.jsonl")).size() > lines.size());
    }

    @Test
    void impossibleConfigIsOneClearLine(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute("train", "--backend", "scalar", "--preset", "tiny", "--bottom-mlp", "13-16-4", "--out",
                dir.resolve("x").toString());
        assertEquals(2, rc);
        assertTrue(err.toString().contains("embedding dimension is 8"), err.toString());
        assertTrue(!Files.exists(dir.resolve("x")), "nothing is created for an impossible config");
    }
}
