package org.ttrec.tests.e2e;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.cli.Main;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.layers.DenseEmbeddingBag;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.Backends;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.scalar.ScalarBackend;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ttrec train} and {@code ttrec eval} run in-process through the real command line, with
 * TT tables on the Vector API backend: a run on real Criteo rows, bit-identical reruns and
 * resumes, and a corrupt checkpoint.
 */
class TrainEndToEndTest {

    record Result(int rc, String out, String err) {}

    static Result run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        int rc;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            rc = cl.execute(args);
        } finally {
            System.setOut(old);
        }
        return new Result(rc, bytes.toString(StandardCharsets.UTF_8), err.toString());
    }

    static Result ok(String... args) {
        Result r = run(args);
        assertEquals(0, r.rc, () -> "exit code of ttrec " + String.join(" ", args) + "; stdout: " + r.out
                + " stderr: " + r.err);
        return r;
    }

    static String[] args(Object... a) {
        List<String> l = new ArrayList<>();
        for (Object o : a) {
            l.add(o.toString());
        }
        return l.toArray(String[]::new);
    }

    static boolean cpuAvailable() {
        if (!Backends.availableNames().contains("cpu")) {
            System.out.println("TrainEndToEndTest: skipped, the cpu backend is not available here: "
                    + Backends.availableNames());
            return false;
        }
        return true;
    }

    /** Synthetic data shaped like the tiny preset: tables 8 (200k rows) and 9 (1M rows) are TT. */
    static String[] synthetic(Path out, int threads, Object... more) {
        return syntheticSeeded(out, threads, 7, more);
    }

    static String[] syntheticSeeded(Path out, int threads, long seed, Object... more) {
        List<Object> a = new ArrayList<>(List.of("train", "--preset", "tiny", "--backend", "cpu", "--threads", threads,
                "--no-progress", "--train-samples", 6000, "--batch-size", 64, "--eval-every", 0, "--log-every", 10,
                "--tt-threshold", 100_000, "--tt-rank", 8, "--seed", seed, "--out", out));
        a.addAll(List.of(more));
        return args(a.toArray());
    }

    @Test
    void trainOnRealCriteoSample(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(cpuAvailable());
        Path csv = Path.of(System.getProperty("ttrec.repo.root", "."), "..", "shared", "data",
                "criteo_kaggle_train_tiny_2k.csv").normalize();
        if (!Files.isRegularFile(csv)) {
            System.out.println("TrainEndToEndTest: skipped, the real Criteo sample is missing: " + csv);
            Assumptions.abort("missing " + csv);
        }
        Path out = dir.resolve("run");
        Result r = ok(args("train", "--data", csv, "--backend", "cpu", "--threads", 2, "--no-progress",
                "--dim", 8, "--bottom-mlp", "13-16-8", "--top-mlp", "16-1", "--batch-size", 32,
                "--test-batch-size", 256, "--eval-every", 0, "--max-steps", 15, "--tt-threshold", 100, "--tt-rank", 4,
                "--out", out));
        System.out.println(r.out);
        for (String f : new String[] {"config.json", "metrics.jsonl", "checkpoint.ttrec"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)) && Files.size(out.resolve(f)) > 0, f + " in " + out);
        }
        assertTrue(r.out.contains("compression x"), r.out);
        // the summary lists each TT table as "table N: <uncompressed> -> <TT> parameters"
        assertTrue(r.out.lines().anyMatch(l -> l.matches("\\s*table \\d+: [\\d,]+ -> [\\d,]+ parameters.*")),
                "no TT table in " + r.out);
        assertTrue(r.out.contains("done after 15 steps"), r.out);
        assertTrue(r.out.contains("test:") && r.out.contains("AUC"), r.out);
        double ratio = Double.parseDouble(r.out.split("compression x")[1].split("\\s")[0]);
        assertTrue(ratio > 1, "compression ratio " + ratio);
        assertEquals(15, Checkpoint.readHeader(out.resolve("checkpoint.ttrec")).state().step());
    }

    /** Everything a checkpoint restores: MLP parameters and optimiser state, TT cores and states, dense tables. */
    static List<float[]> parameters(Path checkpoint) throws IOException {
        Checkpoint.Header h = Checkpoint.readHeader(checkpoint);
        RunConfig c = h.config();
        List<float[]> all = new ArrayList<>();
        try (Dataset d = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, d);
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            DlrmModel m = TrainingSetup.build(new ScalarBackend(), c, specs);
            DenseOptimizer opt = Trainer.optimizerFor(c, m);
            Checkpoint.restore(checkpoint, m, opt);
            all.add(m.parameters().toArray());
            int tt = 0;
            for (EmbeddingBagLayer l : m.tables()) {
                if (l instanceof TtEmbeddingBag t) {
                    tt++;
                    int cores = t.shape().cores();
                    for (int k = 0; k < cores; k++) {
                        all.add(t.table().readCore(k));
                    }
                    for (int k = 0; k < cores && t.table().readState(0) != null; k++) {
                        all.add(t.table().readState(k));
                    }
                } else {
                    all.add(l.materializeAll());
                    float[] st = ((DenseEmbeddingBag) l).optimizerState();
                    if (st != null) {
                        all.add(st);
                    }
                }
            }
            assertTrue(tt >= 1, "no TT table in " + checkpoint);
        }
        return all;
    }

    static void assertSameParameters(String what, List<float[]> a, List<float[]> b) {
        assertEquals(a.size(), b.size(), what);
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), what + ": parameter array " + i);
        }
    }

    static String finalLine(String out) {
        return out.lines().filter(l -> l.contains("test:")).findFirst().orElse("<no test line>");
    }

    @Test
    void sameSeedTwiceIsBitIdentical(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(cpuAvailable());
        Path a = dir.resolve("a"), b = dir.resolve("b"), other = dir.resolve("other");
        Result ra = ok(synthetic(a, 1, "--max-steps", 30));
        Result rb = ok(synthetic(b, 1, "--max-steps", 30));
        List<float[]> pa = parameters(a.resolve("checkpoint.ttrec"));
        assertSameParameters("same seed, same threads", pa, parameters(b.resolve("checkpoint.ttrec")));
        // and the final test metrics agree
        assertEquals(finalLine(ra.out), finalLine(rb.out));
        assertTrue(finalLine(ra.out).contains("AUC"), ra.out);
        // a different seed really changes the result (else the comparison above proves nothing)
        ok(syntheticSeeded(other, 1, 8, "--max-steps", 30));
        List<float[]> po = parameters(other.resolve("checkpoint.ttrec"));
        boolean differs = false;
        for (int i = 0; i < pa.size(); i++) {
            differs |= !java.util.Arrays.equals(pa.get(i), po.get(i));
        }
        assertTrue(differs, "seed 8 gave the same parameters as seed 7");
    }

    /** --table-threads: the tables on a backend of their own, beside the MLP, give the inline run's bits. */
    @Test
    void tablesBesideTheMlpGiveTheInlineBits(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(cpuAvailable());
        Path a = dir.resolve("inline"), b = dir.resolve("beside");
        Result ra = ok(synthetic(a, 1, "--max-steps", 30));
        Result rb = ok(synthetic(b, 1, "--max-steps", 30, "--table-threads", 1));
        assertSameParameters("tables inline vs beside the MLP", parameters(a.resolve("checkpoint.ttrec")),
                parameters(b.resolve("checkpoint.ttrec")));
        assertEquals(finalLine(ra.out), finalLine(rb.out));
        Result bad = run(synthetic(dir.resolve("bad"), 1, "--max-steps", 3, "--table-threads", -1));
        assertTrue(bad.err.contains("train.tableThreads must be >= 0"), bad.err);
    }

    @Test
    void resumeContinuesBitIdentically(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(cpuAvailable());
        Path full = dir.resolve("full"), half = dir.resolve("half");
        ok(synthetic(full, 1, "--optimizer", "adagrad", "--lr", 0.05, "--max-steps", 40));
        ok(synthetic(half, 1, "--optimizer", "adagrad", "--lr", 0.05, "--max-steps", 20));
        List<float[]> atHalf = parameters(half.resolve("checkpoint.ttrec"));
        Path rest = dir.resolve("rest"); // a resumed run writes a folder of its own
        Result r = ok(synthetic(rest, 1, "--optimizer", "adagrad", "--lr", 0.05, "--max-steps", 40,
                "--resume", half.resolve("checkpoint.ttrec")));
        assertTrue(r.out.contains("done after 40 steps"), r.out);
        assertEquals(20, Checkpoint.readHeader(half.resolve("checkpoint.ttrec")).state().step(), "the parent was changed");
        assertEquals(40, Checkpoint.readHeader(rest.resolve("checkpoint.ttrec")).state().step());
        List<float[]> resumed = parameters(rest.resolve("checkpoint.ttrec"));
        assertSameParameters("40 steps vs 20 + resumed 20", parameters(full.resolve("checkpoint.ttrec")), resumed);
        boolean moved = false;
        for (int i = 0; i < atHalf.size(); i++) {
            moved |= !java.util.Arrays.equals(atHalf.get(i), resumed.get(i));
        }
        assertTrue(moved, "the resumed 20 steps changed nothing");
    }

    @Test
    void corruptCheckpointIsExitCode2NamingTheFile(@TempDir Path dir) throws IOException {
        Assumptions.assumeTrue(cpuAvailable());
        Path out = dir.resolve("run");
        ok(synthetic(out, 1, "--max-steps", 5));
        Path good = out.resolve("checkpoint.ttrec");
        byte[] bytes = Files.readAllBytes(good);

        // a flipped byte in the middle (parameters), a truncated file and a file of garbage
        byte[] flipped = bytes.clone();
        flipped[bytes.length / 2] ^= 0x5A;
        Path f1 = dir.resolve("flipped.ttrec");
        Files.write(f1, flipped);
        Path f2 = dir.resolve("truncated.ttrec");
        Files.write(f2, java.util.Arrays.copyOf(bytes, bytes.length * 2 / 3));
        Path f3 = dir.resolve("garbage.ttrec");
        Files.writeString(f3, "this is not a checkpoint\n");
        for (Path bad : new Path[] {f1, f2, f3}) {
            Result r = run("eval", "--checkpoint", bad.toString(), "--backend", "cpu", "--threads", "1");
            assertEquals(2, r.rc, bad + ": stdout " + r.out + " stderr " + r.err);
            assertTrue(r.err.contains(bad.getFileName().toString()), "message does not name the file: " + r.err);
            assertFalse(r.err.contains("\tat "), "a stack trace instead of one line: " + r.err);
            System.out.println("corrupt checkpoint: " + r.err.strip());
        }
        // and the intact file still evaluates
        Result r = ok("eval", "--checkpoint", good.toString(), "--backend", "cpu", "--threads", "1");
        assertTrue(r.out.contains("step 5") && r.out.contains("AUC"), r.out);
    }
}
