package org.ttrec.dlrm.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Helpers for writing files atomically: write a temporary sibling, then rename it over the target.
 * Temporary names carry the writer's process id ({@code .NAME.tmp-PID-NANOS}), so a file left by a
 * writer that was killed (a {@code kill -9} between the write and the rename) is recognised and
 * removed by the next write in that folder. A commit syncs the file to disk before the rename, so
 * after a crash the target is either the old file or the whole new one.
 *
 * <p>This is the one place ttrec writes files that must never be seen half written: shards,
 * dictionaries, metadata, checkpoints, model files, run-folder records and plots.
 */
public final class AtomicFiles {
    private static final Pattern TEMP = Pattern.compile("^\\..+\\.tmp-(\\d+)-\\d+$");

    private AtomicFiles() {}

    /** Writes the body of a file. */
    @FunctionalInterface
    public interface Body {
        /**
         * @param out the temporary file's stream (buffered; closed by the caller)
         * @throws IOException if writing fails
         */
        void write(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code target} atomically: into a temporary sibling, synced, then renamed over it.
     *
     * @param target the final file
     * @param body   what to write
     * @throws IOException if writing fails (the target is then untouched and the temporary removed)
     */
    public static void write(Path target, Body body) throws IOException {
        Path tmp = tempNear(target);
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                body.write(out);
            }
            commit(tmp, target);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /**
     * Removes stale temporaries of dead writers from the target's folder, then names a new one.
     *
     * @param target the file that will be replaced
     * @return a fresh hidden name in the same folder (same file system, so the rename is atomic);
     *         unlike {@code Files.createTempFile} the file gets the usual permissions
     * @throws IOException if the folder cannot be created
     */
    public static Path tempNear(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        removeStale(dir);
        return dir.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    /**
     * @param name a file name
     * @return whether it is a temporary file of this class (of any writer, live or dead)
     */
    public static boolean isTemporary(String name) {
        return TEMP.matcher(name).matches();
    }

    /**
     * Deletes the temporary files in {@code dir} whose writer process no longer runs. Files of
     * live processes (this one included) are left alone: they may still be written.
     *
     * @param dir a folder
     * @return how many files were removed
     */
    public static int removeStale(Path dir) {
        int removed = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, ".*.tmp-*")) {
            for (Path p : s) {
                Matcher m = TEMP.matcher(p.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(m.group(1));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                try {
                    if (Files.deleteIfExists(p)) {
                        removed++;
                    }
                } catch (IOException e) {
                    // another writer removed it first, or no permission: not ours to insist on
                }
            }
        } catch (IOException e) {
            // an unreadable folder: the write that follows will report the real problem
        }
        return removed;
    }

    /**
     * Syncs {@code tmp} to disk, then renames it over {@code target}, atomically where the file
     * system allows.
     *
     * @param tmp    the finished temporary file
     * @param target the target
     * @throws IOException if the sync or the rename fails
     */
    public static void commit(Path tmp, Path target) throws IOException {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Makes {@code target} another name of the finished file {@code source} (a hard link, or a copy
     * where links are not supported), replacing what {@code target} was in one atomic rename.
     *
     * @param source an existing file
     * @param target the name to point at it
     * @throws IOException if neither a link nor a copy can be made
     */
    public static void link(Path source, Path target) throws IOException {
        Path tmp = tempNear(target);
        try {
            try {
                Files.createLink(tmp, source);
            } catch (UnsupportedOperationException | FileSystemException e) {
                Files.copy(source, tmp);
            }
            commit(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
