package org.ttrec.dlrm.model.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.layers.DenseEmbeddingBag;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.scalar.ScalarBackend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Export and import of whole models: bit-exact round trips (MLP, uncompressed tables, TT cores,
 * cached rows), and refusals that name the tensor and leave the model as it was.
 */
class DlrmSafetensorsTest {
    @TempDir
    Path dir;

    private final ComputeBackend be = new ScalarBackend();

    /** A trained model with a populated cache in both TT tables. */
    private DlrmModel trained(ModelConfig c) {
        DlrmModel m = SmallModels.build(be, c, 11);
        SmallModels.train(m, 4, 3);
        return m;
    }

    /** Every parameter of the model, as raw bits: MLP, then per table its rows (TT: cores, cache rows, cache values). */
    private static int[] bits(DlrmModel m) {
        List<Float> all = new ArrayList<>();
        for (float v : m.parameters().toArray()) {
            all.add(v);
        }
        for (EmbeddingBagLayer l : m.tables()) {
            if (l instanceof TtEmbeddingBag tt) {
                for (int k = 0; k < tt.shape().cores(); k++) {
                    for (float v : tt.table().readCore(k)) {
                        all.add(v);
                    }
                }
                for (int r : tt.cachedRows()) {
                    all.add((float) r);
                }
            }
            for (float v : l.materializeAll()) { // cached rows read their cache values
                all.add(v);
            }
        }
        int[] b = new int[all.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = Float.floatToRawIntBits(all.get(i));
        }
        return b;
    }

