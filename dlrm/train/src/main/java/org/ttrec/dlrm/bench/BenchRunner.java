package org.ttrec.dlrm.bench;

import org.ttrec.engine.BackendProvider;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Runs {@code ttrec bench}: every workload on every (backend, threads) column, each built once,
 * warmed up, then timed in several windows.
 *
 * <p>Timing. The warm-up runs ops one at a time, each followed by {@link ComputeBackend#sync()},
 * for at least {@code --warmup} seconds and until the JIT is quiet and the op stops getting faster (see {@code warmUp}),
 * which gives the JIT (or a device's kernel compiler) its turn and an estimate of one op's time.
 * Each window then queues the number of ops
 * that estimate fits into the window, back to back, and stops the clock only after {@code sync()}
 * returns: a device backend, whose calls return before the work is done, is timed for the work
 * itself, and the queue never grows past one window's ops.
 */
public final class BenchRunner {
    private BenchRunner() {}

    /**
     * One column of the results.
     *
     * @param backend backend name
     * @param threads kernel threads asked for
     */
    public record Column(String backend, int threads) {
        /** @return e.g. "cpu x2" */
        public String label() {
            return backend + " x" + threads;
        }
    }

    /**
     * What to run.
     *
     * @param workloads   rows, in order
     * @param backends    backend names, in order
     * @param threads     thread counts, in order (columns are backends x threads, backend-major)
     * @param seconds     measured seconds per cell
     * @param windows     windows the measured time is split into
     * @param warmup      least warm-up seconds per cell (more while the op keeps getting faster, up to 4x)
     * @param includeSlow run the scalar reference on the workloads where it takes seconds per op
     */
    public record Settings(List<Workload> workloads, List<String> backends, List<Integer> threads, double seconds,
                           int windows, double warmup, boolean includeSlow) {
        /** Checks the values. */
        public Settings {
            workloads = List.copyOf(workloads);
            backends = List.copyOf(backends);
            threads = List.copyOf(threads);
            if (workloads.isEmpty() || backends.isEmpty() || threads.isEmpty()) {
                throw new IllegalArgumentException("bench needs at least one workload, backend and thread count");
            }
            if (!(seconds > 0) || seconds > 3600) {
                throw new IllegalArgumentException("--seconds must be in (0, 3600], got " + seconds);
            }
            if (!(warmup >= 0) || warmup > 3600) {
                throw new IllegalArgumentException("--warmup must be in [0, 3600], got " + warmup);
            }
            if (windows < 1 || windows > 1000) {
                throw new IllegalArgumentException("--windows must be in [1, 1000], got " + windows);
            }
        }

        /** @return the columns: each backend at each thread count */
        public List<Column> columns() {
            List<Column> c = new ArrayList<>();
            for (String b : backends) {
                for (int t : threads) {
                    c.add(new Column(b, t));
                }
            }
            return c;
        }
    }

    /**
     * Parses {@code --threads}: positive counts separated by commas.
     *
     * @param spec e.g. "1,2,4"
     * @return the counts, in order, without repeats
     * @throws IllegalArgumentException naming the bad entry
     */
    public static List<Integer> parseThreads(String spec) {
        Set<Integer> out = new LinkedHashSet<>();
        for (String raw : spec.split(",", -1)) {
            String s = raw.trim();
            int t;
            try {
                t = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--threads: '" + s + "' is not a thread count; give counts like 1,2,4");
            }
            if (t < 1 || t > 4096) {
                throw new IllegalArgumentException("--threads: each count must be in [1, 4096], got " + t);
            }
            out.add(t);
        }
        return new ArrayList<>(out);
    }

    /**
     * Parses {@code --backends}: names separated by commas, or "all" for every backend that can run here.
     *
     * @param spec e.g. "cpu,scalar"
     * @return the names, in order, without repeats
     * @throws IllegalArgumentException for an unknown name, or a named backend that cannot run here (with why)
     */
    public static List<String> parseBackends(String spec) {
        List<BackendProvider> providers = Backends.providers();
        Set<String> out = new LinkedHashSet<>();
        for (String raw : spec.split(",", -1)) {
            String s = raw.trim().toLowerCase(Locale.ROOT);
            if (s.equals("all")) {
                out.addAll(Backends.availableNames());
                continue;
            }
            BackendProvider p = providers.stream().filter(x -> x.name().equals(s)).findFirst().orElse(null);
            if (p == null) {
                throw new IllegalArgumentException("--backends: unknown backend '" + raw.trim() + "'; known: "
                        + providers.stream().map(BackendProvider::name).collect(Collectors.joining(", ")) + ", all");
            }
            String why = p.unavailableReason();
            if (why != null) {
                throw new IllegalArgumentException("--backends: backend '" + s + "' cannot run here: " + why);
            }
            out.add(s);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--backends: no backend can run here");
        }
        return new ArrayList<>(out);
    }

    /**
     * Runs every cell.
     *
     * @param s        what to run
     * @param progress receives one line as each cell starts and one as it ends
     * @return one measurement per (workload, column), workload-major, columns in {@link Settings#columns()} order
     */
    public static List<Measurement> run(Settings s, Consumer<String> progress) {
        return run(s, progress, Backends::create);
    }

    /**
     * {@link #run(Settings, Consumer)} with the backends made by {@code backends} (tests stand a
     * device in with a backend whose work finishes only in {@code sync()}).
     */
    static List<Measurement> run(Settings s, Consumer<String> progress, BiFunction<String, Integer, ComputeBackend> backends) {
        List<Column> cols = s.columns();
        int total = s.workloads().size() * cols.size(), done = 0;
        List<Measurement> out = new ArrayList<>();
        for (Workload w : s.workloads()) {
            for (Column c : cols) {
                String tag = String.format(Locale.ROOT, "[%d/%d] %s on %s", ++done, total, w.id(), c.label());
                progress.accept(tag + " ...");
                Measurement m = cell(w, c, s, backends);
                progress.accept(tag + ": " + switch (m.status()) {
                    case OK -> BenchReport.si(m.median()) + " " + w.unit();
                    case SKIPPED -> "skipped, " + m.reason();
                    case FAILED -> "FAILED, " + m.reason();
                });
                out.add(m);
            }
        }
        return out;
    }

    private static Measurement cell(Workload w, Column c, Settings s, BiFunction<String, Integer, ComputeBackend> backends) {
        if (c.backend().equals("scalar") && w.slowOnScalar() && !s.includeSlow()) {
            return Measurement.notRun(w, c.backend(), c.threads(), Measurement.Status.SKIPPED,
                    "the scalar reference takes seconds per op here (--include-slow runs it)");
        }
        // the last cell's garbage should neither count against this one's memory nor be collected in its windows
        System.gc();
        ComputeBackend be;
        try {
            be = backends.apply(c.backend(), c.threads());
        } catch (RuntimeException e) {
            return Measurement.notRun(w, c.backend(), c.threads(), Measurement.Status.FAILED, "backend: " + e.getMessage());
        }
        try (be) {
            if (be.threads() < c.threads()) {
                // e.g. the scalar reference: more threads would only repeat the 1-thread column
                return Measurement.notRun(w, c.backend(), c.threads(), Measurement.Status.SKIPPED,
                        c.backend() + " runs " + be.threads() + (be.threads() == 1 ? " thread" : " threads"));
            }
            if (w.bytesNeeded() > be.memoryAvailable()) {
                return Measurement.notRun(w, c.backend(), c.threads(), Measurement.Status.SKIPPED, String.format(Locale.ROOT,
                        "needs about %.1f GB, the backend has %.1f GB free (cpu and scalar: raise TTREC_HEAP)",
                        w.bytesNeeded() / 1e9, be.memoryAvailable() / 1e9));
            }
            try (Workload.Op op = w.build(be)) {
                long t0 = System.nanoTime();
                double perOp = warmUp(op, be, s.warmup());
                double warmupSeconds = (System.nanoTime() - t0) / 1e9;
                return new Measurement(w, c.backend(), c.threads(), be.description(), Measurement.Status.OK, "",
                        warmupSeconds, time(op, be, w.workPerOp(), perOp, s));
            }
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            // one cell failing (a device kernel refused, too little memory) must not lose the others
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
            return Measurement.notRun(w, c.backend(), c.threads(), Measurement.Status.FAILED, msg);
        }
    }

    private static List<Measurement.Window> time(Workload.Op op, ComputeBackend be, double work, double perOp, Settings s) {
        double windowSeconds = s.seconds() / s.windows();
        int windows = s.windows();
        long perWindow = Math.max(1, Math.round(windowSeconds / perOp));
        List<Measurement.Window> out = new ArrayList<>();
        for (int i = 0; i < windows; i++) {
            long start = System.nanoTime();
            for (long k = 0; k < perWindow; k++) {
                op.run();
            }
            be.sync();
            double secs = (System.nanoTime() - start) / 1e9;
            out.add(new Measurement.Window(perWindow, secs, perWindow * work / secs));
        }
        return out;
    }

    /**
     * Runs ops one at a time, each synced, in chunks of a quarter of {@code warmup} seconds, until
     * {@code warmup} seconds have passed and a chunk was settled: the JIT spent under 2% of it
     * compiling and it was no more than 5% faster than the chunk before; or until four times
     * {@code warmup} have passed. A fixed warm-up was not enough, and neither was the rate alone: on
     * a busy 2-core machine C2 took over 2 s to compile the TT kernels, while the op ran at a steady
     * C1 speed 15x below the compiled one (tt2k on cpu x1: 79k lookups/s after 2 s, 1.45M after 8 s).
     *
     * @return seconds per op in the last chunk
     */
    /**
     * @param previousPerOp seconds per op in the chunk before (NaN for the first chunk)
     * @param perOp         seconds per op in this chunk
     * @param jitMillis     milliseconds the JIT spent compiling during this chunk
     * @param chunkMillis   the chunk's length in milliseconds
     * @return whether this chunk looks like the steady state: the JIT under 2% busy, and the op
     *         no more than 5% faster than in the chunk before
     */
    static boolean settled(double previousPerOp, double perOp, double jitMillis, double chunkMillis) {
        return !Double.isNaN(previousPerOp) && perOp >= previousPerOp / 1.05 && jitMillis < 0.02 * chunkMillis;
    }

    /**
     * @param elapsed seconds of warm-up so far
     * @param warmup  {@code --warmup}
     * @param settled whether the last chunk was {@link #settled}
     * @return whether the warm-up is over: at least {@code warmup} and settled, or four times {@code warmup}
     */
    static boolean warmedUp(double elapsed, double warmup, boolean settled) {
        return elapsed >= 4 * warmup || (elapsed >= warmup && settled);
    }

    private static double warmUp(Workload.Op op, ComputeBackend be, double warmup) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        long chunkNanos = Math.max(1, (long) (warmup / 4 * 1e9));
        double previous = Double.NaN;
        double perOp;
        while (true) {
            long jit0 = jitTimed ? jit.getTotalCompilationTime() : 0;
            long t0 = System.nanoTime();
            long ops = 0;
            do {
                op.run();
                be.sync();
                ops++;
            } while (System.nanoTime() - t0 < chunkNanos);
            long now = System.nanoTime();
            perOp = (now - t0) / 1e9 / ops;
            double jitMillis = jitTimed ? jit.getTotalCompilationTime() - jit0 : 0;
            if (warmedUp((now - start) / 1e9, warmup, settled(previous, perOp, jitMillis, (now - t0) / 1e6))) {
                return perOp;
            }
            previous = perOp;
        }
    }
}
