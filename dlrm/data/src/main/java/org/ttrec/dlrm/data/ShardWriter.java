package org.ttrec.dlrm.data;

import org.ttrec.dlrm.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Writes one shard ({@link ShardFormat}) by streaming rows into a temporary file; the header,
 * which needs the row count and the final cardinalities, is written by {@link #finish}, which then
 * renames the file into place. Until then the target path is untouched.
 */
public final class ShardWriter implements AutoCloseable {
    private final Path target;
    private final Path tmp;
    private FileChannel ch;
    private final int dense;
    private final int sparse;
    private final int rowInts;
    private final int headerBytes;
    private ByteBuffer buf; // released by seal(): a Terabyte run holds ~1000 sealed writers
    private final CRC32C crc = new CRC32C();
    private long rows;
    private boolean done;

    /**
     * @param target the final shard path
     * @param dense  dense features D
     * @param sparse categorical features S
     * @throws IOException if the temporary file cannot be created
     */
    public ShardWriter(Path target, int dense, int sparse) throws IOException {
        this.target = target;
        this.dense = dense;
        this.sparse = sparse;
        this.rowInts = 1 + dense + sparse;
        this.headerBytes = ShardFormat.headerBytes(sparse);
        this.tmp = AtomicFiles.tempNear(target);
        this.ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);
        ch.position(headerBytes);
        this.buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** @return rows written so far */
    public long rows() {
        return rows;
    }

    /** @return the final path */
    public Path target() {
        return target;
    }

    /**
     * Appends rows from {@code data[from*R, (from+count)*R)} (R = 1+D+S ints per row).
     *
     * @throws IOException if writing fails
     */
    public void write(int[] data, int from, int count) throws IOException {
        if (buf == null) {
            throw new IllegalStateException("shard " + target + " is already sealed");
        }
        int p = from * rowInts;
        int end = (from + count) * rowInts;
        while (p < end) {
            int n = Math.min(end - p, buf.remaining() / 4);
            if (n == 0) {
                drain();
                continue;
            }
            buf.asIntBuffer().put(data, p, n);
            buf.position(buf.position() + 4 * n);
            p += n;
        }
        rows += count;
    }

    private void drain() throws IOException {
        buf.flip();
        crc.update(buf.duplicate());
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        buf.clear();
    }

    /**
     * Flushes and closes the payload without the header yet, so that many finished-but-unheaded
     * shards do not hold file handles while the final cardinalities are still unknown.
     *
     * @throws IOException if writing fails
     */
    public void seal() throws IOException {
        if (ch.isOpen()) {
            drain();
            ch.close();
            buf = null;
        }
    }

    /** @return the temporary file that holds the rows until {@link #finish} */
    Path temporaryFile() {
        return tmp;
    }

    /**
     * Writes the header with the given cardinalities, syncs and renames the file into place.
     *
     * @param cardinalities table sizes (length S)
     * @throws IOException if writing fails
     */
    public void finish(int[] cardinalities) throws IOException {
        if (cardinalities.length != sparse) {
            throw new IllegalArgumentException("shard: " + cardinalities.length + " cardinalities for " + sparse + " tables");
        }
        seal();
        ByteBuffer h = ByteBuffer.wrap(ShardFormat.header(rows, dense, cardinalities, (int) crc.getValue()));
        try (FileChannel hc2 = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            long pos = 0;
            while (h.hasRemaining()) {
                pos += hc2.write(h, pos);
            }
        }
        done = true;
        AtomicFiles.commit(tmp, target);
    }

    /** Abandons the shard if {@link #finish} was not called, deleting the temporary file. */
    @Override
    public void close() throws IOException {
        if (!done) {
            ch.close();
            done = true;
            Files.deleteIfExists(tmp);
        }
    }
}
