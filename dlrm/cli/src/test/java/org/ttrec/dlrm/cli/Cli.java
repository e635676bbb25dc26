package org.ttrec.dlrm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs {@code ttrec} commands in-process and captures exit code, stdout and stderr (both streams). */
final class Cli {
    private Cli() {}

    /** Small, fast training on built-in synthetic data (3000 rows: 30 steps of 100 per epoch), scalar backend. */
    static final List<String> SMALL = List.of("--backend", "scalar", "--no-progress", "--train-samples", "3000",
            "--batch-size", "100", "--eval-every", "0", "--log-every", "5");

    record Result(int rc, String out, String err) {
        String all() {
            return out + err;
        }
    }

    static Result run(Object... args) {
        List<String> a = new ArrayList<>();
        for (Object o : args) {
            if (o instanceof List<?> l) {
                l.forEach(x -> a.add(x.toString()));
            } else {
                a.add(o.toString());
            }
        }
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err2 = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        int rc;
        // redirect first: picocli may make writers over System.err of its own while it runs
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err2, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = Main.commandLine();
            cl.setOverwrittenOptionsAllowed(true); // the last of a repeated option wins, so tests can override SMALL
            cl.setErr(new PrintWriter(err, true));
            rc = cl.execute(a.toArray(String[]::new));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(rc, out.toString(StandardCharsets.UTF_8), err2.toString(StandardCharsets.UTF_8) + err);
    }

    /**
     * Runs {@code prefix} followed by each case and asserts that it exits with 2, names the case's
     * first element (the option) on stderr and prints no stack trace.
     */
    static void assertEachRejectedNamingTheOption(List<?> prefix, Object[][] cases) {
        for (Object[] c : cases) {
            List<Object> args = new ArrayList<>(prefix);
            args.addAll(List.of(c));
            Result r = run(args.toArray());
            assertEquals(2, r.rc(), List.of(c) + ": " + r.all());
            assertTrue(r.err().contains(c[0].toString()), List.of(c) + " should name the option: " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
    }

    static Result train(Path out, Object... more) {
        List<Object> a = new ArrayList<>(List.of("train", SMALL, "--out", out));
        a.addAll(List.of(more));
        return run(a.toArray());
    }
}
