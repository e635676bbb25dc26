package org.ttrec.dlrm.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.config.TtConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.io.AtomicFiles;
import org.ttrec.dlrm.io.FloatIO;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.CheckpointStore;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.Provenance;
import org.ttrec.dlrm.train.RunFolder;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingDivergedException;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.ComputeBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code ttrec sweep}: trains one configuration several times, uncompressed and at each TT rank
 * and hot-row cache fraction, for each seed, and shows test AUC against model size, so a TT rank
 * can be chosen for a memory budget with evidence. Each run is an ordinary {@code ttrec train}
 * run folder under {@code OUT/runs/}; {@code OUT/sweep.csv} holds one row per run and
 * {@code OUT/sweep.png} the picture.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        // one paragraph per element: picocli wraps them, and lists the first as the command's summary
        description = {"Train one configuration uncompressed and at each TT rank x cache fraction, for each seed, "
                + "and compare test AUC against model size.",
            "Prints a table; writes sweep.csv (one row per run), sweep.png (AUC against size in MB, log scale, the "
                + "uncompressed model as a horizontal line) and each run's run folder under runs/ into --out.",
            "Model and data options work as in 'ttrec train'."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every run trained and evaluated",
            "2:bad option, configuration or data (nothing is trained)",
            "3:some run diverged; the others were trained, and all are in sweep.csv (its metrics NaN)",
            "4:some run's test metrics are undefined (NaN), e.g. a test split with one class only"})
final class SweepCommand implements Callable<Integer> {
    /** What an existing --out may hold when --overwrite replaces an earlier sweep in it. */
    private static final Set<String> SWEEP_FILES = Set.of(SweepReport.CSV, SweepReport.PNG, "runs");

