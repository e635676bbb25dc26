package org.ttrec.dlrm.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Decodes ttrec's JSON files (configs, metadata, checkpoint headers) as UTF-8 and nothing else.
 * Given bytes or a file, Jackson guesses the encoding (UTF-16, UTF-32) and reports a bad byte as a
 * {@code CharConversionException}, not a JSON error, so a corrupt file's error would not name it;
 * decoding first, strictly, turns every bad byte into one error that does.
 */
public final class StrictUtf8 {
    private StrictUtf8() {}

    /**
     * @param bytes text that must be UTF-8
     * @param what  what the bytes are, for the error (e.g. {@code "config /runs/a/config.json"})
     * @return the text
     * @throws IOException naming {@code what} if the bytes are not valid UTF-8
     */
    public static String decode(byte[] bytes, String what) throws IOException {
        try {
            return decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            throw new IOException(what + " is not UTF-8 text (corrupt file?)", e);
        }
    }

    /**
     * For readers with errors of their own kind.
     *
     * @param bytes text that must be UTF-8 (consumed)
     * @return the text
     * @throws CharacterCodingException if the bytes are not valid UTF-8
     */
    public static String decode(ByteBuffer bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
    }

    /**
     * @param file a file that must hold UTF-8 text
     * @return its text
     * @throws IOException naming the file if it cannot be read or is not valid UTF-8
     */
    public static String read(Path file) throws IOException {
        return decode(Files.readAllBytes(file), file.toString());
    }
}
