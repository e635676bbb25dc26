package org.ttrec.dlrm.model.safetensors;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.scalar.ScalarBackend;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The PyTorch script of docs/safetensors.md, taken out of the document as it stands, scores the
 * rows of an exported model as ttrec does (float32 rounding apart): uncompressed and TT tables,
 * a populated hot-row cache whose values differ from the cores', dot, self-dot and cat
 * interactions. Needs python3 with torch (Debian's python3-torch); without one the test is
 * skipped and says why. {@code -Dttrec.python=/path/to/python3} picks the interpreter.
 */
class PytorchScoringTest {
    /** Relative tolerance: float32 sums in another order, through a few layers. */
    private static final double REL = 1e-5;
    private static final int ROWS = 300;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}, self {1}, cache {2}")
    @CsvSource({"dot, false, 0.05", "dot, true, 0.05", "cat, false, 0"})
    void pytorchScoresAsTtrecDoes(String interaction, boolean self, double cache) throws Exception {
        String python = pythonWithTorch();
        Path script = dir.resolve("score.py");
        Files.writeString(script, scriptFromDocs());

        ModelConfig c = SmallModels.config(interaction, self, cache);
        ComputeBackend be = new ScalarBackend();
        SmallModels.Rows rows = SmallModels.rows(c, ROWS, 2024);
        float[] want;
        Path model = dir.resolve("model.safetensors");
        try (DlrmModel m = SmallModels.build(be, c, 7)) {
            SmallModels.train(m, 4, 5);
            if (cache > 0) {
                assertCacheMatters(m, rows);
            }
            want = Arrays.copyOf(m.predict(rows.batch()), ROWS);
            DlrmSafetensors.export(m, model, null);
        }
        Path tsv = dir.resolve("rows.tsv");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ROWS; i++) {
            List<String> f = new ArrayList<>();
            Arrays.stream(rows.rawDense()[i]).forEach(v -> f.add(Integer.toString(v)));
            Arrays.stream(rows.index()[i]).forEach(v -> f.add(Integer.toString(v)));
            sb.append(String.join("\t", f)).append('\n');
        }
        Files.writeString(tsv, sb.toString());

        Run r = run(List.of(python, script.toString(), model.toString(), tsv.toString()), 300);
        assertEquals(0, r.rc, "score.py failed:\n" + r.out + r.err);
        String[] lines = r.out.strip().split("\n");
        assertEquals(ROWS, lines.length, r.out + r.err);
        double worst = 0;
        for (int i = 0; i < ROWS; i++) {
            double got = Double.parseDouble(lines[i].strip());
            double err = Math.abs(got - want[i]) / Math.max(Math.abs(want[i]), 1e-6);
            worst = Math.max(worst, err);
            assertTrue(err <= REL, String.format(Locale.ROOT, "row %d: PyTorch %.9g, ttrec %.9g (relative %.2e)",
                    i, got, want[i], err));
        }
        System.out.printf(Locale.ROOT, "PytorchScoringTest %s self=%s cache=%s: %d rows, worst relative difference %.2e%n",
                interaction, self, cache, ROWS, worst);
    }

    /**
     * The scored rows must hit cached rows whose values differ from the cores': otherwise a script
     * that ignored the cache would pass.
     */
    private static void assertCacheMatters(DlrmModel m, SmallModels.Rows rows) {
        int tested = 0;
        for (int t = 0; t < m.tables().size(); t++) {
            if (!(m.tables().get(t) instanceof TtEmbeddingBag tt)) {
                continue;
            }
            Set<Integer> cached = new LinkedHashSet<>();
            Arrays.stream(tt.cachedRows()).forEach(cached::add);
            for (int[] row : rows.index()) {
                if (cached.contains(row[t])) {
                    int[] one = {row[t]};
                    assertFalse(Arrays.equals(tt.materialize(one), tt.table().materialize(one)),
                            tt.name() + " row " + row[t] + ": cache value equals the cores' (nothing to test)");
                    tested++;
                }
            }
        }
        assertTrue(tested > 10, "only " + tested + " lookups hit a cached row");
    }

    /** @return the block after the "score.py" marker in docs/safetensors.md */
    static String scriptFromDocs() throws IOException {
        Path doc = Path.of(System.getProperty("ttrec.repo.root", "../.."), "docs", "safetensors.md");
        List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
        int at = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("<!-- score.py")) {
                at = i;
                break;
            }
        }
        if (at < 0 || at + 1 >= lines.size() || !lines.get(at + 1).equals("```python")) {
            fail(doc + " has no '<!-- score.py' marker followed by a ```python block");
        }
        StringBuilder sb = new StringBuilder();
        for (int i = at + 2; i < lines.size(); i++) {
            if (lines.get(i).equals("```")) {
                return sb.toString();
            }
            sb.append(lines.get(i)).append('\n');
        }
        throw new AssertionError(doc + ": the score.py block is not closed");
    }

    /**
     * @return the first interpreter that imports torch: -Dttrec.python, $TTREC_PYTHON, python3 on
     *         the PATH, /usr/bin/python3 (Debian's, where python3-torch installs); skips the test
     *         when none does, saying what each gave
     */
    static String pythonWithTorch() {
        Set<String> candidates = new LinkedHashSet<>();
        if (System.getProperty("ttrec.python") != null) {
            candidates.add(System.getProperty("ttrec.python"));
        }
        if (System.getenv("TTREC_PYTHON") != null) {
            candidates.add(System.getenv("TTREC_PYTHON"));
        }
        candidates.add("python3");
        candidates.add("/usr/bin/python3");
        List<String> why = new ArrayList<>();
        for (String p : candidates) {
            try {
                Run r = run(List.of(p, "-c", "import torch; print(torch.__version__)"), 120);
                if (r.rc == 0) {
                    return p;
                }
                String[] l = (r.out + r.err).strip().split("\n");
                why.add(p + ": " + l[l.length - 1]);
            } catch (IOException e) {
                why.add(p + ": " + e.getMessage());
            }
        }
        String reason = "skipped: no python3 with torch to run docs/safetensors.md's script ("
                + String.join("; ", why) + "). Install Debian's python3-torch, or pass -Dttrec.python=...";
        System.out.println("PytorchScoringTest " + reason); // surefire's summary shows only a count
        Assumptions.assumeTrue(false, reason);
        throw new AssertionError("unreachable");
    }

    /** Exit code, standard output and standard error of a child process. */
    private record Run(int rc, String out, String err) {}

    private static Run run(List<String> cmd, int timeoutSeconds) throws IOException {
        // output to a file, not a pipe: a child that hangs cannot block the reader past the timeout
        Path log = Files.createTempFile("ttrec-python", ".log");
        Path err = Files.createTempFile("ttrec-python", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(log.toFile()).redirectError(err.toFile()).start();
            try {
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IOException(cmd.get(0) + " did not finish in " + timeoutSeconds + " s");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
            Files.deleteIfExists(err);
        }
    }
}
