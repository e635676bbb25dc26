package org.ttrec.dlrm.bench;

import java.util.Arrays;
import java.util.List;

/**
 * One (workload, backend, threads) cell of a bench run: its timed windows, or why it has none.
 *
 * @param workload    the workload
 * @param backend     backend name as selected
 * @param threads     kernel threads asked for
 * @param description the backend's own one-line description (vector width, threads, device), or "" when none was made
 * @param status      whether it was measured, skipped or failed
 * @param reason      why it was skipped or how it failed; "" when measured
 * @param warmup      seconds the warm-up took (0 unless measured)
 * @param windows     the timed windows (empty unless measured)
 */
public record Measurement(Workload workload, String backend, int threads, String description, Status status,
                          String reason, double warmup, List<Window> windows) {

    /** What became of a cell. */
    public enum Status {
        /** Timed. */
        OK,
        /** Not run, for the reason given (a choice, not an error). */
        SKIPPED,
        /** Building or running it threw; the reason holds the error. */
        FAILED
    }

    /**
     * One timed window: {@code ops} ops queued back to back, then the backend's sync.
     *
     * @param ops     ops in the window
     * @param seconds wall time from the first op's start to the sync's return
     * @param rate    ops x work per op / seconds, in the workload's unit
     */
    public record Window(long ops, double seconds, double rate) {}

    /** Checks the fields. */
    public Measurement {
        windows = List.copyOf(windows);
        if ((status == Status.OK) == windows.isEmpty()) {
            throw new IllegalArgumentException("a measured cell has windows, others none");
        }
    }

    /**
     * @param workload the workload
     * @param backend  backend name
     * @param threads  threads asked for
     * @param status   SKIPPED or FAILED
     * @param reason   why
     * @return a cell without windows
     */
    public static Measurement notRun(Workload workload, String backend, int threads, Status status, String reason) {
        return new Measurement(workload, backend, threads, "", status, reason, 0, List.of());
    }

    /** @return whether the cell was timed */
    public boolean ok() {
        return status == Status.OK;
    }

    /** @return the median window rate (mean of the middle two for an even count); NaN when not measured */
    public double median() {
        return median(rates());
    }

    /** @return the slowest window's rate; NaN when not measured */
    public double min() {
        return ok() ? Arrays.stream(rates()).min().orElseThrow() : Double.NaN;
    }

    /** @return the fastest window's rate; NaN when not measured */
    public double max() {
        return ok() ? Arrays.stream(rates()).max().orElseThrow() : Double.NaN;
    }

    private double[] rates() {
        return windows.stream().mapToDouble(Window::rate).toArray();
    }

    /**
     * @param values values (not changed)
     * @return their median; NaN for none
     */
    static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] v = values.clone();
        Arrays.sort(v);
        int h = v.length / 2;
        return v.length % 2 == 1 ? v[h] : (v[h - 1] + v[h]) / 2;
    }
}