    @Option(names = "--preset", description = "Starting configuration: ${COMPLETION-CANDIDATES}. Default: tiny.",
            completionCandidates = TrainCommand.PresetNames.class)
    String preset;
    @Option(names = "--data", description = "Data: 'synthetic' (built-in stand-in generator) or a data specification.")
    String data;
    @Option(names = "--config", description = "JSON file overriding preset fields (model, train, data sections).")
    Path configFile;
    @Option(names = "--set", description = "Set any config field: path=value, e.g. --set data.trainSamples=200000 "
            + "(applied after the other flags; the sweep then sets the TT rank, cache fraction and seed of each run).")
    List<String> sets;
    @Option(names = "--ranks", paramLabel = "LIST", defaultValue = "4,8,16,32,64",
            description = "TT ranks, comma-separated, each >= 1. Default: ${DEFAULT-VALUE}.")
    String ranks;
    @Option(names = "--cache-fractions", paramLabel = "LIST", defaultValue = "0",
            description = "Hot-row cache fractions of each TT table, comma-separated, each in [0, 1]. Default: ${DEFAULT-VALUE}.")
    String cacheFractions;
    @Option(names = "--seeds", paramLabel = "LIST", description = "Seeds, comma-separated; several give each point the mean AUC and a "
            + "min-max bar. Default: --seed, else the configuration's (1).")
    String seeds;
    @Option(names = "--seed", description = "One seed (the same as --seeds N).")
    Long seed;
    @Option(names = "--threads", description = "Kernel threads (0 = all cores).")
    Integer threads;
    @Option(names = "--max-steps", description = "Stop each run after this many steps (-1: no limit).")
    Long maxSteps;
    @Option(names = "--tt-threshold", description = "Tables with more rows are TT compressed in the TT runs.")
    Long ttThreshold;
    @Option(names = "--tt-cores", description = "Cores d of suggested TT shapes.")
    Integer ttCores;
    @Option(names = "--no-progress", description = "No progress bar in the runs.")
    boolean noProgress;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Sweep folder: sweep.csv, sweep.png and runs/. Must be new "
            + "or empty, unless --overwrite.")
    Path out;
    @Option(names = "--overwrite", description = "Replace an earlier sweep in --out (its sweep.csv, sweep.png and the "
            + "run folders of the runs this sweep makes).")
    boolean overwrite;

    /** Names of the runs that diverged. */
    private final Set<String> diverged = new HashSet<>();
    /** The notes printed about TT tables larger than their dense form, each once per sweep. */
    private final Set<String> noted = new HashSet<>();

    /**
     * One planned training run.
     *
     * @param name          its run folder's name under runs/, e.g. uncompressed-s1, r16-c0.01-s1
     * @param tt            whether it compresses the configuration's TT tables
     * @param rank          TT rank (0: uncompressed)
     * @param cacheFraction hot-row cache fraction
     * @param seed          seed of initialisation and data order
     * @param config        its configuration
     */
    private record Run(String name, boolean tt, int rank, double cacheFraction, long seed, RunConfig config) {}

    @Override
    public Integer call() throws IOException {
        PrintStream err = System.err;
        // 1. everything that costs nothing: the lists, the configuration, the folder
        List<Integer> rankList = parseList("--ranks", ranks, Integer::parseInt, "an integer");
        for (int r : rankList) {
            if (r < 1) {
                throw new IllegalArgumentException("--ranks: every rank must be >= 1, got " + r);
            }
        }
        // + 0.0 makes -0 the 0 it equals, so "0,-0" is a duplicate and not two runs named c0
        List<Double> fractionList = parseList("--cache-fractions", cacheFractions, v -> Double.parseDouble(v) + 0.0, "a number");
        for (double f : fractionList) {
            if (!(f >= 0 && f <= 1)) {
                throw new IllegalArgumentException("--cache-fractions: every fraction must lie in [0, 1], got " + f);
            }
        }
        if (seeds != null && seed != null) {
            throw new IllegalArgumentException("--seed and --seeds exclude each other: give every seed in --seeds");
        }
        RunConfig base = baseConfig();
        base.validate();
        checkRanksAreTheSweeps(base.model.tt);
        List<Long> seedList = seeds != null ? parseList("--seeds", seeds, Long::parseLong, "an integer")
                : List.of(seed != null ? seed : base.train.seed);
        List<Run> runs = runs(base, rankList, fractionList, seedList);
        checkFolder(runs);
        // 2. every run planned (memory, TT tables) before any trains; the data's table sizes, once read, again
        try (ComputeBackend be = TrainingSetup.backend(base)) {
            if (base.data.source.equals("synthetic")) {
                // the built-in generator takes its table sizes from the config: plan before generating
                plan(runs, be);
            }
            List<SweepReport.Row> rows = new ArrayList<>();
            int rc = 0;
            for (long s : seedList) {
                List<Run> ofSeed = runs.stream().filter(r -> r.seed() == s).toList();
                try (Dataset ds = TrainingSetup.openDataset(ofSeed.getFirst().config())) {
                    TrainingSetup.checkSplits(ds, Split.TRAIN, Split.VALIDATION, Split.TEST);
                    ofSeed.forEach(r -> TrainingSetup.adopt(r.config(), ds));
                    Map<Run, List<EmbeddingTableSpec>> plans = plan(ofSeed, be);
                    err.println("[sweep] data: " + ds.describe());
                    for (Run r : ofSeed) {
                        err.printf(Locale.ROOT, "[sweep] %d/%d %s ...%n", rows.size() + 1, runs.size(), r.name());
                        long t0 = System.nanoTime();
                        SweepReport.Row row = train(be, ds, r, plans.get(r), err);
                        rows.add(row);
                        // written after every run, so a sweep cut short keeps the runs it finished
                        SweepReport.writeCsv(out, rows);
                        err.printf(Locale.ROOT, "[sweep] %d/%d %s: %s, %s (x%.2f), %.0f s%n", rows.size(), runs.size(),
                                r.name(), diverged.contains(r.name()) ? "diverged"
                                        : String.format(Locale.ROOT, "test AUC %.4f, %,.0f samples/s", row.auc(), row.samplesPerSec()),
                                FloatIO.bytes(row.bytes()), row.compression(), (System.nanoTime() - t0) * 1e-9);
                        if (Double.isNaN(row.auc()) || Double.isNaN(row.logLoss()) || Double.isNaN(row.accuracy())) {
                            rc = Math.max(rc, diverged.contains(r.name()) ? 3 : 4);
                        }
                    }
                }
            }
            String title = "ttrec sweep: " + base.preset + ", " + seedList.size() + (seedList.size() == 1 ? " seed" : " seeds");
            boolean chart = SweepReport.writeChart(out, rows, title);
            System.out.print(SweepReport.table(rows, seedList.size()));
            System.out.println("csv: " + out.resolve(SweepReport.CSV).toAbsolutePath());
            System.out.println(chart ? "png: " + out.resolve(SweepReport.PNG).toAbsolutePath()
                    : "png: none (no run has a test AUC)");
            if (rc == 4) {
                err.println("ttrec sweep: some test metrics are undefined (NaN): an AUC needs both labels in the test "
                        + "split; check the labels of the data");
            }
            return rc;
        }
    }

    /**
     * The configuration every run starts from: preset, JSON file, then flags, by the same code
     * as {@code ttrec train}'s, so the options mean the same in both.
     */
    private RunConfig baseConfig() throws IOException {
        TrainCommand t = new TrainCommand();
        t.preset = preset;
        t.configFile = configFile;
        t.data = data;
        t.threads = threads;
        t.maxSteps = maxSteps;
        t.ttThreshold = ttThreshold;
        t.ttCores = ttCores;
        t.noProgress = noProgress;
        t.sets = sets;
        return t.buildConfig();
    }

    /** A rank of perTable's would override the swept one, so every point of a series would be the same model. */
    private static void checkRanksAreTheSweeps(TtConfig tt) {
        for (Map.Entry<String, TtConfig.TableShape> e : tt.perTable.entrySet()) {
            if (e.getValue().ranks != null || e.getValue().rank > 0) {
                throw new IllegalArgumentException("model.tt.perTable gives table " + e.getKey() + " its own TT rank, "
                        + "which --ranks would not change; remove its rank/ranks (its p and q factors may stay)");
            }
        }
    }

    /** @return the runs: for each seed the uncompressed model, then each rank x cache fraction */
    private static List<Run> runs(RunConfig base, List<Integer> ranks, List<Double> fractions, List<Long> seeds) {
        List<Run> runs = new ArrayList<>();
        for (long s : seeds) {
            RunConfig u = base.copy();
            u.train.seed = s;
            u.model.tt.threshold = -1; // every table dense
            u.model.tt.tables = null;
            u.model.tt.memoryBudgetBytes = 0;
            u.model.tt.cacheFraction = 0;
            runs.add(new Run("uncompressed-s" + s, false, 0, 0, s, u));
            for (int r : ranks) {
                for (double f : fractions) {
                    RunConfig c = base.copy();
                    c.train.seed = s;
                    c.model.tt.rank = r;
                    c.model.tt.cacheFraction = f;
                    c.model.tt.memoryBudgetBytes = 0; // a budget would choose the rank the sweep sets
                    runs.add(new Run("r" + r + "-c" + SweepReport.fraction(f) + "-s" + s, true, r, f, s, c));
                }
            }
        }
        return runs;
    }

    /**
     * Refuses a non-empty --out unless --overwrite; with it, --out may hold only an earlier
     * sweep's files, and each run folder in it only a run's files. Run folders of the earlier
     * sweep that this one does not make are kept (they may be all that is left of a long run),
     * with a note, since sweep.csv will not list them.
     */
    private void checkFolder(List<Run> runs) throws IOException {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a file, not a folder");
        }
        List<String> present = RunFolder.contents(out);
        if (present.isEmpty()) {
            return;
        }
        if (!overwrite) {
            throw new IllegalArgumentException("--out " + out + " is not empty (" + String.join(", ", present)
                    + "): pass --overwrite to replace the sweep in it, or choose another --out");
        }
        List<String> foreign = new ArrayList<>(present);
        foreign.removeAll(SWEEP_FILES);
        if (!foreign.isEmpty()) {
            throw new IllegalArgumentException("--out " + out + " holds files that are not a sweep's ("
                    + String.join(", ", foreign) + "); --overwrite replaces only a sweep's files, so choose another --out");
        }
        Set<String> ours = new HashSet<>(runs.stream().map(Run::name).toList());
        for (String name : RunFolder.contents(out.resolve("runs"))) {
            RunFolder.check(out.resolve("runs").resolve(name), true);
            if (!ours.contains(name)) {
                System.err.println("[sweep] note: " + out.resolve("runs").resolve(name) + " is an earlier sweep's run "
                        + "that this one does not repeat; it is kept, and sweep.csv will not list it");
            }
        }
    }

    /**
     * Plans every run's tables against the backend's memory and checks that the TT runs compress
     * something. A TT table larger than its dense form is trained anyway, with a note: where
     * compression stops paying is part of what a sweep shows.
     */
    private Map<Run, List<EmbeddingTableSpec>> plan(List<Run> runs, ComputeBackend be) {
        Map<Run, List<EmbeddingTableSpec>> plans = new LinkedHashMap<>();
        for (Run r : runs) {
            List<EmbeddingTableSpec> specs;
            try {
                specs = TrainingSetup.plan(r.config(), be.memoryAvailable());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(r.name() + ": " + e.getMessage(), e);
            }
            if (r.tt() && specs.stream().noneMatch(s -> s.kind() == EmbeddingTableSpec.Kind.TT)) {
                TtConfig tt = r.config().model.tt;
                int largest = Arrays.stream(r.config().model.effectiveRows()).max().orElse(0);
                throw new IllegalArgumentException("no table is TT compressed, so the TT runs would train the "
                        + "uncompressed model: " + (tt.tables != null ? "model.tt.tables is empty"
                        : "model.tt.threshold is " + tt.threshold + " and the largest table has " + largest + " rows")
                        + "; lower --tt-threshold (or list the tables in model.tt.tables)");
            }
            for (EmbeddingTableSpec s : specs) {
                String key = r.rank() + " " + s.name();
                if (s.kind() == EmbeddingTableSpec.Kind.TT && s.parameterCount() >= s.uncompressedParameterCount()
                        && noted.add(key)) {
                    System.err.printf(Locale.ROOT, "[sweep] note: at rank %d, %s holds %,d parameters as TT, more than "
                                    + "the %,d of its dense form; trained anyway%n", r.rank(), s.name(), s.parameterCount(),
                            s.uncompressedParameterCount());
                }
            }
            plans.put(r, specs);
        }
        return plans;
    }

    /**
     * Trains one run into its own run folder, as {@code ttrec train} would, and reads the figures
     * its summary prints.
     *
     * @return its row; a diverged run's has NaN metrics and samples/s (and is added to {@link #diverged})
     */
    private SweepReport.Row train(ComputeBackend be, Dataset ds, Run r, List<EmbeddingTableSpec> specs, PrintStream err)
            throws IOException {
        RunConfig c = r.config();
        Path dir = out.resolve("runs").resolve(r.name());
        try (RunFolder run = new RunFolder(dir, overwrite ? RunFolder.Mode.OVERWRITE : RunFolder.Mode.NEW);
             DlrmModel model = TrainingSetup.build(be, c, specs)) {
            DenseOptimizer opt = Trainer.optimizerFor(c, model);
            ObjectNode prov = Provenance.of(Main.version(), be, c.train.seed);
            run.writeConfig(c, prov, model.tables().stream().map(EmbeddingBagLayer::describe).toList());
            run.writeDictionaries(ds);
            TrainCommand.Progress progress = new TrainCommand.Progress(c, Trainer.plannedSteps(c, ds), 0, run, err);
            Trainer trainer = new Trainer(c, model, opt, specs, ds, null, prov, progress);
            // the newest checkpoint and the best: enough to export the model a sweep picks
            trainer.setCheckpointStore(new CheckpointStore(dir, 1));
            Trainer.Summary s = null;
            try {
                s = trainer.run();
            } catch (TrainingDivergedException e) {
                diverged.add(r.name()); // the sweep goes on: the other points are still worth having
                err.println("[sweep] " + r.name() + ": " + e.getMessage());
            } finally {
                progress.close();
            }
            run.writePlots();
            BinaryMetrics.Result t = s == null ? null : s.test();
            double nan = Double.NaN;
            return new SweepReport.Row(r.name(), r.tt(), r.rank(), r.cacheFraction(), r.seed(), model.parameterCount(),
                    model.uncompressedParameterCount(), t == null ? nan : t.auc(), t == null ? nan : t.logLoss(),
                    t == null ? nan : t.accuracy(), s == null ? nan : s.samplesPerSec());
        }
    }

    /**
     * Parses a comma-separated list: no empty list, no empty item, no value twice.
     *
     * @param option the option, for messages
     * @param text   its value
     * @param parse  parses one item
     * @param what   what an item is, for messages: "an integer"
     * @return the values in order
     */
    static <T> List<T> parseList(String option, String text, Function<String, T> parse, String what) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(option + ": the list is empty; give one or more values, comma-separated");
        }
        List<T> values = new ArrayList<>();
        for (String item : text.split(",", -1)) {
            if (item.isBlank()) {
                throw new IllegalArgumentException(option + " '" + text + "': an empty item; give values, comma-separated");
            }
            T v;
            try {
                v = parse.apply(item.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " '" + text + "': '" + item.trim() + "' is not " + what);
            }
            // numerically equal values (0 and 0.0) make the same run: compare values, not text
            if (values.contains(v)) {
                throw new IllegalArgumentException(option + ": " + item.trim() + " is listed twice in '" + text + "'");
            }
            values.add(v);
        }
        return values;
    }
}
