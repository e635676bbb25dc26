package org.ttrec.dlrm.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a fuzz target may throw: the declared exceptions of a reader, with a message that names the
 * file. Anything else (a NullPointerException, an index out of bounds, an OutOfMemoryError, a
 * message without the file) is a finding, reported by throwing {@link Finding}.
 */
public final class Findings {
    private Findings() {}

    /** A fuzzing finding: an undeclared exception or a broken invariant. */
    public static final class Finding extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Finding(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * @param e    what a reader threw
     * @param name the file name its message must contain
     * @throws Finding if it is not a declared exception naming the file
     */
    public static void expectDeclared(Throwable e, String name) {
        if (e instanceof IOException || e instanceof UncheckedIOException) {
            String m = String.valueOf(e.getMessage());
            if (!m.contains(name)) {
                throw new Finding("message does not name the file " + name + ": " + m, e);
            }
            return;
        }
        throw new Finding("undeclared " + e.getClass().getName() + ": " + e.getMessage(), e);
    }

    /**
     * @param ok   an invariant
     * @param what what it says
     * @throws Finding if it does not hold
     */
    public static void check(boolean ok, String what) {
        if (!ok) {
            throw new Finding(what, null);
        }
    }

    /** A scratch folder of this JVM, for targets that read real files. */
    public static Path scratch(String what) {
        try {
            Path d = Path.of(System.getProperty("java.io.tmpdir"), "ttrec-fuzz-" + ProcessHandle.current().pid(), what);
            Files.createDirectories(d);
            d.toFile().getParentFile().deleteOnExit();
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
