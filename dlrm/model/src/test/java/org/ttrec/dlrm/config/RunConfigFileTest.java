package org.ttrec.dlrm.config;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunConfigFileTest {
    @Test
    void aConfigFileThatIsNotUtf8IsNamed(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("config.json");
        // three zero bytes then a brace: Jackson would guess UTF-32 and fail without naming the file
        Files.write(f, new byte[] {0, 0, 0, '{', 'n', 'n', 'c', '"', 1, 2, 3, 4});
        IOException e = assertThrows(IOException.class, () -> new RunConfig().apply(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }
}
