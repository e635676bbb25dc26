package org.ttrec.spark.preprocess;

import org.ttrec.dlrm.data.BadRowReason;
import org.ttrec.dlrm.data.CriteoRowParser;
import org.ttrec.dlrm.data.CriteoTextFormat;

import java.io.IOException;

/**
 * Walks the data lines of one partition ({@link LineChunkReader} chunks) and parses each
 * as {@code CriteoTextReader} does: lines end at {@code '\n'}, the file's first chunk starts after
 * its byte order mark and header, and each line goes through {@link CriteoRowParser}. Both passes
 * of the distributed preprocessor read rows through this one class, so they see the same rows.
 */
final class RowCursor {
    private final LineChunkReader chunks;
    private final CriteoTextFormat format;
    private final CriteoRowParser parser;
    private final int[] row = new int[CriteoRowParser.ROW_INTS];

    private byte[] buf = new byte[0];
    private int from;
    private int to;
    private int p;
    private long chunkOffset;
    private long line = -1;
    private long lineByte = -1;
    private boolean good;

    /**
     * @param chunks the partition's chunks
     * @param format the file's format
     */
    RowCursor(LineChunkReader chunks, CriteoTextFormat format) {
        this.chunks = chunks;
        this.format = format;
        this.parser = format.parser();
    }

    /**
     * Moves to the next line and parses it.
     *
     * @return false at the end of the partition
     * @throws org.ttrec.dlrm.data.CriteoFormatException for a line without a line break within 16 MiB
     * @throws IOException if reading fails
     */
    boolean next() throws IOException {
        while (p >= to) {
            if (!chunks.next()) {
                return false;
            }
            buf = chunks.buffer();
            from = chunks.chunkFrom();
            to = chunks.chunkTo();
            chunkOffset = chunks.chunkOffset();
            // Only the file's first chunk starts at offset 0; its byte order mark and header are not data.
            p = chunkOffset == 0 ? from + Math.min(format.dataStart(), to - from) : from;
        }
        int e = CriteoTextFormat.findNewline(buf, p, to);
        line++;
        lineByte = chunkOffset + (p - from);
        good = parser.parse(buf, p, e, row, 0);
        p = e + 1;
        return true;
    }

    /** @return whether the current line is a good row */
    boolean good() {
        return good;
    }

    /** @return the current row, {@link CriteoRowParser#ROW_INTS} ints (valid if {@link #good()}) */
    int[] row() {
        return row;
    }

    /** @return 0-based index of the current line among the partition's data lines */
    long line() {
        return line;
    }

    /** @return byte offset of the current line in the (decompressed) file */
    long lineByte() {
        return lineByte;
    }

    /** @return why the current line is not a good row (if not {@link #good()}) */
    BadRowReason reason() {
        return parser.errorReason();
    }

    /** @return the failure of the current line (if not {@link #good()}) */
    ScanFailure failure() {
        return new ScanFailure(parser.errorReason(), line, lineByte, parser.errorField(), parser.errorValue(buf),
                parser.errorDetail());
    }
}
