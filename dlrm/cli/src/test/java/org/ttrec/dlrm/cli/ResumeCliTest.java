package org.ttrec.dlrm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.train.Checkpoint;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue item 4: {@code --resume} without limits continues to the original run's end, or says why
 * it has nothing to do and exits non-zero; the resumed run's log lines equal the uninterrupted
 * run's (the loss window is in the checkpoint).
 */
class ResumeCliTest {

    /** step -> logged training loss. */
    static Map<Long, Double> trainLosses(Path metrics) throws Exception {
        Map<Long, Double> m = new LinkedHashMap<>();
        ObjectMapper json = new ObjectMapper();
        for (String l : Files.readAllLines(metrics)) {
            JsonNode n = json.readTree(l);
            if (n.path("kind").asText().equals("train")) {
                m.put(n.path("step").asLong(), n.path("loss").asDouble());
            }
        }
        return m;
    }

    /** The parameter and optimiser bytes of a checkpoint (everything after the JSON header, before the trailer). */
    static byte[] payload(Path ck) throws Exception {
        byte[] b = Files.readAllBytes(ck);
        int len = ByteBuffer.wrap(b, 12, 4).getInt();
        return Arrays.copyOfRange(b, 16 + len, b.length - 16);
    }

    @Test
    void resumeWithoutLimitsRunsToTheOriginalEndWithTheSameLogLines(@TempDir Path dir) throws Exception {
        Path full = dir.resolve("full"), part = dir.resolve("part"), rest = dir.resolve("rest");
        Cli.Result u = Cli.train(full, "--epochs", "2", "--checkpoint-every", "7");
        assertEquals(0, u.rc(), u::all);
        Cli.Result a = Cli.train(part, "--epochs", "2", "--checkpoint-every", "7", "--max-steps", "23");
        assertEquals(0, a.rc(), a::all);
        // the last checkpoint of the stopped run is at step 23, in the middle of a 5-step log window
        assertEquals(23, Checkpoint.readHeader(part.resolve("checkpoint.ttrec")).state().step());

        Cli.Result r = Cli.run("train", "--resume", part.resolve("checkpoint.ttrec"), "--out", rest, "--no-progress");
        assertEquals(0, r.rc(), r::all);
        assertTrue(r.out().contains("done after 60 steps"), r.out());
        assertFalse(r.out().contains("speed: 0 samples/s"), r.out());

        Map<Long, Double> uninterrupted = trainLosses(full.resolve("metrics.jsonl"));
        Map<Long, Double> resumed = trainLosses(rest.resolve("metrics.jsonl"));
        assertEquals(25L, resumed.keySet().iterator().next(), resumed.toString());
        for (var e : resumed.entrySet()) {
            assertEquals(uninterrupted.get(e.getKey()), e.getValue(), "logged loss at step " + e.getKey());
        }
        assertEquals(uninterrupted.size() - 4, resumed.size(), resumed + " vs " + uninterrupted);
        assertArrayEquals(payload(full.resolve("checkpoint.ttrec")), payload(rest.resolve("checkpoint.ttrec")),
                "the resumed run's final bits differ from the uninterrupted run's");
    }

    @Test
    void resumeWithNothingToDoSaysSoAndFails(@TempDir Path dir) throws Exception {
        Path done = dir.resolve("done");
        assertEquals(0, Cli.train(done, "--max-steps", "30").rc());   // 30 steps = one whole epoch
        Path next = dir.resolve("next");
        Cli.Result r = Cli.run("train", "--resume", done.resolve("checkpoint.ttrec"), "--out", next, "--no-progress");
        assertNotEquals(0, r.rc(), r::all);
        assertTrue(r.err().contains("nothing to do") && r.err().contains("--epochs"), r.err());
        assertFalse(Files.exists(next), "a resume with nothing to do made a run folder");
        Cli.Result s = Cli.run("train", "--resume", done.resolve("checkpoint.ttrec"), "--out", next, "--max-steps", "20",
                "--no-progress");
        assertNotEquals(0, s.rc(), s::all);
        assertTrue(s.err().contains("nothing to do") && s.err().contains("--max-steps"), s.err());
        assertFalse(Files.exists(next));
    }
}
