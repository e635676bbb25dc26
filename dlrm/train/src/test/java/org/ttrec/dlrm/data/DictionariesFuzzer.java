package org.ttrec.dlrm.data;

import org.ttrec.dlrm.fuzz.Findings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Fuzz target: {@code dictionaries.ttrd} through {@link Dictionaries#read}, then a lookup in
 * every feature. When the first byte is odd the trailing CRC32C is fixed up first, so that
 * mutations reach the field checks. Failures must be declared exceptions naming the file.
 */
public final class DictionariesFuzzer {
    private static final Path FILE = Findings.scratch("dictionaries").resolve("dictionaries.ttrd");

    private DictionariesFuzzer() {}

    /** @param data the fuzzer's input */
    public static void fuzzerTestOneInput(byte[] data) {
        if (data.length == 0) {
            return;
        }
        byte[] body = java.util.Arrays.copyOfRange(data, 1, data.length);
        if ((data[0] & 1) == 1 && body.length >= 4) {
            CRC32C c = new CRC32C();
            c.update(body, 0, body.length - 4);
            ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).putInt(body.length - 4, (int) c.getValue());
        }
        try {
            Files.write(FILE, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Dictionaries d = Dictionaries.read(FILE);
            int[] card = d.cardinalities();
            for (int t = 0; t < card.length; t++) {
                int x = d.lookup(t, 0x68fd1e64);
                Findings.check(x >= -1 && x < card[t], "lookup " + x + " outside table " + t + " of " + card[t]);
            }
        } catch (Throwable e) {
            if (e instanceof Findings.Finding f) {
                throw f;
            }
            Findings.expectDeclared(e, FILE.toString());
        }
    }

    /** @return a real dictionaries file, with the checksum fix-up on and off */
    public static List<byte[]> seeds() {
        byte[] dict = FuzzSeeds.preprocessed().dictionaries();
        byte[] a = new byte[dict.length + 1];
        System.arraycopy(dict, 0, a, 1, dict.length);
        byte[] b = a.clone();
        b[0] = 1;
        return List.of(a, b);
    }
}
