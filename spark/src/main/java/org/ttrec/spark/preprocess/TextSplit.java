package org.ttrec.spark.preprocess;

import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * One partition of the input: a byte range of one raw text file. The lines that start in the range
 * belong to it ({@link LineChunkReader}); a compressed file is one split read from start to end.
 * The driver cuts the files itself, as Hadoop's {@code FileInputFormat} would (ranges of about
 * {@code length / minPartitions}, at most a file-system block, the last up to 10% longer), rather
 * than through Spark's {@code hadoopRDD}: lines end at {@code '\n'} only and gzip is known by its
 * magic bytes, as in the single-machine reader, and it needs no Hadoop user, which the Hadoop 3.4
 * client that Spark 4.1 ships cannot find on Java 23 and later ({@code Subject.getSubject}).
 */
final class TextSplit implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Index of the file among the inputs. */
    final int file;
    /** The file as the user named it (a Hadoop path string). */
    final String name;
    /** First byte of the range. */
    final long start;
    /** Bytes in the range (the whole file's length if compressed). */
    final long length;
    /** Whether the file is gzip-compressed (then the split is the whole file). */
    final boolean compressed;
    /** Hosts that store the range's first byte, for Spark's task placement. */
    final String[] hosts;

    TextSplit(int file, String name, long start, long length, boolean compressed, String[] hosts) {
        this.file = file;
        this.name = name;
        this.start = start;
        this.length = length;
        this.compressed = compressed;
        this.hosts = hosts;
    }

    /**
     * Cuts one file into splits.
     *
     * @param file          the file's index among the inputs
     * @param name          the file as the user named it
     * @param fs            its file system
     * @param status        its status
     * @param compressed    whether it is gzip-compressed
     * @param minPartitions at least this many splits if uncompressed and long enough
     * @return the splits in file order (one, empty, for an empty file)
     * @throws IOException if block locations cannot be read
     */
    static List<TextSplit> of(int file, String name, FileSystem fs, FileStatus status, boolean compressed,
                              int minPartitions) throws IOException {
        long len = status.getLen();
        List<TextSplit> out = new ArrayList<>();
        if (compressed || len == 0) {
            out.add(new TextSplit(file, name, 0, len, compressed, hosts(fs, status, 0, len)));
            return out;
        }
        long block = status.getBlockSize() > 0 ? status.getBlockSize() : len;
        long size = Math.max(1, Math.min(len / minPartitions, block));
        long left = len;
        while (left > size + size / 10) {
            out.add(new TextSplit(file, name, len - left, size, false, hosts(fs, status, len - left, size)));
            left -= size;
        }
        out.add(new TextSplit(file, name, len - left, left, false, hosts(fs, status, len - left, left)));
        return out;
    }

    /**
     * @param partition a partition of one split per partition
     * @param splits    its elements
     * @return its split
     */
    static TextSplit only(int partition, java.util.Iterator<TextSplit> splits) {
        if (!splits.hasNext()) {
            throw new IllegalStateException("partition " + partition + " holds no input split");
        }
        TextSplit s = splits.next();
        if (splits.hasNext()) {
            throw new IllegalStateException("partition " + partition + " holds more than one input split");
        }
        return s;
    }

    private static String[] hosts(FileSystem fs, FileStatus status, long start, long len) throws IOException {
        BlockLocation[] b = fs.getFileBlockLocations(status, start, Math.max(1, len));
        return b == null || b.length == 0 ? new String[0] : b[0].getHosts();
    }

    @Override
    public String toString() {
        return name + (compressed ? " (gzip)" : " [" + start + ", " + (start + length) + ")");
    }
}
