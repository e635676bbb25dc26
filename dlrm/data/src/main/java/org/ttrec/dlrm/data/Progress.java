package org.ttrec.dlrm.data;

/**
 * Progress of one long task (preprocessing, writing synthetic data): bytes done out of a known
 * total, and rows done. The data layer only reports; whoever runs it decides how to show it (the
 * CLI draws a progress bar on stderr, a library caller passes {@link Factory#NONE}), so this module
 * needs no terminal library.
 */
public interface Progress extends AutoCloseable {
    /**
     * @param bytes bytes done so far (of the total given to {@link Factory#start})
     * @param rows  rows done so far
     */
    void update(long bytes, long rows);

    /** Ends the task's report. */
    @Override
    void close();

    /** Starts a report per task. */
    @FunctionalInterface
    interface Factory {
        /** Reports nothing. */
        Factory NONE = (task, totalBytes) -> new Progress() {
            @Override
            public void update(long bytes, long rows) {}

            @Override
            public void close() {}
        };

        /**
         * @param task       a short name of the task, e.g. {@code "parse+map"}
         * @param totalBytes the work's size in bytes (an estimate where it is not known exactly)
         * @return the task's report, closed by the caller when the task ends
         */
        Progress start(String task, long totalBytes);
    }
}
