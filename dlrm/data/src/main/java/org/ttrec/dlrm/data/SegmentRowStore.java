package org.ttrec.dlrm.data;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Rows of several memory-mapped files (shards or MLPerf .bin files) seen as one sequence. The
 * files are mapped, not read: the OS pages rows in on demand, so a Terabyte-sized set costs
 * only address space.
 */
final class SegmentRowStore implements RowStore {
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofShared();
    private final List<MemorySegment> segments = new ArrayList<>();
    private final List<String> names = new ArrayList<>();
    private final List<Long> payloadOffsets = new ArrayList<>();
    private long[] starts = {0};
    private final int rowInts;
    private final int rowBytes;

    SegmentRowStore(int rowInts) {
        this.rowInts = rowInts;
        this.rowBytes = rowInts * 4;
    }

    /** Maps a whole file read-only. */
    MemorySegment map(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
    }

    /** Appends {@code rows} rows of {@code seg} starting at byte {@code payloadOffset}. */
    void add(String name, MemorySegment seg, long payloadOffset, long rows) {
        if (rows == 0) {
            return; // an empty file would make row -> file lookups ambiguous
        }
        segments.add(seg);
        names.add(name);
        payloadOffsets.add(payloadOffset);
        long[] s = Arrays.copyOf(starts, starts.length + 1);
        s[s.length - 1] = starts[starts.length - 1] + rows;
        starts = s;
    }

    @Override
    public long rows() {
        return starts[starts.length - 1];
    }

    @Override
    public int rowInts() {
        return rowInts;
    }

    private int segmentOf(long row) {
        int i = Arrays.binarySearch(starts, row);
        return i >= 0 ? i : -i - 2;
    }

    @Override
    public void read(long row, int count, int[] dst, int dstOff) {
        while (count > 0) {
            int s = segmentOf(row);
            long inSeg = row - starts[s];
            int n = (int) Math.min(count, starts[s + 1] - row);
            MemorySegment.copy(segments.get(s), LE_INT, payloadOffsets.get(s) + inSeg * rowBytes,
                    dst, dstOff, n * rowInts);
            row += n;
            count -= n;
            dstOff += n * rowInts;
        }
    }

    @Override
    public String locate(long row) {
        return fileOf(row) + " (byte " + byteOffsetOf(row) + ")";
    }

    @Override
    public String fileOf(long row) {
        return names.get(segmentOf(row));
    }

    @Override
    public long byteOffsetOf(long row) {
        int s = segmentOf(row);
        return payloadOffsets.get(s) + (row - starts[s]) * rowBytes;
    }

    @Override
    public void close() {
        arena.close();
    }
}
