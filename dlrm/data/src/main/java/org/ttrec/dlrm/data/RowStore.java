package org.ttrec.dlrm.data;

import java.io.IOException;

/**
 * Random access to rows in the {@link CriteoRowParser#ROW_INTS}-int layout
 * {@code [label, dense..., indices...]}: memory-mapped shards or .bin files, arrays in memory,
 * or a synthetic generator.
 */
interface RowStore extends AutoCloseable {
    /** @return number of rows */
    long rows();

    /** @return ints per row */
    int rowInts();

    /**
     * Copies rows {@code [row, row + count)} into {@code dst} starting at {@code dstOff}.
     *
     * @throws IOException if the rows cannot be read
     */
    void read(long row, int count, int[] dst, int dstOff) throws IOException;

    /** @return where row {@code row} lives, for error messages (file and byte offset) */
    String locate(long row);

    /** @return the file of row {@code row}, or a description */
    String fileOf(long row);

    /** @return byte offset of row {@code row} in {@link #fileOf}, or -1 */
    long byteOffsetOf(long row);

    @Override
    default void close() throws IOException {}
}
