package org.ttrec.spark.preprocess;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ttrec.dlrm.data.CriteoFormatException;
import org.ttrec.dlrm.data.CriteoTextFormat;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads the lines that start in one {@link TextSplit} of a raw Criteo text file, as chunks of
 * whole lines (each with its {@code '\n'}; the file's last line may lack one) in a buffer of its
 * own, without copying. A line belongs to the split in which it starts, so every line is read
 * exactly once, whatever the split boundaries: a split that does not start the file skips the
 * line it starts in, and the last line read may end past the split. Lines end at {@code '\n'}
 * only, as in {@code CriteoTextReader}; a line of {@link CriteoTextFormat#MAX_LINE} bytes or more
 * is an error, as there.
 */
final class LineChunkReader implements Closeable {
    /** Target bytes per chunk. */
    static final int DEFAULT_CHUNK_BYTES = 1 << 20;

    private final String name;
    private final InputStream in;
    private final boolean compressed;
    /** Lines that start before this offset belong to the split. */
    private final long end;
    private final int chunkBytes;

    private byte[] buf;
    private int len;
    /** File offset of {@code buf[0]}. */
    private long bufPos;
    /** Index in {@code buf} of the next line to hand out. */
    private int next;
    private boolean eof;
    private int chunkFrom;
    private int chunkTo;

    /**
     * @param split      the split
     * @param conf       Hadoop settings
     * @param chunkBytes target bytes per chunk (a chunk holds at least one line)
     * @throws IOException if the file cannot be opened
     */
    LineChunkReader(TextSplit split, Configuration conf, int chunkBytes) throws IOException {
        Path p = new Path(split.name);
        FileSystem fs = FileSystems.of(p, conf);
        this.name = split.name;
        this.compressed = split.compressed;
        this.chunkBytes = Math.max(1, chunkBytes);
        this.buf = new byte[Math.max(1 << 12, 2 * this.chunkBytes)];
        if (split.start == 0) {
            this.in = HadoopFiles.openText(fs, p, name);
            this.end = compressed ? Long.MAX_VALUE : split.length;
        } else {
            FSDataInputStream s = fs.open(p);
            try {
                // Read from the byte before the split: if it is a line break, a line starts right at
                // the split's start and belongs to it; otherwise the line in progress is skipped.
                s.seek(split.start - 1);
            } catch (IOException e) {
                s.close();
                throw e;
            }
            this.in = s;
            this.bufPos = split.start - 1;
            this.end = split.start + split.length;
            skipPartialLine();
        }
    }

    private void skipPartialLine() throws IOException {
        while (true) {
            int e = CriteoTextFormat.findNewline(buf, next, len);
            if (e < len) {
                next = e + 1;
                return;
            }
            next = len;
            if (eof) {
                return;
            }
            fill();
        }
    }

    /**
     * Moves the unread bytes to the front of the buffer (growing it if they fill it) and reads
     * until it is full or the file ends.
     */
    private void fill() throws IOException {
        if (next > 0) {
            System.arraycopy(buf, next, buf, 0, len - next);
            bufPos += next;
            len -= next;
            next = 0;
        }
        if (len == buf.length) {
            buf = Arrays.copyOf(buf, 2 * buf.length);
        }
        while (len < buf.length) {
            int n;
            try {
                n = in.read(buf, len, buf.length - len);
            } catch (IOException e) {
                // a corrupt or cut gzip stream, or a failing file system: say which file, and where
                throw new IOException(name + ": cannot read past byte " + (bufPos + len)
                        + (compressed ? " of the decompressed text (corrupt or truncated gzip?)" : "")
                        + ": " + e.getMessage(), e);
            }
            if (n < 0) {
                eof = true;
                return;
            }
            len += n;
        }
    }

    /**
     * Moves to the next chunk; the previous one's bytes are no longer valid.
     *
     * @return false when no more lines start in the split
     * @throws CriteoFormatException for a line without a line break within {@link CriteoTextFormat#MAX_LINE} bytes
     * @throws IOException if reading fails
     */
    boolean next() throws IOException {
        if (bufPos + next >= end) {
            return false;
        }
        if (!eof && len - next < chunkBytes) {
            fill();
        }
        int p = next; // start of the next line not yet in the chunk
        int scanned = next; // buf[p, scanned) holds no line break
        while (true) {
            int e = CriteoTextFormat.findNewline(buf, scanned, len);
            if ((e < len || eof) && e - p >= CriteoTextFormat.MAX_LINE) {
                throw CriteoTextFormat.noLineBreak(name, bufPos + p, buf, p);
            }
            if (e < len) {
                p = e + 1;
                scanned = p;
                if (p - next >= chunkBytes || bufPos + p >= end) {
                    break;
                }
                continue;
            }
            scanned = len;
            if (eof) {
                p = len; // the last line of the file, without a line break (if not empty)
                break;
            }
            if (p > next) {
                break; // hand out the whole lines; the one in progress starts the next chunk
            }
            if (len - p >= CriteoTextFormat.MAX_LINE) {
                throw CriteoTextFormat.noLineBreak(name, bufPos + p, buf, p);
            }
            int shift = next;
            fill();
            p -= shift;
            scanned -= shift;
        }
        if (p == next) {
            return false;
        }
        chunkFrom = next;
        chunkTo = p;
        next = p;
        return true;
    }

    /** @return the buffer holding the current chunk at {@code [chunkFrom(), chunkTo())} */
    byte[] buffer() {
        return buf;
    }

    /** @return where the current chunk starts in {@link #buffer()} */
    int chunkFrom() {
        return chunkFrom;
    }

    /** @return where the current chunk ends in {@link #buffer()} */
    int chunkTo() {
        return chunkTo;
    }

    /** @return the (decompressed) file offset of the current chunk's first byte */
    long chunkOffset() {
        return bufPos + chunkFrom;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
