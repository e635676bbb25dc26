package org.ttrec.dlrm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ttrec sweep} end to end on the tiny preset with a few thousand synthetic rows and 20
 * steps per run: what it writes (CSV rows, run folders, chart) and how it refuses bad options.
 * Model quality is not asserted, only that the figures are the runs' own and sizes order by rank.
 */
class SweepCliTest {
    /** Small, fast runs: 3000 training rows, batches of 100, 20 steps, validation at the end only. */
    private static final List<String> SMALL = List.of("--preset", "tiny", "--max-steps", "20", "--threads", "1",
            "--no-progress", "--set", "data.trainSamples=3000", "--set", "train.batchSize=100",
            "--set", "train.evalEvery=0");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void trainsEveryRankAndCacheFractionAndWritesCsvAndChart(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sweep");
        Cli.Result r = Cli.run("sweep", SMALL, "--ranks", "2,4", "--cache-fractions", "0,0.05", "--out", out);
        assertEquals(0, r.rc(), r.all());
        assertTrue(r.err().contains("[sweep] 1/5 uncompressed-s1 ..."), r.err());
        assertTrue(r.err().contains("[sweep] 5/5 r4-c0.05-s1 ..."), r.err());

        List<String> lines = Files.readAllLines(out.resolve("sweep.csv"));
        assertEquals("kind,rank,cache_fraction,seed,parameters,bytes,compression,test_auc,test_logloss,test_accuracy,"
                + "samples_per_s", lines.getFirst());
        assertEquals(6, lines.size(), "the uncompressed run and 2 ranks x 2 cache fractions: " + lines);
        String[] u = lines.get(1).split(",", -1);
        assertEquals(List.of("uncompressed", "", "", "1"), List.of(u).subList(0, 4), lines.get(1));
        long uParams = Long.parseLong(u[4]);
        assertEquals(1.0, Double.parseDouble(u[6]), 1e-9, "the uncompressed model compresses nothing");
        Map<String, Long> params = new HashMap<>();
        List<String> seen = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            assertEquals(11, f.length, line);
            long p = Long.parseLong(f[4]);
            assertEquals(4 * p, Long.parseLong(f[5]), "float32 bytes: " + line);
            assertEquals((double) uParams / p, Double.parseDouble(f[6]), 1e-4, "compression: " + line);
            double auc = Double.parseDouble(f[7]);
            assertTrue(auc > 0 && auc < 1, "AUC in (0, 1): " + line);
            assertTrue(Double.parseDouble(f[8]) > 0, "log loss: " + line);
            double acc = Double.parseDouble(f[9]);
            assertTrue(acc >= 0 && acc <= 1, "accuracy: " + line);
            assertTrue(Double.parseDouble(f[10]) > 0, "samples/s: " + line);
            String name = f[0].equals("tt") ? "r" + f[1] + "-c" + f[2] + "-s" + f[3] : "uncompressed-s" + f[3];
            seen.add(name);
            params.put(name, p);
            // the CSV holds the run's own final test metrics, as its run folder recorded them
            JsonNode test = lastTest(out.resolve("runs").resolve(name).resolve("metrics.jsonl"));
            assertEquals(test.path("auc").asDouble(), auc, 1e-6, name);
            assertEquals(test.path("logloss").asDouble(), Double.parseDouble(f[8]), 1e-6, name);
        }
        assertEquals(List.of("uncompressed-s1", "r2-c0-s1", "r2-c0.05-s1", "r4-c0-s1", "r4-c0.05-s1"), seen);
        assertTrue(params.get("r2-c0-s1") < params.get("r4-c0-s1"), "parameters grow with rank: " + params);
        assertTrue(params.get("r2-c0.05-s1") < params.get("r4-c0.05-s1"), "parameters grow with rank: " + params);
        assertTrue(params.get("r2-c0-s1") < params.get("r2-c0.05-s1"), "the cache holds parameters too: " + params);
        assertTrue(params.get("r4-c0.05-s1") < uParams, "every TT model is below the uncompressed one: " + params);

        // each run folder's configuration is the one its name says
        JsonNode tt = JSON.readTree(out.resolve("runs/r4-c0.05-s1/config.json").toFile()).path("config").path("model").path("tt");
        assertEquals(4, tt.path("rank").asInt());
        assertEquals(0.05, tt.path("cacheFraction").asDouble());
        JsonNode dense = JSON.readTree(out.resolve("runs/uncompressed-s1/config.json").toFile());
        assertEquals(-1, dense.path("config").path("model").path("tt").path("threshold").asLong());
        assertEquals(10, dense.path("tables").size());
        dense.path("tables").forEach(t -> assertTrue(t.asText().contains(": dense "), "every table dense: " + t));
        assertTrue(JSON.readTree(out.resolve("runs/r2-c0-s1/config.json").toFile()).path("tables").toString().contains(": TT "));

