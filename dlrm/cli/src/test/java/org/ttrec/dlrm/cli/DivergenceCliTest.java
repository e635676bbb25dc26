package org.ttrec.dlrm.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.train.Checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue item 1: a learning rate that blows the model up (the loss is clamped, so it never turns
 * NaN) must end with exit code 3 and a message naming the step, the loss and the likely cause,
 * and must not write the diverged model over a good checkpoint.
 */
class DivergenceCliTest {

    @Test
    void hugeLearningRateStopsWithExitCode3AndNoCheckpoint(@TempDir Path dir) {
        for (String[] opt : new String[][] {{"sgd", "1e6"}, {"adagrad", "1e6"}, {"sgd", "3e38"}, {"adagrad", "3e38"}}) {
            Path out = dir.resolve(opt[0] + "-" + opt[1]);
            Cli.Result r = Cli.train(out, "--optimizer", opt[0], "--lr", opt[1], "--checkpoint-every", "5");
            assertEquals(3, r.rc(), () -> String.join(" ", opt) + ": " + r.all());
            assertTrue(r.err().contains("diverged") && r.err().contains("step") && r.err().contains("--lr"), r.err());
            assertFalse(r.out().contains("test:"), "a diverged run must not report test metrics: " + r.out());
            // no good checkpoint existed, so none may be written
            assertFalse(Files.exists(out.resolve("checkpoint.ttrec")), "a diverged model was saved");
        }
    }

    @Test
    void divergenceAfterAGoodCheckpointKeepsIt(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good");
        Cli.Result a = Cli.train(good, "--max-steps", "10");
        assertEquals(0, a.rc(), a::all);
        Path ck = good.resolve("checkpoint.ttrec");
        byte[] before = Files.readAllBytes(ck);
        // continue the good run in its own folder with a learning rate that ruins it
        Cli.Result b = Cli.run("train", Cli.SMALL, "--resume", ck, "--continue-in-place", "--lr", "1e6",
                "--max-steps", "30", "--checkpoint-every", "5");
        assertEquals(3, b.rc(), b::all);
        assertTrue(b.err().contains("diverged"), b.err());
        assertTrue(b.err().contains("Last good checkpoint"), b.err());
        assertArrayEquals(before, Files.readAllBytes(ck), "the good checkpoint was overwritten");
        assertEquals(10, Checkpoint.readHeader(ck).state().step());
    }
}
