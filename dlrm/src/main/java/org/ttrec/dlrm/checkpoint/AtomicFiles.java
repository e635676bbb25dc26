package org.ttrec.dlrm.checkpoint;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Helpers for writing files atomically: write a temporary sibling, then rename it over the target. */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * @param target the file that will be replaced
     * @return a fresh hidden name in the same folder (same file system, so the rename is atomic);
     *         unlike {@code Files.createTempFile} the file gets the usual permissions
     * @throws IOException if the folder cannot be created
     */
    public static Path tempNear(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        return dir.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    /**
     * Renames {@code tmp} over {@code target}, atomically where the file system allows.
     *
     * @param tmp    the finished temporary file
     * @param target the target
     * @throws IOException if the rename fails
     */
    public static void commit(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
