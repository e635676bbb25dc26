package org.ttrec.dlrm.score;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;

import java.nio.file.Path;

/** The embedding API: TT tables built or taken from a model, rows and bags looked up. */
class EmbeddingTableTest {
    @Test
    void aTtTableLooksUpRowsAndPoolsBags() {
        try (EmbeddingTable t = EmbeddingTable.tt(100_000, 16, 3, 8, 7)) {
            assertTrue(t.compressed());
            assertEquals(100_000, t.rows());
            assertEquals(16, t.dim());
            assertTrue(t.parameterCount() < 100_000L * 16 / 20, t.describe());
            float[] a = t.row(5), b = t.row(99_999);
            float[] ab = t.rows(5, 99_999);
            assertArrayEquals(a, java.util.Arrays.copyOfRange(ab, 0, 16));
            assertArrayEquals(b, java.util.Arrays.copyOfRange(ab, 16, 32));
            // bag 0 = rows 5 and 99,999 summed; bag 1 empty; bag 2 = row 5
            float[] bags = t.bags(new int[] {5, 99_999, 5}, new int[] {0, 2, 2, 3});
            for (int j = 0; j < 16; j++) {
                assertEquals(a[j] + b[j], bags[j], 1e-6f * (Math.abs(a[j]) + Math.abs(b[j])) + 1e-9f);
                assertEquals(0f, bags[16 + j]);
                assertEquals(a[j], bags[32 + j], 1e-7f);
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.row(100_000));
            assertTrue(e.getMessage().contains("100000") && e.getMessage().contains("position 0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> t.bags(new int[] {1, -4}, new int[] {0, 2}));
            assertTrue(e.getMessage().contains("-4"), e.getMessage());
        }
    }

    @Test
    void aModelsTableGivesTheRowsTheModelPools(@TempDir Path dir) throws Exception {
        int[] rows = {3, 40, 300, 2000, 50};
        RunConfig c = ScoreFixtures.config(rows);
        Path file = dir.resolve("m.ttrm");
        try (ComputeBackend be = ScoreFixtures.cpu1(); DlrmModel m = ScoreFixtures.trainedModel(be, c)) {
            ModelFile.write(ScoreFixtures.checkpoint(dir.resolve("ck.ttrec"), m, c), file, null, false);
            TtEmbeddingBag trained = (TtEmbeddingBag) m.tables().get(3);
            int[] ids = {0, 1, 2, 3, 500, 1999, trained.cachedRows()[0]};
            try (ScoringModel s = ScoringModel.load(file); EmbeddingTable t = EmbeddingTable.of(s, 3)) {
                // cached rows read their cache values, others their TT value, as in the trained table
                assertArrayEquals(trained.materialize(ids), t.rows(ids));
                try (EmbeddingTable d = EmbeddingTable.of(s, 1)) {
                    assertTrue(!d.compressed());
                    assertArrayEquals(m.tables().get(1).materialize(new int[] {0, 39}), d.rows(0, 39));
                }
            }
        }
    }
}
