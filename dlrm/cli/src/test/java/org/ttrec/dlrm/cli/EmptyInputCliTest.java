package org.ttrec.dlrm.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue item 2: empty input must not "succeed". Zero training or test rows, zero steps or NaN
 * metrics make train, eval and preprocess exit non-zero with a clear message, and a run that
 * trained nothing writes no run folder, checkpoint or plot.
 */
class EmptyInputCliTest {
    static final String CSV_HEADER;

    static {
        List<String> h = new ArrayList<>(List.of("Id", "Label"));
        for (int i = 1; i <= 13; i++) {
            h.add("I" + i);
        }
        for (int i = 1; i <= 26; i++) {
            h.add("C" + i);
        }
        CSV_HEADER = String.join(",", h);
    }

    private static void assertNothingWritten(Path out) {
        assertFalse(Files.exists(out), "a run that trained nothing made " + out);
    }

    @Test
    void emptyAndHeaderOnlyFilesAreRejectedByTrainAndPreprocess(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.tsv"), "");
        Path tsvHeader = Files.writeString(dir.resolve("header.tsv"), CSV_HEADER.substring(3).replace(',', '\t') + "\n");
        Path csvHeader = Files.writeString(dir.resolve("header.csv"), CSV_HEADER + "\r\n");
        for (Path f : new Path[] {empty, tsvHeader, csvHeader}) {
            Path out = dir.resolve("run-" + f.getFileName());
            Cli.Result r = Cli.train(out, "--data", f);
            assertNotEquals(0, r.rc(), () -> f + ": " + r.all());
            assertTrue(r.err().contains("no rows") || r.err().contains("0 rows"), f + ": " + r.err());
            assertTrue(r.err().contains(f.getFileName().toString()), "message does not name the file: " + r.err());
            assertNothingWritten(out);

            Path pp = dir.resolve("pp-" + f.getFileName());
            Cli.Result p = Cli.run("preprocess", "-o", pp, "--no-progress", f);
            assertNotEquals(0, p.rc(), () -> f + ": " + p.all());
            assertTrue(p.err().contains("no rows") || p.err().contains("0 rows"), p.err());
            assertFalse(Files.exists(pp.resolve("metadata.json")), "preprocess wrote a 0-row data set");
        }
    }

    @Test
    void zeroEpochsOrStepsAreRejectedBeforeAnythingIsWritten(@TempDir Path dir) {
        Cli.Result e = Cli.train(dir.resolve("e0"), "--epochs", "0");
        assertEquals(2, e.rc(), e::all);
        assertTrue(e.err().contains("--epochs") && e.err().contains(">= 1"), e.err());
        assertNothingWritten(dir.resolve("e0"));
        Cli.Result s = Cli.train(dir.resolve("s0"), "--max-steps", "0");
        assertEquals(2, s.rc(), s::all);
        assertTrue(s.err().contains("--max-steps"), s.err());
        assertNothingWritten(dir.resolve("s0"));
    }

    @Test
    void emptyTestSplitAndNaNMetricsAreErrors(@TempDir Path dir) throws Exception {
        // 5 rows split as 7 'days': every row is training data, test and validation are empty
        Path synth = dir.resolve("s.tsv");
        assertEquals(0, Cli.run("synth", "-o", synth, "--rows", "700", "--scale-down", "5000", "--no-progress").rc());
        List<String> lines = Files.readAllLines(synth);
        Path five = Files.write(dir.resolve("five.tsv"), lines.subList(0, 5));
        Cli.Result r = Cli.train(dir.resolve("five"), "--data", five);
        assertEquals(2, r.rc(), r::all);
        assertTrue(r.err().contains("test") && r.err().contains("0 rows"), r.err());
        assertNothingWritten(dir.resolve("five"));

        // every label 0: the AUC is undefined (NaN); train and eval must say so and fail
        List<String> zeros = new ArrayList<>();
        for (String l : lines) {
            zeros.add("0" + l.substring(1));
        }
        Path allZero = Files.write(dir.resolve("zeros.tsv"), zeros);
        Path out = dir.resolve("zeros");
        Cli.Result z = Cli.train(out, "--data", allZero, "--max-steps", "3");
        assertNotEquals(0, z.rc(), z::all);
        assertTrue(z.err().contains("NaN") || z.err().contains("undefined"), z.err());
        Cli.Result ev = Cli.run("eval", "--checkpoint", out.resolve("checkpoint.ttrec"), "--backend", "scalar");
        assertNotEquals(0, ev.rc(), ev::all);
        assertTrue(ev.err().contains("NaN") || ev.err().contains("undefined"), ev.err());
    }
}
