package org.ttrec.spark.preprocess;

import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ttrec.dlrm.data.CriteoTextFormat;
import org.ttrec.dlrm.io.AtomicFiles;

import java.io.BufferedInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * File-system helpers of the distributed preprocessor: opening raw text (plain or gzip, decided
 * by the magic bytes as {@code CriteoTextReader} decides), and writing outputs atomically on any
 * Hadoop file system: a hidden temporary sibling, renamed into place when complete.
 *
 * <p>Temporary names are {@code .NAME.tmp-spark-RUN-ATTEMPT}: RUN is unique per preprocessing
 * run, so that a failed run can remove exactly its own leftovers, including those of task attempts
 * that died; they do not match {@link AtomicFiles}' pattern, so a single-machine writer in the same
 * folder never mistakes them for its own.
 */
final class HadoopFiles {
    /** What every temporary file name of this preprocessor contains, before the run id. */
    static final String TEMP_MARK = ".tmp-spark-";

    private HadoopFiles() {}

    /**
     * @param fs   its file system
     * @param p    an input path
     * @param name the path as the user gave it (for messages)
     * @return its status
     * @throws java.nio.file.NoSuchFileException if it does not exist or is not a file, with the
     *         message the single-machine preprocessor gives
     * @throws IOException if the file system cannot be reached
     */
    static FileStatus inputFile(FileSystem fs, Path p, String name) throws IOException {
        FileStatus st;
        try {
            st = fs.getFileStatus(p);
        } catch (FileNotFoundException e) {
            throw new java.nio.file.NoSuchFileException(name, null, "input file not found");
        }
        if (!st.isFile()) {
            throw new java.nio.file.NoSuchFileException(name, null, "input file not found");
        }
        return st;
    }

    /**
     * @param fs its file system
     * @param p  a file
     * @return whether it starts with the gzip magic number
     * @throws IOException if it cannot be read
     */
    static boolean isGzip(FileSystem fs, Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            int b0 = in.read();
            int b1 = b0 < 0 ? -1 : in.read();
            return CriteoTextFormat.isGzip(b0, b1);
        }
    }

    /**
     * Opens a raw text file from its start, decompressing it if it starts with the gzip magic
     * number (whatever its name).
     *
     * @param fs   its file system
     * @param p    the file
     * @param name the file as named in messages
     * @return the (decompressed) text, buffered
     * @throws IOException if it cannot be opened, or is not a readable gzip file
     */
    static InputStream openText(FileSystem fs, Path p, String name) throws IOException {
        BufferedInputStream b = new BufferedInputStream(fs.open(p), 1 << 16);
        try {
            b.mark(2);
            int m0 = b.read();
            int m1 = b.read();
            b.reset();
            if (!CriteoTextFormat.isGzip(m0, m1)) {
                return b;
            }
            try {
                return new BufferedInputStream(new GZIPInputStream(b, 1 << 16), 1 << 16);
            } catch (IOException e) {
                throw new IOException(name + ": not a readable gzip file: " + e.getMessage(), e);
            }
        } catch (IOException | RuntimeException e) {
            b.close();
            throw e;
        }
    }

    /**
     * @param fs   its file system
     * @param p    a raw text file
     * @param name the file as named in messages
     * @return its first line, {@code '\n'} included, decompressed; the whole file if it has no line
     *         break; at most {@link CriteoTextFormat#MAX_LINE} bytes (a longer line is an error the
     *         readers report where they meet it)
     * @throws IOException if it cannot be read
     */
    static byte[] firstLine(FileSystem fs, Path p, String name) throws IOException {
        try (InputStream in = openText(fs, p, name)) {
            byte[] buf = new byte[1 << 16];
            int len = 0;
            while (true) {
                if (len == buf.length) {
                    if (len >= CriteoTextFormat.MAX_LINE) {
                        return buf;
                    }
                    buf = Arrays.copyOf(buf, Math.min(CriteoTextFormat.MAX_LINE, 2 * len));
                }
                int n;
                try {
                    n = in.read(buf, len, buf.length - len);
                } catch (IOException e) {
                    throw new IOException(name + ": cannot read past byte " + len + " of the text: " + e.getMessage(), e);
                }
                if (n < 0) {
                    return Arrays.copyOf(buf, len);
                }
                int nl = CriteoTextFormat.findNewline(buf, len, len + n);
                len += n;
                if (nl < len) {
                    return Arrays.copyOf(buf, nl + 1);
                }
            }
        }
    }

    /**
     * @param target  a final file
     * @param run     the run id
     * @param attempt what tells concurrent writers of the same file apart (a task attempt), or ""
     * @return the hidden temporary sibling to write before renaming
     */
    static Path temporary(Path target, String run, String attempt) {
        String suffix = attempt.isEmpty() ? "" : "-" + attempt;
        return new Path(target.getParent(), "." + target.getName() + TEMP_MARK + run + suffix);
    }

    /**
     * Writes a file through a temporary sibling, synced and renamed into place.
     *
     * @param fs     the file system
     * @param target the final file
     * @param run    the run id
     * @param body   what to write
     * @throws IOException if writing fails (the temporary is then removed)
     */
    static void writeAtomically(FileSystem fs, Path target, String run, AtomicFiles.Body body) throws IOException {
        Path tmp = write(fs, temporary(target, run, ""), body);
        commit(fs, tmp, target);
    }

    /**
     * Writes a new file completely (no rename).
     *
     * @param fs   the file system
     * @param file the file, which must not exist
     * @param body what to write
     * @return {@code file}
     * @throws IOException if writing fails (the file is then removed)
     */
    static Path write(FileSystem fs, Path file, AtomicFiles.Body body) throws IOException {
        FSDataOutputStream created = fs.create(file, false, 1 << 16); // fails, touching nothing, if the file exists
        try {
            try (FSDataOutputStream out = created) {
                body.write(out);
                out.hsync(); // on disk before the rename makes it visible under its final name
            }
            return file;
        } catch (IOException | RuntimeException e) {
            try {
                fs.delete(file, false);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Renames a finished temporary file over its target. Hadoop file systems do not all replace an
     * existing target in a rename (HDFS refuses), so an old target is deleted first: a reader may
     * briefly find no file, but never a partly written one.
     *
     * @param fs     the file system
     * @param tmp    the finished temporary file
     * @param target the final name
     * @throws IOException if the rename fails
     */
    static void commit(FileSystem fs, Path tmp, Path target) throws IOException {
        if (fs.exists(target)) {
            fs.delete(target, false);
        }
        if (!fs.rename(tmp, target)) {
            throw new IOException("cannot rename " + tmp + " to " + target);
        }
    }

    /**
     * Deletes the temporary files of one run in a folder (finished or not, of any task attempt).
     *
     * @param fs  the file system
     * @param dir the folder
     * @param run the run id
     * @throws IOException if the folder cannot be listed or a file not deleted
     */
    static void removeTemporaries(FileSystem fs, Path dir, String run) throws IOException {
        if (!fs.exists(dir)) {
            return;
        }
        for (FileStatus st : fs.listStatus(dir)) {
            String n = st.getPath().getName();
            if (n.startsWith(".") && n.contains(TEMP_MARK + run)) {
                fs.delete(st.getPath(), false);
            }
        }
    }
}
