package org.ttrec.dlrm.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.safetensors.DlrmSafetensors;
import org.ttrec.dlrm.model.safetensors.SafetensorsReader;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.scalar.ScalarBackend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ttrec export}: a trained run's checkpoint becomes a safetensors file from which a model
 * with the checkpoint's exact parameters is built again; an existing file is not replaced by
 * accident.
 */
class ExportCliTest {

    @Test
    void exportsTheCheckpointsModelExactly(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Cli.Result t = Cli.train(run, "--max-steps", "6");
        assertEquals(0, t.rc(), t::all);
        Path file = dir.resolve("model.safetensors");
        Cli.Result e = Cli.run("export", "--run", run, "--out", file);
        assertEquals(0, e.rc(), e::all);
        assertTrue(e.out().contains("10 tables (3 TT, 7 uncompressed)"), e.out());
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            assertEquals("6", r.metadata().get("ttrec.step"));
            assertFalse(r.metadata().get("ttrec.version").isEmpty());
            // the tiny preset's example in docs/safetensors.md
            assertEquals("[32, 13]", shape(r, "bot_l.0.weight"));
            assertEquals("[8, 32]", shape(r, "bot_l.2.weight"));
            assertEquals("[32, 63]", shape(r, "top_l.0.weight"));
            assertEquals("[1, 32]", shape(r, "top_l.2.weight"));
            assertEquals("[4, 8]", shape(r, "emb_l.0.weight"));
            assertEquals("[5000, 8]", shape(r, "emb_l.6.weight"));
            assertEquals("[100, 1, 2, 16]", shape(r, "emb_l.9.tt_cores.0"));
            assertEquals("[100, 16, 2, 16]", shape(r, "emb_l.9.tt_cores.1"));
            assertEquals("[100, 16, 2, 1]", shape(r, "emb_l.9.tt_cores.2"));
        }

        Path ck = run.resolve("checkpoint.ttrec");
        RunConfig c = Checkpoint.readHeader(ck).config();
        try (ComputeBackend be = new ScalarBackend();
             DlrmModel fromCheckpoint = DlrmModel.build(be, c.model, TrainingSetup.plan(c, be.memoryAvailable()), 99);
             DlrmModel fromFile = DlrmSafetensors.load(be, file)) {
            Checkpoint.restore(ck, fromCheckpoint, null);
            assertArrayEquals(fromCheckpoint.parameters().toArray(), fromFile.parameters().toArray(), 0f);
            for (int i = 0; i < fromFile.tables().size(); i++) {
                EmbeddingBagLayer a = fromCheckpoint.tables().get(i), b = fromFile.tables().get(i);
                assertEquals(a.getClass(), b.getClass());
                if (a instanceof TtEmbeddingBag ta && b instanceof TtEmbeddingBag tb) {
                    for (int k = 0; k < ta.shape().cores(); k++) {
                        assertArrayEquals(ta.table().readCore(k), tb.table().readCore(k), 0f, a.name() + " core " + k);
                    }
                } else {
                    assertArrayEquals(a.materializeAll(), b.materializeAll(), 0f, a.name());
                }
            }
        }

        byte[] before = Files.readAllBytes(file);
        Cli.Result again = Cli.run("export", "--run", run, "--out", file);
        assertEquals(2, again.rc(), again::all);
        assertTrue(again.err().contains("--overwrite"), again.err());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(0, Cli.run("export", "--run", ck, "--out", file, "--overwrite").rc());
    }

    private static String shape(SafetensorsReader r, String name) {
        return Arrays.toString(r.tensor(name).shape());
    }

    @Test
    void aMissingRunIsOneClearLine(@TempDir Path dir) {
        Cli.Result e = Cli.run("export", "--run", dir.resolve("nothing"), "--out", dir.resolve("m.safetensors"));
        assertEquals(2, e.rc(), e::all);
        assertTrue(e.err().startsWith("ttrec export: "), e.err());
        assertFalse(Files.exists(dir.resolve("m.safetensors")));
    }
}
