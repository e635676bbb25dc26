package org.ttrec.dlrm.model.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.scalar.ScalarBackend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random damage to an exported file (bit flips, truncation, random bytes and deleted bytes, mostly
 * in the header where every field matters): an import either succeeds or fails with an
 * {@link IOException} whose message names the file; never another exception from deep inside,
 * and a failed import leaves the model as it was.
 */
class SafetensorsDamageTest {
    private static final int CASES = 1200;

    @TempDir
    Path dir;

    /** CRC-32 over the MLP, the TT cores, the cached rows and their values, and the uncompressed tables. */
    private static long fingerprint(DlrmModel m) {
        CRC32 crc = new CRC32();
        update(crc, m.parameters().toArray());
        for (EmbeddingBagLayer l : m.tables()) {
            if (l instanceof TtEmbeddingBag tt) {
                for (int k = 0; k < tt.shape().cores(); k++) {
                    update(crc, tt.table().readCore(k));
                }
                int[] rows = tt.cachedRows();
                for (int r : rows) {
                    crc.update(r);
                }
                update(crc, tt.materialize(rows));
            } else {
                update(crc, l.materializeAll());
            }
        }
        return crc.getValue();
    }

    private static void update(CRC32 crc, float[] a) {
        for (float v : a) {
            int b = Float.floatToRawIntBits(v);
            crc.update(b);
            crc.update(b >>> 8);
            crc.update(b >>> 16);
            crc.update(b >>> 24);
        }
    }

    @Test
    void damagedFilesFailCleanlyAndLeaveTheModelAlone() throws IOException {
        ModelConfig c = SmallModels.config("dot", false, 0.05);
        ComputeBackend be = new ScalarBackend();
        try (DlrmModel a = SmallModels.build(be, c, 1); DlrmModel b = SmallModels.build(be, c, 2)) {
            SmallModels.train(a, 4, 9);
            Path good = dir.resolve("good.safetensors");
            DlrmSafetensors.export(a, good, null);
            byte[] all = Files.readAllBytes(good);
            int headerEnd = 8 + (int) (all[0] & 0xff | (all[1] & 0xff) << 8 | (all[2] & 0xff) << 16);
            Random rnd = new Random(42);
            Path f = dir.resolve("bad.safetensors");
            int refused = 0;
            for (int i = 0; i < CASES; i++) {
                byte[] bad = damage(all, headerEnd, rnd);
                Files.write(f, bad);
                long before = fingerprint(b);
                try {
                    DlrmSafetensors.importInto(f, b);
                } catch (IOException e) {
                    refused++;
                    assertTrue(String.valueOf(e.getMessage()).contains(f.toString()),
                            "case " + i + ": the message names the file: " + e.getMessage());
                    assertEquals(before, fingerprint(b), "case " + i + ": a refused file changed the model: "
                            + e.getMessage());
                } catch (RuntimeException | Error e) {
                    fail("case " + i + ": " + e + " from deep inside instead of a clear error", e);
                }
            }
            System.out.printf("SafetensorsDamageTest: %d damaged files, %d refused, %d harmless (padding, metadata text)%n",
                    CASES, refused, CASES - refused);
            assertTrue(refused > CASES * 3 / 4, "most damage must be caught: " + refused + " of " + CASES);
        }
    }

    private static byte[] damage(byte[] all, int headerEnd, Random rnd) {
        // three in four land in the length or the header, where a single byte can break the structure
        int at = rnd.nextInt(4) > 0 ? rnd.nextInt(headerEnd) : rnd.nextInt(all.length);
        byte[] b = all.clone();
        switch (rnd.nextInt(6)) {
            case 5 -> b[rnd.nextInt(8)] = (byte) rnd.nextInt(256); // the header length
            case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
            case 1 -> b = Arrays.copyOf(all, rnd.nextInt(all.length));
            case 2 -> b[at] = (byte) "0123456789[]{},:\"-eE. x".charAt(rnd.nextInt(23));
            case 3 -> {
                for (int j = at; j < Math.min(b.length, at + 8); j++) {
                    b[j] = (byte) rnd.nextInt(256);
                }
            }
            default -> {
                b = new byte[all.length - 1];
                System.arraycopy(all, 0, b, 0, at);
                System.arraycopy(all, at + 1, b, at, all.length - at - 1);
            }
        }
        return b;
    }
}
