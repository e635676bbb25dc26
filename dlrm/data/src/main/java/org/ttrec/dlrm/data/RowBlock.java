package org.ttrec.dlrm.data;

/**
 * A run of consecutive parsed rows, {@link CriteoRowParser#ROW_INTS} ints each, row-major:
 * {@code [label, I1..I13, C1..C26]}. Categorical values are raw 32-bit hashes as read, or table
 * indices after mapping.
 */
public final class RowBlock {
    /** Good rows in {@link #data}. */
    public int rows;
    /** Row-major values, at least {@code rows * ROW_INTS} long. */
    public final int[] data;
    /** 1-based line number of the first line in this block (set by the reader, in file order). */
    public long firstLine;
    /** Text lines this block covered, good and skipped. */
    int lines;
    /** Byte offset of the block's first line in the uncompressed file. */
    long firstByte;
    /** Rows skipped per {@link BadRowReason} ordinal. */
    final long[] skipped = new long[BadRowReason.values().length];
    // First failure under BadRowPolicy.FAIL (localLine is 0-based within the block).
    BadRowReason errReason;
    int errLocalLine;
    int errLocalByte;
    int errField;
    String errValue;
    String errDetail;

    /** @param capacityRows rows the block can hold */
    public RowBlock(int capacityRows) {
        this.data = new int[capacityRows * CriteoRowParser.ROW_INTS];
    }

    /** @return the label of row r */
    public int label(int r) {
        return data[r * CriteoRowParser.ROW_INTS];
    }

    /** @return dense feature j (0-based) of row r, already clipped at 0 */
    public int dense(int r, int j) {
        return data[r * CriteoRowParser.ROW_INTS + 1 + j];
    }

    /** @return categorical feature t (0-based) of row r */
    public int sparse(int r, int t) {
        return data[r * CriteoRowParser.ROW_INTS + 1 + CriteoRowParser.DENSE + t];
    }
}
