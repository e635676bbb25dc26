package org.ttrec.dlrm.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.engine.scalar.ScalarBackend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {

    private static RunConfig config() {
        RunConfig c = Presets.get("tiny");
        c.train.optimizer = "adagrad";
        return c;
    }

    private static DlrmModel model(RunConfig c, long seed) {
        c.train.seed = seed;
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
        return TrainingSetup.build(new ScalarBackend(), c, specs);
    }

    private static Path write(Path dir, RunConfig c, DlrmModel m) throws IOException {
        Path f = dir.resolve("m.ckpt");
        DenseOptimizer opt = Trainer.optimizerFor(c, m);
        Checkpoint.write(f, m, opt, c, TrainingSetup.plan(c, Long.MAX_VALUE), new TrainState(12, 1, 3, 999), null);
        return f;
    }

    @Test
    void roundTripRestoresEverythingAndRecordsTables(@TempDir Path dir) throws IOException {
        RunConfig c = config();
        DlrmModel a = model(c, 1);
        Path f = write(dir, c, a);
        DlrmModel b = model(c.copy(), 2);
        assertTrue(!Arrays.equals(a.parameters().toArray(), b.parameters().toArray()));
        Checkpoint.Header h = Checkpoint.restore(f, b, Trainer.optimizerFor(c, b));
        assertEquals(new TrainState(12, 1, 3, 999), h.state());
        assertArrayEquals(a.parameters().toArray(), b.parameters().toArray());
        assertArrayEquals(a.tables().get(7).materialize(new int[] {0, 4999}), b.tables().get(7).materialize(new int[] {0, 4999}));
        assertEquals("DENSE", h.header().get("tables").get(0).get("kind").asText());
        assertEquals(10, h.header().get("tables").size());
        assertEquals("TT", h.header().get("tables").get(9).get("kind").asText());
        assertArrayEquals(a.tables().get(9).materialize(new int[] {0, 999_999}), b.tables().get(9).materialize(new int[] {0, 999_999}));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary files left behind");
        }
    }

    @Test
    void corruptFileIsRejected(@TempDir Path dir) throws IOException {
        RunConfig c = config();
        Path f = write(dir, c, model(c, 1));
        byte[] bytes = Files.readAllBytes(f);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(f, bytes);
        DlrmModel m = model(c.copy(), 1);
        IOException e = assertThrows(IOException.class, () -> Checkpoint.restore(f, m, null));
        assertTrue(e.getMessage().contains("corrupt") && e.getMessage().contains("CRC32"), e.getMessage());
    }

    @Test
    void truncatedFileIsRejected(@TempDir Path dir) throws IOException {
        RunConfig c = config();
        Path f = write(dir, c, model(c, 1));
        byte[] bytes = Files.readAllBytes(f);
        for (int keep : new int[] {bytes.length - 1, bytes.length / 3, 10, 0}) {
            Files.write(f, Arrays.copyOf(bytes, keep));
            IOException e = assertThrows(IOException.class, () -> Checkpoint.readHeader(f));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
        IOException e = assertThrows(IOException.class, () -> Checkpoint.readHeader(dir.resolve("missing.ckpt")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void differentArchitectureIsRejected(@TempDir Path dir) throws IOException {
        RunConfig c = config();
        Path f = write(dir, c, model(c, 1));
        RunConfig other = config();
        other.model.bottomMlp = "13-16-8";
        IOException e = assertThrows(IOException.class, () -> Checkpoint.restore(f, model(other, 1), null));
        assertTrue(e.getMessage().contains("MLP parameters"), e.getMessage());
    }

    /** Issue item 5: a temporary file left by a writer that died (kill -9) is removed by the next write. */
    @Test
    void staleTemporaryFilesOfADeadWriterAreRemoved(@TempDir Path dir) throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        long dead = p.pid();
        Path stale = Files.write(dir.resolve(".m.ckpt.tmp-" + dead + "-12345"), new byte[100]);
        Path live = Files.write(dir.resolve(".m.ckpt.tmp-" + ProcessHandle.current().pid() + "-1"), new byte[10]);
        RunConfig c = config();
        write(dir, c, model(c, 1));
        assertTrue(!Files.exists(stale), "the dead writer's temporary file is still there");
        assertTrue(Files.exists(live), "a live writer's temporary file must be left alone");
        Files.delete(live);
    }

    /** Issue item 5: a file that is not a checkpoint is named by its magic number, a folder as a folder. */
    @Test
    void otherFilesAreRecognisedByTheirMagicNumber(@TempDir Path dir) throws IOException {
        byte[] png = new byte[64];
        System.arraycopy(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10}, 0, png, 0, 8);
        Path f = Files.write(dir.resolve("x.ttrec"), png);
        IOException e = assertThrows(IOException.class, () -> Checkpoint.readHeader(f));
        assertTrue(e.getMessage().contains("not a ttrec checkpoint") && e.getMessage().contains("PNG"), e.getMessage());
        Path shard = Files.write(dir.resolve("s.ttrec"), java.util.Arrays.copyOf("TTRECSH1".getBytes(), 300));
        e = assertThrows(IOException.class, () -> Checkpoint.readHeader(shard));
        assertTrue(e.getMessage().contains("shard"), e.getMessage());
        e = assertThrows(IOException.class, () -> Checkpoint.readHeader(dir));
        assertTrue(e.getMessage().contains("folder"), e.getMessage());
    }
}
