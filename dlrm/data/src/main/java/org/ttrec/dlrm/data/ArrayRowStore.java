package org.ttrec.dlrm.data;

/** Rows held in one int array (small raw files read into memory). */
final class ArrayRowStore implements RowStore {
    private final int[] data;
    private final long rows;
    private final String name;
    private final int rowInts;

    ArrayRowStore(int[] data, long rows, int rowInts, String name) {
        this.data = data;
        this.rows = rows;
        this.rowInts = rowInts;
        this.name = name;
    }

    @Override
    public long rows() {
        return rows;
    }

    @Override
    public int rowInts() {
        return rowInts;
    }

    @Override
    public void read(long row, int count, int[] dst, int dstOff) {
        System.arraycopy(data, (int) row * rowInts, dst, dstOff, count * rowInts);
    }

    @Override
    public String locate(long row) {
        return name + " (row " + row + ")";
    }

    @Override
    public String fileOf(long row) {
        return name;
    }

    @Override
    public long byteOffsetOf(long row) {
        return -1;
    }
}
