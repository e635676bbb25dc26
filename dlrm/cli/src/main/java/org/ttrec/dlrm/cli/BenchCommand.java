package org.ttrec.dlrm.cli;

import org.ttrec.dlrm.bench.BenchReport;
import org.ttrec.dlrm.bench.BenchRunner;
import org.ttrec.dlrm.bench.Measurement;
import org.ttrec.dlrm.bench.Workload;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code ttrec bench}: the same workloads (SGEMM, batched GEMM, TT and uncompressed EmbeddingBag,
 * a Kaggle-shaped training step) on every chosen backend and thread count; prints a table and writes
 * bench.json, bench.txt and bench.png into a folder. For published numbers use the JMH benchmarks
 * (module jmh), which fork JVMs; this is the quick look a user can run in a couple of minutes.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure the same workloads on each backend and thread count: a table on",
            "the terminal; bench.json (machine, every window), bench.txt and bench.png",
            "(bars relative to the first column) in --out. Each cell is built once,",
            "warmed up, then timed in windows that end with the backend's sync; the table",
            "shows the median [min-max] rate. The defaults take about two minutes on 2 cores."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every cell measured or skipped on purpose (the table says why)",
            "1:some cell failed (the table and bench.json say how); the rest were measured and written",
            "2:bad option, e.g. an unknown backend or workload, or a bad thread list"})
final class BenchCommand implements Callable<Integer> {
    /** Held so the level set in {@link #call()} is not lost when the logger is garbage-collected. */
    private static final Logger ENGINE_LOG = Logger.getLogger("org.ttrec.engine");

    @Option(names = "--backends", defaultValue = "all",
            description = "Backends, comma-separated, or 'all' (every one that can run here, best first). Default: ${DEFAULT-VALUE}.")
    String backends;
    @Option(names = "--threads",
            description = "Thread counts, comma-separated, e.g. 1,2,4,8,16. Default: 1 and all cores.")
    String threads;
    @Option(names = "--workloads", defaultValue = "all",
            description = "Workloads, comma-separated, or 'all': sgemm, bgemm (= bgemm-2x32x64,bgemm-4x32x4), "
                    + "tt2k, tt64k, bag, train128, train2048. Default: ${DEFAULT-VALUE}.")
    String workloads;
    @Option(names = "--seconds", defaultValue = "2",
            description = "Measured seconds per cell, split into the windows. Default: ${DEFAULT-VALUE}.")
    double seconds;
    @Option(names = "--warmup", defaultValue = "2",
            description = "Least warm-up seconds per cell, untimed; it goes on while the JIT compiles or the op "
                    + "keeps getting faster, up to 4x this. Default: ${DEFAULT-VALUE}.")
    double warmup;
    @Option(names = "--windows", defaultValue = "5", description = "Timed windows per cell. Default: ${DEFAULT-VALUE}.")
    int windows;
    @Option(names = "--include-slow", description = "Also run the scalar reference on sgemm, tt64k and train2048 (seconds per op).")
    boolean includeSlow;
    @Option(names = "--out", description = "Output folder (default: bench/out/<timestamp>); bench.* files in it are replaced.")
    Path out;
    @Option(names = "--device",
            description = "TornadoVM device of the tornado backend: BACKEND:DEVICE as 'ttrec backends' lists them (default 0:0).")
    String device;

    @Override
    public Integer call() throws IOException {
        // checked before anything runs, so a typo costs nothing
        List<Workload> ws = Workload.parse(workloads);
        List<String> bs = BenchRunner.parseBackends(backends);
        List<Integer> ts = BenchRunner.parseThreads(threads != null ? threads : defaultThreads());
        if (device != null) {
            if (!bs.contains("tornado")) {
                throw new IllegalArgumentException("--device names a TornadoVM device and needs tornado among --backends (they are "
                        + String.join(",", bs) + ")");
            }
            DeviceOption.apply(device, "tornado");
        }
        BenchRunner.Settings settings = new BenchRunner.Settings(ws, bs, ts, seconds, windows, warmup, includeSlow);
        Path dir = out != null ? out : defaultFolder();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + dir + " is a file, not a folder");
        }
        // every cell makes a backend, and each would log its description: the table carries them instead
        Level before = ENGINE_LOG.getLevel();
        ENGINE_LOG.setLevel(Level.WARNING);
        List<Measurement> results;
        try {
            results = BenchRunner.run(settings, line -> System.err.println("bench " + line));
        } finally {
            ENGINE_LOG.setLevel(before);
        }
        System.out.print(BenchReport.table(settings.columns(), results));
        List<String> files = BenchReport.write(dir, Main.version(), settings, results);
        System.out.println("wrote " + String.join(", ", files) + " in " + dir);
        return results.stream().anyMatch(m -> m.status() == Measurement.Status.FAILED) ? 1 : 0;
    }

    /** @return "1,N" for N cores ("1" on one core) */
    static String defaultThreads() {
        int n = Runtime.getRuntime().availableProcessors();
        return n > 1 ? "1," + n : "1";
    }

    private static Path defaultFolder() {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path p = Path.of("bench", "out", stamp);
        for (int i = 2; Files.exists(p); i++) {
            p = Path.of("bench", "out", stamp + "-" + i); // two runs started in the same second get folders of their own
        }
        return p;
    }
}
