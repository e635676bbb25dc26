package org.ttrec.dlrm.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Names a file by its first bytes, so that a wrong file given where a ttrec file is expected is
 * reported as what it is ("a PNG image") instead of as a truncated or corrupt ttrec file.
 */
public final class FileMagic {
    private FileMagic() {}

    /**
     * @param file a file
     * @param n    how many leading bytes to read
     * @return up to {@code n} leading bytes
     * @throws IOException if it cannot be read
     */
    public static byte[] head(Path file, int n) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(n);
        }
    }

    /**
     * @param b leading bytes of a file
     * @return what they look like ("a PNG image", "a ttrec data shard", ...), or null if unknown
     */
    public static String describe(byte[] b) {
        if (b.length == 0) {
            return "an empty file";
        }
        if (starts(b, "TTRECCKP")) {
            return "a ttrec checkpoint";
        }
        if (starts(b, "TTRECMDL")) {
            return "a ttrec model file (.ttrm, written by 'ttrec model-file')";
        }
        if (starts(b, "TTRECSH1")) {
            return "a ttrec data shard (.ttrs, written by 'ttrec preprocess')";
        }
        if (starts(b, "TTRECDC1")) {
            return "a ttrec dictionaries file (.ttrd, written by 'ttrec preprocess')";
        }
        if (starts(b, 0x89, 'P', 'N', 'G')) {
            return "a PNG image";
        }
        if (starts(b, 0x1f, 0x8b)) {
            return "a gzip file";
        }
        if (starts(b, 'P', 'K', 3, 4)) {
            return "a zip or jar archive";
        }
        if (starts(b, 0xca, 0xfe, 0xba, 0xbe)) {
            return "a Java class file";
        }
        if (starts(b, 0x7f, 'E', 'L', 'F')) {
            return "an ELF executable";
        }
        if (starts(b, '%', 'P', 'D', 'F')) {
            return "a PDF document";
        }
        if (starts(b, 0xff, 0xd8, 0xff)) {
            return "a JPEG image";
        }
        int i = starts(b, 0xef, 0xbb, 0xbf) ? 3 : 0;
        while (i < b.length && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) {
            i++;
        }
        if (i < b.length && (b[i] == '{' || b[i] == '[')) {
            return "a JSON or text file";
        }
        boolean text = true;
        for (byte x : b) {
            int c = x & 0xff;
            text &= c >= 0x20 || c == '\t' || c == '\r' || c == '\n';
        }
        return text ? "a text file" : null;
    }

    /**
     * @param b     leading bytes
     * @param magic an ASCII magic number
     * @return whether {@code b} is a (possibly cut) prefix of a file that starts with {@code magic}
     */
    public static boolean prefixOf(byte[] b, String magic) {
        byte[] m = magic.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < Math.min(b.length, m.length); i++) {
            if (b[i] != m[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * @param b leading bytes
     * @return them as hex, for messages ("89 50 4e 47")
     */
    public static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, 8); i++) {
            sb.append(i == 0 ? "" : " ").append(String.format("%02x", b[i] & 0xff));
        }
        return sb.toString();
    }

    private static boolean starts(byte[] b, String ascii) {
        return b.length >= ascii.length() && prefixOf(b, ascii);
    }

    private static boolean starts(byte[] b, int... magic) {
        if (b.length < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((b[i] & 0xff) != magic[i]) {
                return false;
            }
        }
        return true;
    }
}
