package org.ttrec.tests.e2e;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.CheckpointStore;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.scalar.ScalarBackend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash test: {@code ttrec train} in a child JVM (the test JVM's java and class path, with the
 * Vector API module) is killed with SIGKILL at random moments, at least 20 times, many of them
 * while a checkpoint is being written (a test-only property pauses the writer between the finished
 * temporary file and the atomic rename). After each kill the newest checkpoint must load, and
 * training resumes from it in place; the chain of resumed runs must end with the bits of an
 * uninterrupted run. Stale temporary files of the killed writers must be gone at the end.
 */
class CrashResumeTest {
    private static final int KILLS = 22;

    static List<String> trainArgs(Path out) {
        return new ArrayList<>(List.of("train", "--preset", "tiny", "--backend", "cpu", "--threads", "1",
                "--no-progress", "--train-samples", "2400", "--batch-size", "50", "--epochs", "1",
                "--eval-every", "0", "--log-every", "5", "--checkpoint-every", "2", "--keep-checkpoints", "2",
                "--tt-rank", "4", "--seed", "11", "--out", out.toString()));
    }

    /** The parameter and optimiser bytes of a checkpoint (after the JSON header, before the trailer). */
    static byte[] payload(Path ck) throws IOException {
        byte[] b = Files.readAllBytes(ck);
        int len = ByteBuffer.wrap(b, 12, 4).getInt();
        return Arrays.copyOfRange(b, 16 + len, b.length - 16);
    }