    @Test
    void roundTripIsBitExactAndReExportsTheSameBytes() throws IOException {
        ModelConfig c = SmallModels.config("dot", false, 0.05);
        SmallModels.Rows rows = SmallModels.rows(c, 50, 99);
        try (DlrmModel a = trained(c); DlrmModel b = SmallModels.build(be, c, 12345)) {
            for (EmbeddingBagLayer l : a.tables()) {
                if (l instanceof TtEmbeddingBag tt) {
                    assertTrue(tt.cachedRows().length > 0, "the test needs a populated cache in " + tt.name());
                }
            }
            assertFalse(Arrays.equals(bits(a), bits(b)), "different seeds differ before the import");
            Path f = dir.resolve("a.safetensors");
            DlrmSafetensors.export(a, f, Map.of("note", "test"));
            DlrmSafetensors.importInto(f, b);
            assertArrayEquals(bits(a), bits(b), "every parameter and cached row bit-identical");
            float[] pa = Arrays.copyOf(a.predict(rows.batch()), 50);
            float[] pb = Arrays.copyOf(b.predict(rows.batch()), 50);
            assertArrayEquals(pa, pb, 0f, "the same predictions");
            Path g = dir.resolve("b.safetensors");
            DlrmSafetensors.export(b, g, Map.of("note", "test"));
            assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(g), "re-export gives the same bytes");
            try (DlrmModel c2 = DlrmSafetensors.load(be, f)) {
                assertArrayEquals(bits(a), bits(c2), "a model built from the file alone");
                assertArrayEquals(pa, Arrays.copyOf(c2.predict(rows.batch()), 50), 0f);
            }
        }
    }

    @Test
    void aFileWithoutCachedRowsEmptiesTheCache() throws IOException {
        ModelConfig c = SmallModels.config("cat", false, 0.05);
        try (DlrmModel noCache = trained(SmallModels.config("cat", false, 0)); DlrmModel cached = trained(c)) {
            Path f = dir.resolve("plain.safetensors");
            DlrmSafetensors.export(noCache, f, null);
            DlrmSafetensors.importInto(f, cached);
            for (EmbeddingBagLayer l : cached.tables()) {
                if (l instanceof TtEmbeddingBag tt) {
                    assertEquals(0, tt.cachedRows().length, tt.name() + " serves every row from the cores again");
                    assertFalse(tt.cachePopulated());
                }
            }
            assertArrayEquals(bits(noCache), bits(cached));
        }
    }

    @Test
    void importClearsTheTablesOptimiserState() throws IOException {
        ModelConfig c = SmallModels.config("dot", false, 0);
        try (DlrmModel a = trained(c); DlrmModel b = SmallModels.build(be, c, 3)) {
            Batch batch = SmallModels.rows(c, 32, 1).batch();
            b.forward(batch);
            b.backward(SparseOptimizer.adagrad(0.1f, 1e-8f));
            b.awaitTables();
            Path f = dir.resolve("a.safetensors");
            DlrmSafetensors.export(a, f, null);
            DlrmSafetensors.importInto(f, b);
            for (EmbeddingBagLayer l : b.tables()) {
                if (l instanceof TtEmbeddingBag tt) {
                    assertNull(tt.table().stateKind(), l.name() + ": Adagrad sums of other weights are not kept");
                } else {
                    assertNull(((DenseEmbeddingBag) l).optimizerState(), l.name());
                }
            }
        }
    }

    @Test
    void cachedRowsNeedACacheInTheModel() throws IOException {
        try (DlrmModel cached = trained(SmallModels.config("dot", false, 0.05));
             DlrmModel plain = SmallModels.build(be, SmallModels.config("dot", false, 0), 5)) {
            Path f = dir.resolve("cached.safetensors");
            DlrmSafetensors.export(cached, f, null);
            int[] before = bits(plain);
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> DlrmSafetensors.importInto(f, plain));
            assertEquals("emb_l.2.cache_rows", e.tensor(), e.getMessage());
            assertTrue(e.getMessage().contains("has no hot-row cache"), e.getMessage());
            assertArrayEquals(before, bits(plain), "the model is unchanged");
        }
    }

    // ------------------------------------------------------------------ damaged and mismatched files

    /** Exports a trained model, lets {@code edit} rewrite the header and data, and returns the refusal of the import. */
    private SafetensorsFormatException refusedAfter(HeaderEdit edit) throws IOException {
        ModelConfig c = SmallModels.config("dot", false, 0.05);
        try (DlrmModel a = trained(c); DlrmModel b = SmallModels.build(be, c, 77)) {
            Path f = dir.resolve("m-" + System.nanoTime() + ".safetensors");
            DlrmSafetensors.export(a, f, null);
            byte[] all = Files.readAllBytes(f);
            int n = (int) ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            ObjectNode h = (ObjectNode) new ObjectMapper().readTree(new String(all, 8, n, StandardCharsets.UTF_8));
            byte[] data = Arrays.copyOfRange(all, 8 + n, all.length);
            data = edit.apply(h, data);
            byte[] hb = new ObjectMapper().writeValueAsBytes(h);
            ByteBuffer out = ByteBuffer.allocate(8 + hb.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
            out.putLong(hb.length).put(hb).put(data);
            Files.write(f, out.array());
            int[] before = bits(b);
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> DlrmSafetensors.importInto(f, b));
            assertArrayEquals(before, bits(b), "a refused file leaves the model unchanged: " + e.getMessage());
            return e;
        }
    }

    @FunctionalInterface
    private interface HeaderEdit {
        byte[] apply(ObjectNode header, byte[] data) throws IOException;
    }

    /** Removes a tensor and its bytes, shifting the offsets of the tensors behind it. */
    private static byte[] remove(ObjectNode h, byte[] data, String name) {
        long b = h.get(name).get("data_offsets").get(0).asLong(), e = h.get(name).get("data_offsets").get(1).asLong();
        h.remove(name);
        for (Map.Entry<String, JsonNode> f : h.properties()) {
            if (f.getKey().equals("__metadata__")) {
                continue;
            }
            ArrayNode o = (ArrayNode) f.getValue().get("data_offsets");
            if (o.get(0).asLong() >= e) {
                long len = e - b;
                o.set(0, o.get(0).asLong() - len);
                o.set(1, o.get(1).asLong() - len);
            }
        }
        byte[] out = new byte[data.length - (int) (e - b)];
        System.arraycopy(data, 0, out, 0, (int) b);
        System.arraycopy(data, (int) e, out, (int) b, data.length - (int) e);
        return out;
    }

    @Test
    void aMissingTensorIsNamed() throws IOException {
        SafetensorsFormatException e = refusedAfter((h, d) -> remove(h, d, "emb_l.3.tt_cores.1"));
        assertEquals("emb_l.3.tt_cores.1", e.tensor());
        assertTrue(e.getMessage().contains("missing tensor emb_l.3.tt_cores.1 (F32 [10, 3, 2, 3]; table 3 is TT"),
                e.getMessage());
    }

    @Test
    void aWrongShapeIsNamedWithBothShapes() throws IOException {
        SafetensorsFormatException e = refusedAfter((h, d) -> {
            ((ObjectNode) h.get("bot_l.0.weight")).putArray("shape").add(4).add(16);
            return d;
        });
        assertEquals("bot_l.0.weight", e.tensor());
        assertTrue(e.getMessage().contains("tensor bot_l.0.weight has shape [4, 16], this model needs [16, 4]"
                + " (bottom MLP layer 0 is 4 -> 16)"), e.getMessage());
    }

    @Test
    void aWrongDtypeIsNamed() throws IOException {
        SafetensorsFormatException e = refusedAfter((h, d) -> {
            ObjectNode t = (ObjectNode) h.get("emb_l.1.weight");
            t.put("dtype", "I32"); // same byte length, so only the dtype is wrong
            return d;
        });
        assertEquals("emb_l.1.weight", e.tensor());
        assertTrue(e.getMessage().contains("tensor emb_l.1.weight has dtype I32, this model needs F32"), e.getMessage());
    }

    @Test
    void anExtraTensorIsNamed() throws IOException {
        SafetensorsFormatException e = refusedAfter((h, d) -> {
            ObjectNode t = h.putObject("top_l.4.weight");
            t.put("dtype", "F32");
            t.putArray("shape").add(1);
            t.putArray("data_offsets").add(d.length).add(d.length + 4);
            return Arrays.copyOf(d, d.length + 4);
        });
        assertEquals("top_l.4.weight", e.tensor());
        assertTrue(e.getMessage().contains("tensor top_l.4.weight F32 [1] has no place in this model"), e.getMessage());
    }

    @Test
    void aDamagedByteIsCaughtByItsTensorsChecksum() throws IOException {
        SafetensorsFormatException e = refusedAfter((h, d) -> {
            long at = h.get("emb_l.2.tt_cores.0").get("data_offsets").get(0).asLong();
            d[(int) at + 5] ^= 1;
            return d;
        });
        assertEquals("emb_l.2.tt_cores.0", e.tensor());
        assertTrue(e.getMessage().contains("do not match their checksum"), e.getMessage());
    }

    @Test
    void aNaNWithoutChecksumsIsNamedWithItsElement() throws IOException {
        SafetensorsFormatException e = refusedAfter((h, d) -> {
            ((ObjectNode) h.get("__metadata__")).remove(SafetensorsWriter.CRC_KEY);
            long at = h.get("top_l.0.bias").get("data_offsets").get(0).asLong();
            ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putFloat((int) at + 8, Float.NaN);
            return d;
        });
        assertEquals("top_l.0.bias", e.tensor());
        assertTrue(e.getMessage().contains("tensor top_l.0.bias: element 2 is NaN"), e.getMessage());
    }

    @Test
    void badCachedRowsAreNamed() throws IOException {
        SafetensorsFormatException e = refusedAfter((h, d) -> {
            ((ObjectNode) h.get("__metadata__")).remove(SafetensorsWriter.CRC_KEY);
            long at = h.get("emb_l.3.cache_rows").get("data_offsets").get(0).asLong();
            ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putLong((int) at + 8, 5000);
            return d;
        });
        assertEquals("emb_l.3.cache_rows", e.tensor());
        assertTrue(e.getMessage().contains("row 5000 at position 1 is out of range [0, 1000)"), e.getMessage());
    }

    @Test
    void aTruncatedFileNamesTheTensorItCuts() throws IOException {
        ModelConfig c = SmallModels.config("dot", false, 0.05);
        try (DlrmModel a = trained(c); DlrmModel b = SmallModels.build(be, c, 77)) {
            Path f = dir.resolve("t.safetensors");
            DlrmSafetensors.export(a, f, null);
            byte[] all = Files.readAllBytes(f);
            int[] before = bits(b);
            String last = null;
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                for (String name : r.tensors().keySet()) {
                    last = name;
                }
            }
            Files.write(f, Arrays.copyOf(all, all.length - 1));
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> DlrmSafetensors.importInto(f, b));
            assertEquals(last, e.tensor(), e.getMessage());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            Files.write(f, Arrays.copyOf(all, 100));
            e = assertThrows(SafetensorsFormatException.class, () -> DlrmSafetensors.importInto(f, b));
            assertNull(e.tensor());
            assertTrue(e.getMessage().contains("shorter than its header says"), e.getMessage());
            assertArrayEquals(before, bits(b));
        }
    }

    @Test
    void anotherArchitectureIsRefused() throws IOException {
        try (DlrmModel dot = trained(SmallModels.config("dot", false, 0));
             DlrmModel self = SmallModels.build(be, SmallModels.config("dot", true, 0), 1)) {
            Path f = dir.resolve("dot.safetensors");
            DlrmSafetensors.export(dot, f, null);
            IOException e = assertThrows(IOException.class, () -> DlrmSafetensors.importInto(f, self));
            assertTrue(e.getMessage().contains("selfInteraction false vs true"), e.getMessage());
        }
    }

    @Test
    void loadChecksTheMetadatasTablesAgainstTheTensorsBeforeAllocating() throws IOException {
        try (DlrmModel a = trained(SmallModels.config("dot", false, 0))) {
            Path f = dir.resolve("meta.safetensors");
            DlrmSafetensors.export(a, f, null);
            byte[] all = Files.readAllBytes(f);
            int n = (int) ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            ObjectMapper json = new ObjectMapper();
            ObjectNode h = (ObjectNode) json.readTree(new String(all, 8, n, StandardCharsets.UTF_8));
            ObjectNode meta = (ObjectNode) h.get("__metadata__");
            // metadata has no checksum: a damaged row count that agrees in both places
            ObjectNode model = (ObjectNode) json.readTree(meta.get(DlrmSafetensors.MODEL_KEY).asText());
            ((ArrayNode) model.get("tableRows")).set(1, 2_000_000);
            meta.put(DlrmSafetensors.MODEL_KEY, json.writeValueAsString(model));
            ArrayNode tables = (ArrayNode) json.readTree(meta.get(DlrmSafetensors.TABLES_KEY).asText());
            ((ObjectNode) tables.get(1)).put("rows", 2_000_000);
            meta.put(DlrmSafetensors.TABLES_KEY, json.writeValueAsString(tables));
            byte[] hb = json.writeValueAsBytes(h);
            ByteBuffer out = ByteBuffer.allocate(8 + hb.length + all.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
            out.putLong(hb.length).put(hb).put(all, 8 + n, all.length - 8 - n);
            Files.write(f, out.array());
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> DlrmSafetensors.load(be, f));
            assertEquals("emb_l.1.weight", e.tensor());
            assertTrue(e.getMessage().contains("has shape [60, 8], this model needs [2000000, 8] (metadata ttrec.tables "
                    + "makes table 1 an uncompressed 2000000 x 8 table)"), e.getMessage());
        }
    }

    @Test
    void metadataDescribesTheModel() throws IOException {
        try (DlrmModel a = trained(SmallModels.config("dot", false, 0.05))) {
            Path f = dir.resolve("meta.safetensors");
            DlrmSafetensors.export(a, f, Map.of("ttrec.version", "x"));
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                Map<String, String> m = r.metadata();
                assertEquals(DlrmSafetensors.LAYOUT, m.get(DlrmSafetensors.LAYOUT_KEY));
                assertEquals("x", m.get("ttrec.version"));
                assertEquals("log1p(max(x, 0))", m.get(DlrmSafetensors.DENSE_TRANSFORM_KEY));
                var tables = new ObjectMapper().readTree(m.get(DlrmSafetensors.TABLES_KEY));
                assertEquals("dense", tables.get(0).get("kind").asText());
                assertEquals("tt", tables.get(3).get("kind").asText());
                assertEquals("[10,10,10]", tables.get(3).get("p").toString());
                assertEquals("[1,3,3,1]", tables.get(3).get("ranks").toString());
                assertNotEquals(0, tables.get(3).get("cachedRows").asInt());
                assertEquals(a.config().topMlp, DlrmSafetensors.readConfig(f).topMlp);
            }
        }
    }
}
