package org.ttrec.dlrm.data;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;

/**
 * Streams a raw Criteo text file (Kaggle {@code train.txt}, Terabyte {@code day_N}, the Kaggle
 * CSV with header; optionally gzip-compressed) as {@link RowBlock}s in file order.
 *
 * <p>The file is read in chunks of whole lines (cut at the last newline); with {@code threads > 1}
 * chunks are parsed concurrently, and blocks are handed out strictly in file order, so the output
 * does not depend on the thread count. Memory is bounded by {@code 2 * threads} chunks, whatever
 * the file size. The format is detected from the first line ({@link CriteoTextFormat}): tabs mean
 * raw TSV; commas mean CSV, with a leading id column if the line has 41 fields; a first line whose
 * first column is named {@code Id} or {@code Label} is a header and skipped.
 */
public final class CriteoTextReader implements AutoCloseable {
    /** Bytes read per chunk. */
    static final int DEFAULT_CHUNK = 4 << 20;

    private final String name;
    private final CountingStream counting;
    private final InputStream in;
    private final long fileSize;
    private final int chunkBytes;
    private final BadRowPolicy policy;
    private final BadRowCounts counts;
    private final ExecutorService pool;
    private final int maxInFlight;
    private final ArrayDeque<Future<RowBlock>> inFlight = new ArrayDeque<>();
    private final ThreadLocal<CriteoRowParser> parsers;

    private byte[] carry = new byte[0];
    private int carryLen;
    private boolean eof;
    private boolean formatKnown;
    private byte sep = '\t';
    private boolean hasId;
    private long nextLine = 1;
    private long uncompressedPos;
    private long rowsOut;

    /**
     * Opens a file with the default chunk size.
     *
     * @param file    the file (.gz is detected from its magic bytes)
     * @param threads parser threads (1 = parse on the caller's thread)
     * @param policy  what to do with bad rows
     * @param counts  where skipped rows are counted (may be null)
     * @throws IOException if the file cannot be opened
     */
    public CriteoTextReader(Path file, int threads, BadRowPolicy policy, BadRowCounts counts) throws IOException {
        this(file, threads, policy, counts, DEFAULT_CHUNK);
    }

    CriteoTextReader(Path file, int threads, BadRowPolicy policy, BadRowCounts counts, int chunkBytes)
            throws IOException {
        this(file.toString(), Files.newInputStream(file), Files.size(file), threads, policy, counts, chunkBytes);
    }

