package org.ttrec.engine.tornado;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.cli.Main;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ttrec train --backend tornado} through the real command line, against the same run on
 * the cpu backend: a short training of the tiny preset (three TT tables, seven dense ones) on the
 * same synthetic data must reach the same test AUC within 0.002.
 */
class TrainingMatchesCpuTest {
    private static final Pattern TEST_AUC = Pattern.compile("test:\\s+AUC (\\d+\\.\\d+)");

    static double testAuc(Path out, String backend) {
        String[] args = {"train", "--preset", "tiny", "--backend", backend, "--threads", "2", "--no-progress",
            "--train-samples", "9600", "--batch-size", "64", "--eval-every", "0", "--log-every", "50",
            "--seed", "11", "--out", out.resolve(backend).toString()};
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
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, "ttrec train --backend " + backend + ": " + text + err);
        Matcher m = TEST_AUC.matcher(text);
        assertTrue(m.find(), "no test AUC in: " + text);
        System.out.println("TrainingMatchesCpuTest: " + backend + " test AUC " + m.group(1));
        return Double.parseDouble(m.group(1));
    }

    @Test
    void testAucMatchesTheCpuBackend(@TempDir Path dir) {
        Tornado.backend().close(); // skips (printing why) when TornadoVM cannot run here
        double cpu = testAuc(dir, "cpu");
        double tornado = testAuc(dir, "tornado");
        assertTrue(cpu > 0.55, "the cpu run learned something: AUC " + cpu);
        assertEquals(cpu, tornado, 0.002, "test AUC of tornado vs cpu");
    }
}
