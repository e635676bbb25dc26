package org.ttrec.dlrm.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.engine.ComputeBackend;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The example program in the README, taken from between its markers, compiles against this
 * module alone and prints, for raw Criteo-style lines, the probabilities the API gives them.
 */
class ReadmeExampleTest {
    @Test
    void theReadmeExampleCompilesAndScoresRows(@TempDir Path dir) throws Exception {
        Path readme = findReadme();
        String text = Files.readString(readme);
        int a = text.indexOf("<!-- score-example:start -->"), b = text.indexOf("<!-- score-example:end -->");
        assertTrue(a >= 0 && b > a, "README.md has no score-example markers");
        String block = text.substring(a, b);
        String code = block.substring(block.indexOf("```java") + 7, block.lastIndexOf("```"));
        Path src = dir.resolve("src/ScoreExample.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, code);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diag = new ByteArrayOutputStream();
        int rc = javac.run(null, diag, diag, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
                src.toString());
        assertEquals(0, rc, "the README example does not compile:\n" + diag.toString(StandardCharsets.UTF_8));

        // a model with dictionaries, and raw lines: label, 13 counts (some empty), 5 hex values (one unseen)
        int[] distinct = {3, 40, 300, 1999, 50};
        Dictionaries d = ScoreFixtures.dictionaries(distinct, 1);
        Path dictFile = dir.resolve("dictionaries.ttrd");
        d.write(dictFile);
        RunConfig c = ScoreFixtures.config(d.cardinalities());
        Path model = dir.resolve("model.ttrm");
        try (ComputeBackend be = ScoreFixtures.cpu1(); DlrmModel m = ScoreFixtures.trainedModel(be, c)) {
            ModelFile.write(ScoreFixtures.checkpoint(dir.resolve("ck.ttrec"), m, c), model, dictFile, false);
        }
        SplittableRandom rnd = new SplittableRandom(8);
        List<String> lines = new ArrayList<>();
        int n = 700; // two batches in the example
        for (int r = 0; r < n; r++) {
            StringBuilder sb = new StringBuilder(rnd.nextInt(2) + "");
            for (int j = 0; j < 13; j++) {
                sb.append('\t').append(rnd.nextInt(5) == 0 ? "" : Integer.toString(rnd.nextInt(300) - 2));
            }
            for (int t = 0; t < distinct.length; t++) {
                int i = rnd.nextInt(distinct[t] + 1); // i == distinct[t]: a value the dictionaries never saw
                sb.append('\t').append(String.format("%08x", ScoreFixtures.hash(t, i)));
            }
            lines.add(sb.toString());
        }
        Path tsv = dir.resolve("rows.tsv");
        Files.write(tsv, lines);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try (URLClassLoader cl = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            cl.loadClass("ScoreExample").getMethod("main", String[].class)
                    .invoke(null, (Object) new String[] {model.toString(), tsv.toString()});
        } finally {
            System.setOut(old);
        }
        String[] printed = out.toString(StandardCharsets.UTF_8).split("\\R");
        assertEquals(n, printed.length, out.toString(StandardCharsets.UTF_8));
        try (ScoringModel s = ScoringModel.load(model)) {
            for (int r = 0; r < n; r++) {
                String[] f = lines.get(r).split("\t", -1);
                float[] x = new float[13];
                int[] cat = new int[distinct.length];
                for (int j = 0; j < 13; j++) {
                    x[j] = f[1 + j].isEmpty() ? 0 : Integer.parseInt(f[1 + j]);
                }
                for (int t = 0; t < cat.length; t++) {
                    cat[t] = (int) Long.parseLong(f[14 + t], 16);
                }
                String want = r + "\t" + String.format(Locale.getDefault(), "%.6f", s.predict(x, cat, CategoricalEncoding.RAW_HASH));
                assertEquals(want, printed[r], "line " + r);
            }
        }
    }

    private static Path findReadme() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("dlrm"))) {
                return p.resolve("README.md");
            }
        }
        throw new AssertionError("no README.md above " + Path.of("").toAbsolutePath());
    }
}