    /**
     * Reads a stream (tests and fuzzing: no file needed).
     *
     * @param name       the name used in error messages
     * @param stream     the bytes (gzip is detected from its magic bytes); closed by {@link #close()}
     * @param size       its size on disk, for progress
     * @param threads    parser threads
     * @param policy     what to do with bad rows
     * @param counts     where skipped rows are counted (may be null)
     * @param chunkBytes bytes read per chunk
     * @throws IOException if the stream cannot be read
     */
    CriteoTextReader(String name, InputStream stream, long size, int threads, BadRowPolicy policy, BadRowCounts counts,
                     int chunkBytes) throws IOException {
        if (threads < 1) {
            stream.close();
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.name = name;
        this.fileSize = size;
        this.chunkBytes = chunkBytes;
        this.policy = policy;
        this.counts = counts == null ? new BadRowCounts() : counts;
        this.counting = new CountingStream(stream);
        BufferedInputStream b = new BufferedInputStream(counting, 1 << 16);
        b.mark(2);
        int m0 = b.read();
        int m1 = b.read();
        b.reset();
        try {
            this.in = CriteoTextFormat.isGzip(m0, m1) ? new GZIPInputStream(b, 1 << 16) : b;
        } catch (IOException e) {
            b.close();
            throw new IOException(name + ": not a readable gzip file: " + e.getMessage(), e);
        }
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "criteo-parse");
            t.setDaemon(true);
            return t;
        });
        this.maxInFlight = threads == 1 ? 1 : 2 * threads;
        this.parsers = ThreadLocal.withInitial(() -> new CriteoRowParser(sep, hasId));
    }

    /** @return the file name used in error messages */
    public String name() {
        return name;
    }

    /** @return the on-disk size of the file (compressed size for .gz) */
    public long fileSize() {
        return fileSize;
    }

    /** @return on-disk bytes consumed so far, for progress bars */
    public long bytesRead() {
        return counting.count;
    }

    /** @return good rows handed out so far */
    public long rowsRead() {
        return rowsOut;
    }

    /**
     * @return the next block of parsed rows in file order (possibly with 0 rows if all were
     *         skipped), or null at the end of the file
     * @throws CriteoFormatException on the first bad row under {@link BadRowPolicy#FAIL}
     * @throws IOException if reading fails
     */
    public RowBlock next() throws IOException {
        while (!eof && inFlight.size() < maxInFlight) {
            submit();
        }
        Future<RowBlock> f = inFlight.poll();
        if (f == null) {
            return null;
        }
        RowBlock b;
        try {
            b = f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while parsing " + name);
        } catch (ExecutionException e) {
            throw new IOException("parsing " + name + " failed: " + e.getCause(), e.getCause());
        }
        b.firstLine = nextLine;
        nextLine += b.lines;
        if (b.errReason != null) {
            throw new CriteoFormatException(b.errReason, name, b.firstLine + b.errLocalLine,
                    b.firstByte + b.errLocalByte, b.errField, b.errValue, b.errDetail);
        }
        counts.addAll(b.skipped);
        rowsOut += b.rows;
        return b;
    }

    private void submit() throws IOException {
        byte[] buf = new byte[carryLen + chunkBytes];
        System.arraycopy(carry, 0, buf, 0, carryLen);
        int len = carryLen;
        int cut;
        while (true) {
            int n;
            try {
                n = in.readNBytes(buf, len, buf.length - len);
            } catch (IOException e) {
                // a corrupt or cut gzip stream: say which file, and where
                throw new IOException(name + ": cannot read past byte " + (uncompressedPos + len)
                        + (in instanceof GZIPInputStream ? " of the decompressed text (corrupt or truncated gzip?)" : "")
                        + ": " + e.getMessage(), e);
            }
            len += n;
            if (len < buf.length) {
                eof = true;
                cut = len;
                break;
            }
            cut = lastNewline(buf, len);
            if (cut > 0) {
                break;
            }
            if (buf.length >= CriteoTextFormat.MAX_LINE) {
                throw CriteoTextFormat.noLineBreak(name, uncompressedPos, buf, 0);
            }
            buf = java.util.Arrays.copyOf(buf, buf.length * 2);
        }
        carryLen = len - cut;
        if (carry.length < carryLen) {
            carry = new byte[Math.max(carryLen, 1 << 12)];
        }
        System.arraycopy(buf, cut, carry, 0, carryLen);
        int start = 0;
        if (!formatKnown) {
            start = detectFormat(buf, cut);
        }
        final int from = start;
        final int to = cut;
        final long firstByte = uncompressedPos + start;
        uncompressedPos += cut;
        final byte[] chunk = buf;
        if (pool == null) {
            RowBlock b = parseChunk(chunk, from, to, firstByte);
            inFlight.add(java.util.concurrent.CompletableFuture.completedFuture(b));
        } else {
            inFlight.add(pool.submit(() -> parseChunk(chunk, from, to, firstByte)));
        }
    }

    private static int lastNewline(byte[] buf, int len) {
        for (int i = len - 1; i >= 0; i--) {
            if (buf[i] == '\n') {
                return i + 1;
            }
        }
        return 0;
    }

    /**
     * Reads the format from the first line ({@link CriteoTextFormat#detect}); returns where data
     * starts (after a UTF-8 byte order mark and a header, if any).
     */
    private int detectFormat(byte[] buf, int len) {
        formatKnown = true;
        CriteoTextFormat f = CriteoTextFormat.detect(buf, len);
        sep = f.separator();
        hasId = f.hasId();
        nextLine = f.firstLine();
        return f.dataStart();
    }

    private RowBlock parseChunk(byte[] buf, int from, int to, long firstByte) {
        // One pass finds the line ends; rows are then parsed straight into the block.
        int[] ends = new int[Math.max(16, (to - from) / 128)];
        int lines = 0;
        int p = from;
        while (p < to) {
            int e = CriteoTextFormat.findNewline(buf, p, to);
            if (lines == ends.length) {
                ends = java.util.Arrays.copyOf(ends, lines * 2);
            }
            ends[lines++] = e;
            p = e + 1;
        }
        RowBlock b = new RowBlock(lines);
        b.lines = lines;
        b.firstByte = firstByte;
        CriteoRowParser parser = parsers.get();
        int[] out = b.data;
        int rows = 0;
        p = from;
        for (int line = 0; line < lines; line++) {
            int e = ends[line];
            if (parser.parse(buf, p, e, out, rows * CriteoRowParser.ROW_INTS)) {
                rows++;
            } else if (policy == BadRowPolicy.SKIP) {
                b.skipped[parser.errorReason().ordinal()]++;
            } else {
                b.errReason = parser.errorReason();
                b.errLocalLine = line;
                b.errLocalByte = p - from;
                b.errField = parser.errorField();
                b.errValue = parser.errorValue(buf);
                b.errDetail = parser.errorDetail();
                break;
            }
            p = e + 1;
        }
        b.rows = rows;
        return b;
    }

    @Override
    public void close() throws IOException {
        if (pool != null) {
            pool.shutdownNow();
        }
        in.close();
    }

    /** Counts on-disk bytes for progress reporting of compressed files. */
    private static final class CountingStream extends FilterInputStream {
        volatile long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int r = super.read();
            if (r >= 0) {
                count++;
            }
            return r;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
