package org.ttrec.dlrm.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Malformed Criteo input: a bad text row, a truncated binary file or a corrupt shard. The message
 * names the file, the position (1-based line for text, byte offset for binary files), the field
 * and the offending value, so a user can find it with {@code sed -n Np}.
 */
public final class CriteoFormatException extends IOException {
    private final String file;
    private final long line;
    private final long byteOffset;
    private final int field;
    private final String value;
    private final String detail;
    private final BadRowReason reason;

    /**
     * @param reason     what is wrong
     * @param file       the file (or "-" if unknown)
     * @param line       1-based line number, or -1 for binary files
     * @param byteOffset byte offset in the (uncompressed) file, or -1 if unknown
     * @param field      0-based field number (0 = label, 1..13 dense, 14..39 categorical), or -1
     * @param value      the offending text or a short description, may be null
     * @param detail     extra explanation, may be null
     */
    public CriteoFormatException(BadRowReason reason, String file, long line, long byteOffset, int field,
                                 String value, String detail) {
        super(format(reason, file, line, byteOffset, field, value, detail));
        this.reason = reason;
        this.file = file;
        this.line = line;
        this.byteOffset = byteOffset;
        this.field = field;
        this.value = value;
        this.detail = detail;
    }

    private static String format(BadRowReason reason, String file, long line, long byteOffset, int field,
                                 String value, String detail) {
        StringBuilder sb = new StringBuilder();
        sb.append(file);
        if (line >= 0) {
            sb.append(':').append(line);
        }
        if (byteOffset >= 0) {
            sb.append(" (byte ").append(byteOffset).append(')');
        }
        sb.append(": ").append(reason.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
        if (field >= 0) {
            sb.append(" in field ").append(field).append(" (").append(fieldName(field)).append(')');
        }
        if (value != null) {
            sb.append(", value '").append(value).append('\'');
        }
        if (detail != null) {
            sb.append(": ").append(detail);
        }
        return sb.toString();
    }

    /**
     * @param field 0-based field number in the raw TSV layout
     * @return Criteo's name for it: label, I1..I13, C1..C26
     */
    public static String fieldName(int field) {
        if (field == 0) {
            return "label";
        }
        if (field <= CriteoRowParser.DENSE) {
            return "I" + field;
        }
        return "C" + (field - CriteoRowParser.DENSE);
    }

    /** Makes a printable, length-limited copy of raw bytes for an error message. */
    static String printable(byte[] buf, int from, int to) {
        int end = Math.min(to, from + 40);
        StringBuilder sb = new StringBuilder();
        String s = new String(buf, from, Math.max(0, end - from), StandardCharsets.ISO_8859_1);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 32 && c < 127) {
                sb.append(c);
            } else {
                sb.append(String.format("\\x%02x", (int) c));
            }
        }
        if (end < to) {
            sb.append("...");
        }
        return sb.toString();
    }

    /** @return what is wrong */
    public BadRowReason reason() {
        return reason;
    }

    /** @return the file */
    public String file() {
        return file;
    }

    /** @return 1-based line, or -1 */
    public long line() {
        return line;
    }

    /** @return byte offset, or -1 */
    public long byteOffset() {
        return byteOffset;
    }

    /** @return 0-based field in the raw TSV layout, or -1 */
    public int field() {
        return field;
    }

    /** @return the offending value, or null */
    public String value() {
        return value;
    }

    /** @return the extra explanation, or null (with the other parts it rebuilds the same message) */
    public String detail() {
        return detail;
    }
}