        byte[] png = Files.readAllBytes(out.resolve("sweep.png"));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
        assertTrue(r.out().contains("csv: " + out.resolve("sweep.csv").toAbsolutePath()), r.out());
        assertTrue(r.out().contains("png: " + out.resolve("sweep.png").toAbsolutePath()), r.out());
        List<String> table = r.out().lines().toList();
        assertTrue(table.getFirst().startsWith("model") && table.getFirst().contains("vs uncompressed"), r.out());
        assertTrue(table.get(1).startsWith("uncompressed"), r.out());
        assertTrue(table.stream().anyMatch(l -> l.matches("TT\\s+4\\s+0\\.05\\s+.*x\\d+\\.\\d\\d\\s+0\\.\\d{4}\\s+[+-]\\d\\.\\d{4}")),
                "a row per rank and cache fraction with its AUC and the difference: " + r.out());

        // a second sweep into the same folder is refused unless told to overwrite, before any training
        Cli.Result again = Cli.run("sweep", SMALL, "--ranks", "2", "--out", out);
        assertEquals(2, again.rc(), again.all());
        assertTrue(again.err().contains("--out") && again.err().contains("--overwrite"), again.err());
        assertFalse(again.err().contains("[sweep] 1/"), "nothing ran: " + again.err());
        // with --overwrite it replaces the sweep: its own runs anew, the earlier sweep's other runs kept and named
        Cli.Result over = Cli.run("sweep", SMALL, "--ranks", "2", "--out", out, "--overwrite");
        assertEquals(0, over.rc(), over.all());
        assertEquals(3, Files.readAllLines(out.resolve("sweep.csv")).size(), "uncompressed and r2-c0 only");
        assertTrue(over.err().contains("r4-c0.05-s1 is an earlier sweep's run"), over.err());
        assertTrue(Files.exists(out.resolve("runs/r4-c0.05-s1/config.json")));
    }

    /** @return the last test evaluation a run folder's metrics.jsonl records */
    private static JsonNode lastTest(Path metrics) throws Exception {
        JsonNode last = null;
        for (String line : Files.readAllLines(metrics)) {
            JsonNode n = JSON.readTree(line);
            if (n.path("kind").asText().equals("test")) {
                last = n;
            }
        }
        assertTrue(last != null, "no test line in " + metrics);
        return last;
    }

    @Test
    void badOptionsExitWith2AndNameTheOption(@TempDir Path dir) {
        Object[][] cases = {
            {"--ranks", "0,4"}, {"--ranks", ""}, {"--ranks", "4,8,4"}, {"--ranks", "four"},
            {"--cache-fractions", "1.5"}, {"--cache-fractions", "-0.1"}, {"--cache-fractions", "0,0.0"},
            {"--cache-fractions", ""}, {"--seeds", "1,2,1"}, {"--seeds", ""}, {"--seed", "2", "--seeds", "1"},
            {"--tt-threshold", "5000000"},
        };
        Cli.assertEachRejectedNamingTheOption(List.of("sweep", SMALL, "--out", dir.resolve("never")), cases);
        assertFalse(Files.exists(dir.resolve("never")), "nothing is written for bad options");

        Cli.Result noOut = Cli.run("sweep", SMALL, "--ranks", "4");
        assertEquals(2, noOut.rc(), noOut.all());
        assertTrue(noOut.err().contains("--out"), noOut.err());
    }

    @Test
    void aDivergedRunIsRecordedAndTheSweepGoesOn(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sweep");
        Cli.Result r = Cli.run("sweep", SMALL, "--ranks", "2", "--set", "train.lr=1e6", "--set", "train.logEvery=5",
                "--out", out);
        assertEquals(3, r.rc(), r.all());
        assertTrue(r.err().contains("[sweep] 2/2 r2-c0-s1 ..."), "the second run ran after the first diverged: " + r.err());
        assertTrue(r.err().contains("diverged"), r.err());
        List<String> lines = Files.readAllLines(out.resolve("sweep.csv"));
        assertEquals(3, lines.size(), lines.toString());
        for (String line : lines.subList(1, 3)) {
            assertTrue(line.endsWith(",NaN,NaN,NaN,NaN"), "no metrics for a diverged run: " + line);
        }
        assertTrue(r.out().contains("png: none"), r.out());
        assertFalse(Files.exists(out.resolve("sweep.png")));
    }

    @Test
    void overwriteReplacesOnlyASweep(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sweep");
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "mine");
        Cli.Result r = Cli.run("sweep", SMALL, "--ranks", "2", "--out", out, "--overwrite");
        assertEquals(2, r.rc(), r.all());
        assertTrue(r.err().contains("notes.txt") && r.err().contains("--out"), r.err());
        assertEquals("mine", Files.readString(out.resolve("notes.txt")), "a file that is not a sweep's is kept");
    }
}
