package org.ttrec.dlrm.fuzz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of every target with Jazzer (libFuzzer for the JVM), each in a child
 * JVM of its own (libFuzzer keeps global state: one target per process). The test suite runs a
 * short pass; the long run is the same test with more inputs:
 * <pre>
 * ./mvnw -B -pl dlrm -am test -Dtest=FuzzTargetsTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dttrec.fuzz.runs=1000000 [-Dttrec.fuzz.targets=ShardFuzzer,CheckpointFuzzer] [-Dttrec.fuzz.seconds=3600]
 * </pre>
 * A crash, a hang (30 s on one input), running out of memory, or an exception a reader does not
 * declare fails the test; the input is left in {@code target/fuzz/<Target>/} (crash-*, and a Java
 * reproducer) to be added to {@code src/test/resources/fuzz/<Target>/} once fixed.
 */
class FuzzTargetsTest {
    private static final Pattern DONE = Pattern.compile("Done (\\d+) runs in (\\d+) second");

    @Test
    void everyTargetFuzzesWithoutFindings(@TempDir Path tmp) throws Exception {
        long runs = Long.getLong("ttrec.fuzz.runs", 2000);
        // targets that read real files write them here: a RAM disk where there is one
        Path shm = Path.of("/dev/shm");
        Path scratch = Files.isDirectory(shm) && Files.isWritable(shm)
                ? Files.createTempDirectory(shm, "ttrec-fuzz") : Files.createDirectories(tmp.resolve("scratch"));
        long seconds = Long.getLong("ttrec.fuzz.seconds", runs > 100_000 ? 4 * 3600 : 60);
        Path out = Path.of("target", "fuzz").toAbsolutePath();
        List<String> report = new ArrayList<>();
        for (String t : FuzzTargets.selected()) {
            String name = FuzzTargets.simpleName(t);
            Path corpus = Files.createDirectories(tmp.resolve("corpus").resolve(name));
            int i = 0;
            for (byte[] s : FuzzTargets.seeds(t)) {
                Files.write(corpus.resolve("seed-" + i++), s);
            }
            for (Path p : FuzzTargets.regressionInputs(t)) {
                Files.copy(p, corpus.resolve("regression-" + p.getFileName()));
            }
            Path artifacts = Files.createDirectories(out.resolve(name));
            Path log = artifacts.resolve("fuzz.log");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx1g", "-XX:+UseSerialGC", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                    "-Djava.io.tmpdir=" + scratch,
                    "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                    "com.code_intelligence.jazzer.Jazzer", "--target_class=" + t,
                    "--instrumentation_includes=org.ttrec.**", "--custom_hook_includes=org.ttrec.**",
                    "-runs=" + runs, "-max_total_time=" + seconds, "-timeout=30", "-rss_limit_mb=3000",
                    "-print_final_stats=1", "-artifact_prefix=" + artifacts + "/", "--reproducer_path=" + artifacts,
                    corpus.toString()));
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(seconds + 120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(name + ": the fuzzer did not stop; log " + log);
            }
            double wall = (System.nanoTime() - t0) * 1e-9;
            String text = Files.readString(log, StandardCharsets.UTF_8);
            Matcher m = DONE.matcher(text);
            long done = -1;
            while (m.find()) {
                done = Long.parseLong(m.group(1));
            }
            String line = String.format(Locale.ROOT, "%-20s %,12d inputs in %6.1f s (exit %d)", name, done, wall, p.exitValue());
            report.add(line);
            System.out.println("fuzz: " + line);
            assertEquals(0, p.exitValue(), () -> name + " found something (log " + log + "):\n" + tail(text, 80));
            assertTrue(done >= Math.min(runs, 1), name + ": no run count in " + log + "\n" + tail(text, 40));
        }
        Files.write(out.resolve("report.txt"), report);
        try (var s = Files.walk(scratch)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static String tail(String s, int lines) {
        String[] l = s.split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(l, Math.max(0, l.length - lines), l.length));
    }

}
