package org.ttrec.tests;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code ./ttrec} launcher finds a JDK >= 25 on its own, or says clearly that it cannot; asked
 * for the tornado backend without a TornadoVM SDK, it stops at once saying what to install.
 */
class LauncherTest {

    static Path root() {
        String p = System.getProperty("ttrec.repo.root");
        Path r = p != null ? Path.of(p) : Path.of("..").toAbsolutePath().normalize();
        assertTrue(Files.isExecutable(r.resolve("ttrec")), "launcher not found at " + r.resolve("ttrec"));
        return r;
    }

    record Result(int code, String out) {}

    static Result run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", root().resolve("ttrec").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process proc = pb.start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS), "launcher hung");
        return new Result(proc.exitValue(), out);
    }

    static int majorOf(Path home) throws IOException {
        for (String line : Files.readAllLines(home.resolve("release"))) {
            if (line.startsWith("JAVA_VERSION=")) {
                String v = line.substring(line.indexOf('"') + 1);
                return Integer.parseInt(v.split("[.\"+-]")[0]);
            }
        }
        throw new AssertionError("no JAVA_VERSION in " + home.resolve("release"));
    }

    /** An installed JDK older than 25, or null. */
    static Path oldJdk() throws IOException {
        Path jvm = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvm)) {
            return null;
        }
        try (Stream<Path> s = Files.list(jvm)) {
            for (Path h : s.toList()) {
                if (Files.isExecutable(h.resolve("bin/javac")) && Files.exists(h.resolve("release")) && majorOf(h) < 25) {
                    return h;
                }
            }
        }
        return null;
    }

    @Test
    void javaHomePointingAtAnOldJdkStillFindsJdk25() throws Exception {
        Path old = oldJdk();
        if (old == null) {
            System.out.println("SKIPPED javaHomePointingAtAnOldJdkStillFindsJdk25: no JDK older than 25 under /usr/lib/jvm");
        }
        Assumptions.assumeTrue(old != null, "no JDK older than 25 under /usr/lib/jvm");
        Result r = run(Map.of("JAVA_HOME", old.toString(), "PATH", old.resolve("bin") + ":/usr/bin:/bin"), "--which-java");
        assertEquals(0, r.code(), r.out());
        Path found = Path.of(r.out().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertNotEquals(old, found);
        assertTrue(majorOf(found) >= 25, "picked " + found);
    }

    @Test
    void noJdkFoundFailsWithAClearMessage() throws Exception {
        Path empty = Files.createTempDirectory("no-jdk");
        Path old = oldJdk();
        String javaHome = old == null ? empty.toString() : old.toString();
        Result r = run(Map.of("TTREC_JDK_DIRS", empty.toString(), "JAVA_HOME", javaHome, "PATH", "/usr/bin:/bin"),
                "--version");
        assertNotEquals(0, r.code(), r.out());
        assertTrue(r.out().contains("no JDK 25 or newer was found"), r.out());
        assertTrue(r.out().contains("install"), r.out());
    }

    @Test
    void tornadoWithoutAnSdkExitsAtOnceSayingWhatToInstall() throws Exception {
        // TORNADOVM_HOME empty counts as unset; /usr/bin:/bin holds no 'tornado' launcher
        for (String backend : new String[] {"train --backend=tornado", "train --backend tornado",
                "bench --backends=cpu,tornado", "bench --backends tornado"}) {
            List<String> args = List.of(backend.split(" "));
            Result r = run(Map.of("TORNADOVM_HOME", "", "PATH", "/usr/bin:/bin"), args.toArray(String[]::new));
            assertNotEquals(0, r.code(), r.out());
            assertEquals(1, r.out().strip().lines().count(), "one message: " + r.out());
            assertTrue(r.out().contains("TornadoVM SDK") && r.out().contains("TORNADOVM_HOME"), r.out());
        }
    }
}
