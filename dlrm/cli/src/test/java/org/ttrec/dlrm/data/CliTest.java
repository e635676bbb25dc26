package org.ttrec.dlrm.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.cli.Main;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ttrec synth} and {@code ttrec preprocess} run in-process. */
class CliTest {
    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void synthThenPreprocessThenOpen() throws IOException {
        Path tsv = tmp.resolve("s.tsv");
        Run s = run("synth", "-o", tsv.toString(), "--rows", "7000", "--scale-down", "5000", "--seed", "3", "--no-progress");
        assertEquals(0, s.code, s.err);
        assertTrue(s.out.contains("teacher AUC"), s.out);
        Path out = tmp.resolve("pp");
        Run p = run("preprocess", "-o", out.toString(), "--threads", "2", "--rows-per-shard", "3000", "--no-progress",
                tsv.toString());
        assertEquals(0, p.code, p.err);
        assertTrue(p.out.contains("7,000 rows in 3 shards"), p.out);
        try (Dataset d = Datasets.open(out.toString(), DatasetOptions.defaults())) {
            assertEquals(6000, d.size(Split.TRAIN));
        }
    }

    @Test
    void badRowFailsWithPositionOrIsSkipped() throws IOException {
        List<String> lines = Files.readAllLines(TestData.shared(TestData.TSV), StandardCharsets.ISO_8859_1);
        lines.set(41, lines.get(41).replaceFirst("\t", "\tx"));
        Path bad = tmp.resolve("bad.tsv");
        Files.write(bad, lines, StandardCharsets.ISO_8859_1);
        Run f = run("preprocess", "-o", tmp.resolve("o1").toString(), "--no-progress", bad.toString());
        assertEquals(2, f.code);
        assertTrue(f.err.contains(bad + ":42") && f.err.contains("I1"), f.err);
        Run k = run("preprocess", "-o", tmp.resolve("o2").toString(), "--no-progress", "--on-bad-row=skip", bad.toString());
        assertEquals(0, k.code, k.err);
        assertTrue(k.out.contains("99 rows") && k.out.contains("bad_integer=1"), k.out);
        DatasetMetadata m = DatasetMetadata.read(tmp.resolve("o2").resolve(ShardFormat.METADATA));
        assertEquals(1L, m.skipped().get("bad_integer"));
        Run wrong = run("preprocess", "-o", tmp.resolve("o3").toString(), "--on-bad-row=maybe", bad.toString());
        assertEquals(2, wrong.code);
        assertTrue(wrong.err.contains("--on-bad-row"), wrong.err);
    }
}
