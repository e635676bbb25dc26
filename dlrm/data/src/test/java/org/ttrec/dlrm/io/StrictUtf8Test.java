package org.ttrec.dlrm.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.data.DatasetMetadata;

class StrictUtf8Test {
    /** Three zero bytes then a brace: what Jackson takes for UTF-32, with a character above U+10FFFF after it. */
    static final byte[] LOOKS_LIKE_UTF32 = {0, 0, 0, '{', 'n', 'n', 'c', '"', 1, 2, 3, 4};

    @Test
    void decodesUtf8AndNamesWhatIsNot() throws IOException {
        assertEquals("{\"a\": \"é\"}", StrictUtf8.decode("{\"a\": \"é\"}".getBytes(StandardCharsets.UTF_8), "x"));
        IOException e = assertThrows(IOException.class, () -> StrictUtf8.decode(new byte[] {'{', (byte) 0xff, '}'}, "thing T"));
        assertTrue(e.getMessage().contains("thing T"), e.getMessage());
    }

    @Test
    void corruptMetadataNamesTheFile(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("metadata.json");
        Files.write(f, LOOKS_LIKE_UTF32);
        IOException e = assertThrows(IOException.class, () -> DatasetMetadata.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
}
