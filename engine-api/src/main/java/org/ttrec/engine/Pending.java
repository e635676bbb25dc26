package org.ttrec.engine;

/**
 * Work a backend has started and may still be running ({@link ComputeBackend#submitTables}).
 */
@FunctionalInterface
public interface Pending {
    /** Work that is already done. */
    Pending DONE = () -> { };

    /**
     * Waits until the work is done; rethrows its failure (an unchecked exception or error) on
     * the calling thread. Calling it again after it returned returns at once.
     */
    void await();
}
