package org.ttrec.dlrm.data;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/** The validated header of one shard ({@link ShardFormat}). */
public record ShardFile(Path path, int headerBytes, long rows, int dense, int sparse, int[] cardinalities,
                        int payloadCrc) {

    /**
     * Reads and validates a shard's header and its length (not the payload checksum; see
     * {@link #verifyPayload}).
     *
     * @param path the shard
     * @return its header
     * @throws CriteoFormatException if the header is wrong or the file is truncated
     * @throws IOException if it cannot be read
     */
    public static ShardFile open(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer b = ByteBuffer.allocate((int) Math.min(size, 1 << 16)).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                // positional reads until the buffer is full or the file ends
            }
            b.flip();
            return parse(path, b, size);
        }
    }

    /**
     * Validates a shard header read into a buffer.
     *
     * @param path the shard (for messages)
     * @param b    the file's first bytes (up to 64 KiB), little-endian, positioned at 0
     * @param size the whole file's length
     * @return the header
     * @throws CriteoFormatException if the header is wrong or the length does not match it
     */
    static ShardFile parse(Path path, ByteBuffer b, long size) throws CriteoFormatException {
        String name = path.toString();
        if (b.remaining() < 40) {
            throw new CriteoFormatException(BadRowReason.TRUNCATED, name, -1, size, -1, null,
                    "shorter than a shard header (" + size + " bytes)");
        }
        byte[] magic = new byte[8];
        b.get(magic);
        if (!java.util.Arrays.equals(magic, ShardFormat.MAGIC)) {
            throw new CriteoFormatException(BadRowReason.BAD_HEADER, name, -1, 0, -1,
                    CriteoFormatException.printable(magic, 0, 8), "not a ttrec shard (magic TTRECSH1)");
        }
        int version = b.getInt();
        int headerBytes = b.getInt();
        long rows = b.getLong();
        int dense = b.getInt();
        int sparse = b.getInt();
        if (version != ShardFormat.VERSION) {
            throw new CriteoFormatException(BadRowReason.BAD_HEADER, name, -1, 8, -1, String.valueOf(version),
                    "unsupported shard version (this build reads " + ShardFormat.VERSION + ")");
        }
        if (dense < 0 || sparse < 0 || dense > 4096 || sparse > 4096 || rows < 0
                || headerBytes != ShardFormat.headerBytes(sparse) || headerBytes > b.limit()) {
            throw new CriteoFormatException(BadRowReason.BAD_HEADER, name, -1, 12, -1, null,
                    "impossible header: header " + headerBytes + " bytes, rows " + rows + ", dense " + dense
                            + ", sparse " + sparse);
        }
        int[] card = new int[sparse];
        for (int t = 0; t < sparse; t++) {
            card[t] = b.getInt();
        }
        int payloadCrc = b.getInt();
        int headerEnd = b.position();
        int headerCrc = b.getInt();
        CRC32C c = new CRC32C();
        c.update(b.array(), b.arrayOffset(), headerEnd);
        if ((int) c.getValue() != headerCrc) {
            throw new CriteoFormatException(BadRowReason.CHECKSUM, name, -1, headerEnd, -1, null,
                    String.format("header CRC32C stored %08x, computed %08x", headerCrc, (int) c.getValue()));
        }
        for (int t = 0; t < sparse; t++) {
            if (card[t] < 1) {
                throw new CriteoFormatException(BadRowReason.BAD_HEADER, name, -1, 32 + 4L * t, -1,
                        String.valueOf(card[t]), "cardinality of table " + t + " must be >= 1");
            }
        }
        long rowBytes = ShardFormat.rowBytes(dense, sparse);
        // rows * rowBytes may overflow a long for a corrupt row count: compare by division
        if (rows > (size - headerBytes) / rowBytes || headerBytes + rows * rowBytes != size) {
            throw new CriteoFormatException(BadRowReason.TRUNCATED, name, -1, size, -1, null,
                    "file has " + size + " bytes, header says " + rows + " rows of " + rowBytes + " bytes after a "
                            + headerBytes + "-byte header");
        }
        return new ShardFile(path, headerBytes, rows, dense, sparse, card, payloadCrc);
    }

    /**
     * Recomputes the payload checksum over the mapped file.
     *
     * @param mapped the whole file, mapped
     * @throws CriteoFormatException if it does not match the header
     */
    public void verifyPayload(MemorySegment mapped) throws CriteoFormatException {
        CRC32C c = new CRC32C();
        long end = mapped.byteSize();
        // ByteBuffer views are limited to 2 GiB, so checksum in slices.
        for (long p = headerBytes; p < end; p += 1 << 30) {
            long n = Math.min(1 << 30, end - p);
            c.update(mapped.asSlice(p, n).asByteBuffer());
        }
        if ((int) c.getValue() != payloadCrc) {
            throw new CriteoFormatException(BadRowReason.CHECKSUM, path.toString(), -1, headerBytes, -1, null,
                    String.format("payload CRC32C stored %08x, computed %08x: the shard is corrupt, preprocess again",
                            payloadCrc, (int) c.getValue()));
        }
    }
}
