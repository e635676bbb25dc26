package org.ttrec.dlrm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ttrec bench} end to end on the two small workloads, with windows of a few milliseconds:
 * what it writes and how it refuses bad options. Speed itself is never asserted.
 */
class BenchCliTest {
    /** Fast cells: the scalar batched 4x32x4 GEMM takes about 0.3 s per op, so a window holds one. */
    private static final List<String> FAST = List.of("--workloads", "tt2k,bgemm-4x32x4", "--seconds", "0.03", "--windows", "3", "--warmup", "0.01");

    @Test
    void runsOnCpuAndScalarAndWritesEveryWindow(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("b");
        Cli.Result r = Cli.run("bench", FAST, "--backends", "cpu,scalar", "--threads", "1,2", "--out", out);
        assertEquals(0, r.rc(), r.all());
        assertTrue(r.err().contains("bench [1/8] tt2k on cpu x1 ..."), "progress on stderr: " + r.err());
        String header = r.out().lines().findFirst().orElse("");
        assertTrue(header.startsWith("workload") && header.contains("scalar x1 / cpu x1"), r.out());

        JsonNode j = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
        assertFalse(j.path("ttrec").path("version").asText().isEmpty(), j.toString());
        assertTrue(j.path("machine").path("cores").asInt() > 0, j.toString());
        assertFalse(j.path("machine").path("cpu").asText().isEmpty(), j.toString());
        assertTrue(j.path("machine").path("jvm").asText().contains("25"), j.toString());
        assertEquals(3, j.path("settings").path("windows").asInt());
        JsonNode ms = j.path("measurements");
        assertEquals(8, ms.size(), "2 workloads x (cpu, scalar) x (1, 2 threads)");
        List<String> seen = new ArrayList<>();
        for (JsonNode m : ms) {
            String key = m.path("workload").asText() + " " + m.path("backend").asText() + " x" + m.path("threads").asInt();
            seen.add(key + " " + m.path("status").asText());
            if (!m.path("status").asText().equals("ok")) {
                assertTrue(m.path("reason").asText().contains("scalar runs 1 thread"), key + ": " + m);
                continue;
            }
            assertTrue(m.path("description").asText().startsWith(m.path("backend").asText()), key + ": " + m);
            assertTrue(m.path("warmupSeconds").asDouble() >= 0.01, key + ": at least --warmup: " + m);
            JsonNode ws = m.path("windows");
            assertEquals(3, ws.size(), key);
            double[] rates = new double[ws.size()];
            for (int i = 0; i < ws.size(); i++) {
                JsonNode w = ws.get(i);
                assertTrue(w.path("ops").asLong() >= 1 && w.path("seconds").asDouble() > 0, key + ": " + w);
                rates[i] = w.path("rate").asDouble();
                assertEquals(w.path("ops").asLong() * m.path("workPerOp").asDouble() / w.path("seconds").asDouble(), rates[i],
                        1e-9 * rates[i], key + ": rate = ops x work per op / seconds");
            }
            java.util.Arrays.sort(rates);
            assertTrue(rates[0] > 0, key);
            assertEquals(rates[1], m.path("median").asDouble(), key);
            assertEquals(rates[0], m.path("min").asDouble(), key);
            assertEquals(rates[2], m.path("max").asDouble(), key);
        }
        assertEquals(List.of("tt2k cpu x1 ok", "tt2k cpu x2 ok", "tt2k scalar x1 ok", "tt2k scalar x2 skipped",
                "bgemm-4x32x4 cpu x1 ok", "bgemm-4x32x4 cpu x2 ok", "bgemm-4x32x4 scalar x1 ok", "bgemm-4x32x4 scalar x2 skipped"), seen);
        assertEquals(1.0, ms.get(0).path("ratioToFirst").asDouble());
        byte[] png = Files.readAllBytes(out.resolve("bench.png"));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
        assertTrue(r.out().contains("wrote bench.json, bench.txt, bench.png in " + out), r.out());
        assertEquals(Files.readString(out.resolve("bench.txt")), r.out().substring(0, r.out().indexOf("wrote ")));
    }

    @Test
    void scalarIsSkippedOnSlowWorkloadsUnlessAskedFor(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("b");
        Cli.Result r = Cli.run("bench", "--workloads", "tt64k", "--seconds", "0.01", "--windows", "1", "--warmup", "0",
                "--backends", "scalar", "--threads", "1", "--out", out);
        assertEquals(0, r.rc(), r.all());
        JsonNode m = new ObjectMapper().readTree(out.resolve("bench.json").toFile()).path("measurements").get(0);
        assertEquals("skipped", m.path("status").asText());
        assertTrue(m.path("reason").asText().contains("--include-slow"), m.toString());
        assertTrue(r.out().contains("(a) skipped: the scalar reference takes seconds per op here"), r.out());
        assertTrue(r.out().contains("wrote bench.json, bench.txt in "), "no bars, no chart: " + r.out());
        assertFalse(Files.exists(out.resolve("bench.png")));
    }

    @Test
    void badOptionsExitWith2AndNameTheOption(@TempDir Path dir) {
        Object[][] cases = {
            {"--backends", "cpu,nope"}, {"--threads", "1,0"}, {"--threads", "two"}, {"--workloads", "sgemm,gemv"},
            {"--seconds", "0"}, {"--windows", "0"}, {"--warmup", "-1"}, {"--device", "0:0", "--backends", "cpu"},
        };
        Cli.assertEachRejectedNamingTheOption(List.of("bench", "--out", dir.resolve("never")), cases);
        assertFalse(Files.exists(dir.resolve("never")), "nothing is written for bad options");
    }
}
