package org.ttrec.dlrm.score;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.layers.DenseEmbeddingBag;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Model files: a checkpoint's parameters come back bit for bit and score as the model itself
 * does; a damaged file is refused with a message naming the file and what is wrong where.
 */
class ModelFileTest {
    static final int[] ROWS = {3, 40, 300, 2000, 50};
    @TempDir
    static Path dir;
    static RunConfig config;
    static ComputeBackend be;
    static DlrmModel model;
    static Path checkpoint;
    static Path file;

    @BeforeAll
    static void setUp() throws IOException {
        config = ScoreFixtures.config(ROWS);
        be = ScoreFixtures.cpu1();
        model = ScoreFixtures.trainedModel(be, config);
        checkpoint = ScoreFixtures.checkpoint(dir.resolve("ck.ttrec"), model, config);
        file = dir.resolve("model.ttrm");
        ModelFile.write(checkpoint, file, null, false);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        be.close();
    }

    @Test
    void everyParameterComesBackExactly() throws IOException {
        try (ModelImage m = ModelImage.open(file)) {
            assertArrayEquals(model.parameters().toArray(), m.floats("mlp", model.denseParameterCount()));
            int cachedTables = 0;
            for (int i = 0; i < ROWS.length; i++) {
                EmbeddingBagLayer l = model.tables().get(i);
                if (l instanceof TtEmbeddingBag tt) {
                    for (int k = 0; k < tt.shape().cores(); k++) {
                        assertArrayEquals(tt.table().readCore(k), m.floats("table " + i + " core " + k,
                                tt.shape().coreSize(k)), "table " + i + " core " + k);
                    }
                    assertTrue(tt.cachePopulated(), "the fixture should have populated table " + i + "'s cache");
                    int[] rows = tt.cachedRows();
                    assertArrayEquals(rows, m.ints("table " + i + " cache rows"));
                    assertArrayEquals(tt.materialize(rows), m.floats("table " + i + " cache values", (long) rows.length * 8));
                    cachedTables++;
                } else {
                    DenseEmbeddingBag d = (DenseEmbeddingBag) l;
                    assertArrayEquals(d.materializeAll(), m.floats("table " + i + " rows", (long) ROWS[i] * 8));
                }
            }
            assertEquals(2, cachedTables);
        }
        ModelInfo info = ModelFile.inspect(file);
        assertEquals(3, info.step());
        assertEquals(model.parameterCount(), info.parameters());
        assertEquals("TT", info.tables().get(3).kind());
        assertEquals(((TtEmbeddingBag) model.tables().get(3)).cachedRows().length, info.tables().get(3).cacheRows());
        assertTrue(info.tables().get(3).cacheRows() > 0);
    }

    /** Replicas built from the file score as the trained model does, bit for bit (cpu, one thread). */
    @Test
    void scoresEqualTheModelsOwnPredictions() throws IOException {
        SplittableRandom rnd = new SplittableRandom(11);
        ScoreFixtures.Rows rows = ScoreFixtures.Rows.random(rnd, 300, ROWS);
        float[] expected = model.predict(rows.batch(null)).clone();
        for (Path source : new Path[] {file, checkpoint}) {
            try (ScoringModel s = ScoringModel.load(source, ScoringOptions.defaults().withBackend("cpu"))) {
                float[] got = new float[rows.n()];
                s.predict(rows.n(), rows.dense(), rows.index(), CategoricalEncoding.INDEX, got);
                for (int r = 0; r < rows.n(); r++) {
                    assertEquals(Float.floatToRawIntBits(expected[r]), Float.floatToRawIntBits(got[r]),
                            source + ": row " + r + ": " + expected[r] + " vs " + got[r]);
                }
            }
        }
    }

    @Test
    void aFlippedByteIsReportedWithItsSection() throws IOException {
        byte[] b = Files.readAllBytes(file);
        long off = -1;
        try (ModelImage m = ModelImage.open(file)) {
            for (var s : m.root().path("sections")) {
                if (s.path("name").asText().equals("table 3 core 1")) {
                    off = s.path("offset").asLong() + 17;
                }
            }
        }
        b[(int) off] ^= 0x10;
        Path bad = dir.resolve("flipped.ttrm");
        Files.write(bad, b);
        IOException e = assertThrows(IOException.class, () -> ScoringModel.load(bad));
        assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("section 'table 3 core 1'")
                && e.getMessage().contains("corrupt"), e.getMessage());
    }

    @Test
    void aDamagedHeaderOrDescriptionIsReported() throws IOException {
        byte[] b = Files.readAllBytes(file);
        byte[] h = b.clone();
        h[20] ^= 1; // the file length
        Path bad = dir.resolve("header.ttrm");
        Files.write(bad, h);
        IOException e = assertThrows(IOException.class, () -> ModelFile.inspect(bad));
        assertTrue(e.getMessage().contains("fixed header") && e.getMessage().contains("corrupt"), e.getMessage());
        byte[] j = b.clone();
        long jsonOff = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(24);
        j[(int) jsonOff + 5] ^= 1;
        Files.write(bad, j);
        e = assertThrows(IOException.class, () -> ModelFile.inspect(bad));
        assertTrue(e.getMessage().contains("JSON description") && e.getMessage().contains("corrupt"), e.getMessage());
    }

    @Test
    void aTruncatedFileIsReported() throws IOException {
        byte[] b = Files.readAllBytes(file);
        Path bad = dir.resolve("cut.ttrm");
        for (int len : new int[] {b.length - 1, b.length / 2, 70, 30, 8}) {
            Files.write(bad, java.util.Arrays.copyOf(b, len));
            IOException e = assertThrows(IOException.class, () -> ScoringModel.load(bad));
            assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains(bad.toString()), len + ": " + e.getMessage());
        }
        Files.write(bad, java.util.Arrays.copyOf(b, b.length + 3));
        IOException e = assertThrows(IOException.class, () -> ScoringModel.load(bad));
        assertTrue(e.getMessage().contains("after its end"), e.getMessage());
    }

    @Test
    void otherFilesAreRecognisedByTheirMagic() throws IOException {
        Path png = dir.resolve("x.ttrm");
        Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0});
        IOException e = assertThrows(IOException.class, () -> ModelFile.inspect(png));
        assertTrue(e.getMessage().contains("not a ttrec model file") && e.getMessage().contains("PNG"), e.getMessage());
        e = assertThrows(IOException.class, () -> ModelFile.inspect(checkpoint));
        assertTrue(e.getMessage().contains("a ttrec checkpoint"), e.getMessage());
        e = assertThrows(IOException.class, () -> ScoringModel.load(dir.resolve("missing.ttrm")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }
}
