package org.ttrec.dlrm.data;

import java.nio.charset.StandardCharsets;

/**
 * The layout of one raw Criteo text file, as detected from its first line, and the rules for
 * cutting such a file into lines. Every reader of raw Criteo text ({@link CriteoTextReader} here,
 * the distributed preprocessor of module spark) goes through this class, so that they agree on
 * what a header is, where the data starts and how lines are numbered.
 *
 * <p>Detection: tabs in the first line mean raw TSV; commas (and no tab) mean CSV, with a leading
 * id column if the line has 41 fields; a first line whose first column is named {@code Id} or
 * {@code Label} is a header and skipped; a UTF-8 byte order mark at the start is skipped. Lines
 * end at {@code '\n'} only (a {@code '\r'} before it is left for {@link CriteoRowParser}, which
 * ignores it), and the text after the last {@code '\n'} is a last line if it is not empty.
 * Serializable, so that a distributed reader can detect it once and ship it to its tasks.
 *
 * @param separator  field separator: {@code '\t'} or {@code ','}
 * @param hasId      whether rows start with an id column to ignore (Kaggle CSV)
 * @param dataStart  offset of the first data line from the start of the (decompressed) file:
 *                   after the byte order mark and the header line, if any
 * @param firstLine  1-based line number of the line at {@code dataStart}: 2 after a header, else 1
 */
public record CriteoTextFormat(byte separator, boolean hasId, int dataStart, long firstLine)
        implements java.io.Serializable {
    /**
     * A line of this many bytes or more (not counting its line break) is not Criteo text (real
     * rows are a few hundred bytes): readers stop with {@link #noLineBreak} instead of buffering an
     * unbounded line, whatever the bad-row policy.
     */
    public static final int MAX_LINE = 16 << 20;

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /**
     * Detects the format from the start of a file.
     *
     * @param buf the first bytes of the (decompressed) file: at least its whole first line, or the
     *            whole file if it has no line break
     * @param len how many bytes of {@code buf} are valid
     * @return the format
     */
    public static CriteoTextFormat detect(byte[] buf, int len) {
        // editors on Windows start UTF-8 files with EF BB BF; it is not part of the first field
        int bom = len >= 3 && (buf[0] & 0xff) == 0xEF && (buf[1] & 0xff) == 0xBB && (buf[2] & 0xff) == 0xBF ? 3 : 0;
        int eol = bom;
        while (eol < len && buf[eol] != '\n') {
            eol++;
        }
        int tabs = 0;
        int commas = 0;
        for (int i = bom; i < eol; i++) {
            if (buf[i] == '\t') {
                tabs++;
            } else if (buf[i] == ',') {
                commas++;
            }
        }
        byte sep = '\t';
        boolean hasId = false;
        if (tabs == 0 && commas > 0) {
            sep = ',';
            hasId = commas == CriteoRowParser.FIELDS; // 41 columns: Id,Label,I1..,C26
        }
        if (eol > bom) {
            // A header names its first column (Kaggle CSV: "Id,Label,I1,..."); a corrupt first data
            // row must not be mistaken for one and silently dropped.
            int fe = bom;
            while (fe < eol && buf[fe] != sep) {
                fe++;
            }
            String first = new String(buf, bom, fe - bom, StandardCharsets.ISO_8859_1).trim();
            if (first.equalsIgnoreCase("id") || first.equalsIgnoreCase("label")) {
                return new CriteoTextFormat(sep, hasId, Math.min(len, eol + 1), 2);
            }
        }
        return new CriteoTextFormat(sep, hasId, bom, 1);
    }

    /** @return a new parser for rows of this format (parsers are not thread-safe: one per thread) */
    public CriteoRowParser parser() {
        return new CriteoRowParser(separator, hasId);
    }

    /**
     * @param b0 the first byte of a file (0-255, or -1 if the file is empty)
     * @param b1 the second byte (or -1)
     * @return whether the file starts with the gzip magic number; readers decide by these bytes, not
     *         by the file name
     */
    public static boolean isGzip(int b0, int b1) {
        return b0 == 0x1f && b1 == 0x8b;
    }

    /**
     * @return the index of the first {@code '\n'} in {@code buf[from, to)}, or {@code to}; eight
     *         bytes per step (SWAR), since line splitting touches every byte of the input
     */
    public static int findNewline(byte[] buf, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long x = (long) LONGS.get(buf, i) ^ 0x0A0A0A0A0A0A0A0AL;
            long z = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
            if (z != 0) {
                return i + (Long.numberOfTrailingZeros(z) >>> 3);
            }
        }
        while (i < to && buf[i] != '\n') {
            i++;
        }
        return i;
    }

    /**
     * The error for a line without a line break within {@link #MAX_LINE} bytes.
     *
     * @param file       the file, as named in messages
     * @param byteOffset where the line starts in the (decompressed) file
     * @param buf        bytes holding the start of the line
     * @param from       where the line starts in {@code buf}
     * @return the exception to throw (it has no line number: the reader gave up counting)
     */
    public static CriteoFormatException noLineBreak(String file, long byteOffset, byte[] buf, int from) {
        return new CriteoFormatException(BadRowReason.FIELD_COUNT, file, -1, byteOffset, -1,
                CriteoFormatException.printable(buf, from, Math.min(buf.length, from + 40)),
                "no line break within " + (MAX_LINE >> 20) + " MiB (binary file?)");
    }
}
