package org.ttrec.dlrm.data;

/**
 * The ttrec binary shard format ({@code .ttrs}): preprocessed Criteo rows that can be memory-mapped
 * and read without parsing. All numbers are little-endian.
 *
 * <pre>
 * offset      size        field
 * 0           8           magic "TTRECSH1" (ASCII)
 * 8           4           int32 format version (1)
 * 12          4           int32 header length H in bytes (a multiple of 64; the payload starts at H)
 * 16          8           int64 row count N
 * 24          4           int32 dense features D (13 for Criteo)
 * 28          4           int32 categorical features S (26 for Criteo)
 * 32          4*S         int32 cardinality of each table (indices of table t are in [0, card[t]))
 * 32+4S       4           int32 CRC32C of the payload (bytes [H, H + N*R))
 * 36+4S       4           int32 CRC32C of the header bytes [0, 36+4S)
 * 40+4S       H-(40+4S)   zero padding
 * H           N*R         payload: N rows of R = 4*(1+D+S) bytes, each
 *                         int32 label (0 or 1), D x int32 dense (raw counts, clipped at 0, not yet
 *                         log-transformed), S x int32 table indices
 * </pre>
 *
 * <p>The file length must be exactly {@code H + N*R}. The row layout is the same as an MLPerf
 * {@code .bin} row, so both are read by the same code. Dense values are kept as raw integers, not
 * as {@code log(1+x)} floats, so that a reader can apply a different transform; ttrec applies
 * {@code log(1 + max(x, 0))} when it builds batches. A preprocessed data set is a folder with shards
 * {@code shard-00000.ttrs, ...} (rows in file order), {@code dictionaries.ttrd} (see
 * {@link Dictionaries}) and {@code metadata.json} (row ranges of the splits, cardinalities,
 * sources, options); {@code metadata.json} is written last, so a folder without it is incomplete.
 * See also {@code docs/data-format.md}.
 */
public final class ShardFormat {
    private ShardFormat() {}

    /** The magic bytes at offset 0. */
    public static final byte[] MAGIC = {'T', 'T', 'R', 'E', 'C', 'S', 'H', '1'};
    /** The format version this code writes and reads. */
    public static final int VERSION = 1;
    /** File name extension of shards. */
    public static final String EXTENSION = ".ttrs";
    /** Name of the metadata file in a preprocessed folder. */
    public static final String METADATA = "metadata.json";
    /** Name of the dictionaries file in a preprocessed folder. */
    public static final String DICTIONARIES = "dictionaries.ttrd";

    /** @return the header length H for S categorical features */
    public static int headerBytes(int sparse) {
        int used = 40 + 4 * sparse;
        return (used + 63) & ~63;
    }

    /**
     * Encodes a shard header: everything before the payload, zero padding included.
     *
     * @param rows          row count N
     * @param dense         dense features D
     * @param cardinalities table sizes (S of them)
     * @param payloadCrc    CRC32C of the payload (all N rows)
     * @return the {@link #headerBytes(int)} bytes of the header, its own CRC32C included
     */
    public static byte[] header(long rows, int dense, int[] cardinalities, int payloadCrc) {
        int sparse = cardinalities.length;
        java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(headerBytes(sparse)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        h.put(MAGIC).putInt(VERSION).putInt(headerBytes(sparse)).putLong(rows).putInt(dense).putInt(sparse);
        for (int c : cardinalities) {
            h.putInt(c);
        }
        h.putInt(payloadCrc);
        java.util.zip.CRC32C hc = new java.util.zip.CRC32C();
        hc.update(h.array(), 0, h.position());
        h.putInt((int) hc.getValue());
        return h.array();
    }

    /** @return bytes per row R */
    public static int rowBytes(int dense, int sparse) {
        return 4 * (1 + dense + sparse);
    }

    /** @return the shard file name of shard number i */
    public static String shardName(int i) {
        return String.format("shard-%05d%s", i, EXTENSION);
    }
}