    static Process start(Path log, List<String> args, long commitDelayMs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-XX:+UseSerialGC",
                "-Dttrec.test.checkpointCommitDelayMs=" + commitDelayMs,
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "org.ttrec.dlrm.cli.Main"));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    /** Loads a checkpoint fully into a model built from its own config (CRC, header, every table). */
    static void load(Path ck) throws IOException {
        Checkpoint.Header h = Checkpoint.readHeader(ck);
        RunConfig c = h.config();
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
        try (DlrmModel m = TrainingSetup.build(new ScalarBackend(), c, specs)) {
            Checkpoint.restore(ck, m, Trainer.optimizerFor(c, m));
        }
    }

    static List<Path> temporaries(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path d : new Path[] {dir, dir.resolve(CheckpointStore.DIR)}) {
            if (Files.isDirectory(d)) {
                try (Stream<Path> s = Files.list(d)) {
                    s.filter(p -> p.getFileName().toString().contains(".tmp-")).forEach(out::add);
                }
            }
        }
        return out;
    }

    @Test
    void killedAtRandomMomentsResumesToTheUninterruptedBits(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(TrainEndToEndTest.cpuAvailable());
        long t0 = System.nanoTime();
        // the uninterrupted run, in a child JVM too (same flags), also measures how long a run takes
        Path ref = dir.resolve("reference");
        Path refLog = dir.resolve("reference.log");
        long r0 = System.nanoTime();
        Process rp = start(refLog, trainArgs(ref), 25);
        assertTrue(rp.waitFor(300, TimeUnit.SECONDS), "the reference run hung");
        assertEquals(0, rp.exitValue(), () -> "reference run failed: " + read(refLog));
        long runMs = (System.nanoTime() - r0) / 1_000_000;
        byte[] expected = payload(ref.resolve(CheckpointStore.LATEST));
        long finalStep = Checkpoint.readHeader(ref.resolve(CheckpointStore.LATEST)).state().step();

        long seed = Long.getLong("ttrec.crash.seed", System.nanoTime());
        System.out.println("CrashResumeTest: seed " + seed + " (-Dttrec.crash.seed to repeat), uninterrupted run "
                + runMs + " ms, " + finalStep + " steps");
        Random rnd = new Random(seed);
        Path run = dir.resolve("run");
        Path log = dir.resolve("run.log");
        int kills = 0, completions = 0, withTemp = 0, resumes = 0;
        long lastStep = -1;
        while (kills < KILLS) {
            boolean fresh = !Files.isDirectory(run.resolve(CheckpointStore.DIR))
                    || CheckpointStore.stepFiles(run.resolve(CheckpointStore.DIR)).isEmpty();
            List<String> args;
            if (fresh) {
                lastStep = -1;
                args = trainArgs(run);
                if (Files.exists(run)) {
                    args.add("--overwrite"); // killed before its first checkpoint: start over
                }
            } else {
                Path newest = CheckpointStore.resolve(run);
                if (Checkpoint.readHeader(newest).state().step() >= finalStep) {
                    // killed after the last checkpoint (during the test evaluation): the chain is done
                    assertArrayEquals(expected, payload(newest), "a resumed chain ended with other bits than the uninterrupted run");
                    completions++;
                    deleteTree(run);
                    continue;
                }
                args = new ArrayList<>(List.of("train", "--resume", run.toString(), "--continue-in-place", "--no-progress"));
                resumes++;
            }
            log = dir.resolve("child-" + (kills + completions + resumes) + ".log");
            Process p = start(log, args, 25);
            // a moment spread over the whole run, JVM start included
            long delay = 300 + (long) (rnd.nextDouble() * runMs);
            if (p.waitFor(delay, TimeUnit.MILLISECONDS)) {
                Path l = log;
                assertEquals(0, p.exitValue(), () -> "a run ended on its own with an error: " + tail(l));
                completions++;
                assertArrayEquals(expected, payload(run.resolve(CheckpointStore.LATEST)),
                        "a resumed chain finished with other bits than the uninterrupted run");
                // start a new chain
                deleteTree(run);
                continue;
            }
            p.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            kills++;
            if (!temporaries(run).isEmpty()) {
                withTemp++; // killed inside a write: its temporary file is left for the next writer to remove
            }
            Path newest;
            try {
                newest = CheckpointStore.resolve(run);
            } catch (IOException e) {
                continue; // killed before the first checkpoint
            }
            load(newest); // the newest checkpoint is complete and loads, whatever the moment of the kill
            long step = Checkpoint.readHeader(newest).state().step();
            assertTrue(step >= lastStep || fresh, "the newest checkpoint went back from " + lastStep + " to " + step);
            lastStep = step;
        }
        Path lastLog = dir.resolve("last.log");
        // finish the last chain and compare its bits with the uninterrupted run's
        if (Files.isDirectory(run.resolve(CheckpointStore.DIR))
                && !CheckpointStore.stepFiles(run.resolve(CheckpointStore.DIR)).isEmpty()) {
            long at = Checkpoint.readHeader(CheckpointStore.resolve(run)).state().step();
            if (at < finalStep) {
                Process p = start(lastLog, List.of("train", "--resume", run.toString(), "--continue-in-place", "--no-progress"), 0);
                assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the last resume hung");
                assertEquals(0, p.exitValue(), () -> "the last resume failed: " + tail(lastLog));
            }
        } else {
            deleteTree(run);
            Process p = start(lastLog, trainArgs(run), 0);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), () -> tail(lastLog));
        }
        assertEquals(finalStep, Checkpoint.readHeader(run.resolve(CheckpointStore.LATEST)).state().step());
        assertArrayEquals(expected, payload(run.resolve(CheckpointStore.LATEST)),
                "killed and resumed training ended with other bits than the uninterrupted run");
        // a kill after the last write leaves its temporary file until the next write in that folder
        org.ttrec.dlrm.io.AtomicFiles.removeStale(run);
        org.ttrec.dlrm.io.AtomicFiles.removeStale(run.resolve(CheckpointStore.DIR));
        assertEquals(List.of(), temporaries(run), "temporary files of dead writers were left");
        double sec = (System.nanoTime() - t0) * 1e-9;
        System.out.printf("CrashResumeTest: %d SIGKILLs (%d inside a checkpoint write, temp file left), %d resumes, "
                + "%d chains finished early and matched; %.1f s%n", kills, withTemp, resumes, completions, sec);
        assertTrue(kills >= 20);
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "<" + e + ">";
        }
    }

    static String tail(Path p) {
        String s = read(p);
        return s.substring(Math.max(0, s.length() - 4000));
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }
}
