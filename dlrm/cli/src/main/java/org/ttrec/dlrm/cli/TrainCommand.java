package org.ttrec.dlrm.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.CheckpointStore;
import org.ttrec.dlrm.io.FloatIO;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.Provenance;
import org.ttrec.dlrm.train.RunFolder;
import org.ttrec.dlrm.train.TrainState;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingDivergedException;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.ComputeBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ttrec train}: trains a DLRM. Configuration comes from a preset, then an optional JSON
 * file, then flags (dlrm's flag names are accepted as aliases). Writes a run folder with
 * config.json, metrics.jsonl, plots and a checkpoint, and ends with a summary of quality,
 * size and speed.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a DLRM (default: the tiny preset on built-in synthetic data, about a minute).",
            "Presets: tiny, kaggle, terabyte, mlperf. Any field can also be set from --config file.json.",
            "Everything is checked (options, backend, memory, compression, a checkpoint against the data) before",
            "a run folder is made. A run folder holds one run; checkpoints are kept per step (checkpoints/),",
            "with checkpoint.ttrec the newest and best.ttrec the best by validation AUC."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:trained, evaluated and saved",
            "2:bad option, configuration, data or file (nothing is written), or nothing to do",
            "3:training diverged (NaN loss, or a loss that exploded); the last good checkpoint is kept",
            "4:training finished but a metric is undefined (NaN), e.g. a split with one class only"})
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--preset", description = "Starting configuration: ${COMPLETION-CANDIDATES}. Default: tiny.",
            completionCandidates = PresetNames.class)
    String preset;
    @Option(names = "--config", description = "JSON file overriding preset fields (model, train, data sections).")
    Path configFile;
    @Option(names = "--data", description = "Data: 'synthetic' (built-in stand-in generator) or a data specification.")
    String data;
    @Option(names = "--backend", description = "Compute backend: auto, cpu, scalar, tornado (see 'ttrec backends').")
    String backend;
    @Option(names = "--device", description = DeviceOption.HELP)
    String device;
    @Option(names = "--threads", description = "Kernel threads (0 = all cores).")
    Integer threads;

    @Option(names = "--table-threads", description = {"Run the embedding tables on this many threads of their own, beside the",
            "MLP (0 = on the kernel threads, in turn). E.g. --threads 1 --table-threads 1 on 2 cores."})
    Integer tableThreads;
    @Option(names = "--seed", description = "Seed of initialisation and data order.")
    Long seed;
    @Option(names = {"--epochs", "--nepochs"}, description = "Passes over the training data.")
    Integer epochs;
    @Option(names = "--max-steps", description = "Stop after this many steps (-1: no limit).")
    Long maxSteps;
    @Option(names = {"--batch-size", "--mini-batch-size"}, description = "Training batch size.")
    Integer batchSize;
    @Option(names = {"--test-batch-size", "--test-mini-batch-size"}, description = "Evaluation batch size.")
    Integer testBatchSize;
    @Option(names = {"--eval-every", "--test-freq"}, description = "Validate every N steps (0: at the end only).")
    Long evalEvery;
    @Option(names = {"--log-every", "--print-freq"}, description = "Log the training loss every N steps.")
    Long logEvery;
    @Option(names = "--checkpoint-every", description = "Checkpoint every N steps (0: at each validation and the end).")
    Long checkpointEvery;
    @Option(names = "--target-auc", description = "Stop when the validation AUC reaches this.")
    Double targetAuc;
    @Option(names = "--out", description = "Run folder (default: runs/<timestamp>). Must be new or empty, unless --overwrite.")
    Path out;
    @Option(names = "--overwrite", description = "Let a new run replace the run in an existing --out folder.")
    boolean overwrite;
    @Option(names = "--resume", description = {"Continue from this checkpoint, or a run folder's newest (bit-identical on the",
        "same backend and threads), into a new run folder; without --max-steps/--epochs it runs to the original end."})
    Path resume;
    @Option(names = "--continue-in-place", description = "With --resume: write into the checkpoint's own run folder instead of a new one.")
    boolean continueInPlace;
    @Option(names = "--keep-checkpoints", description = "Keep the newest N step checkpoints, and the best by validation AUC (0 = all). Default 3.")
    Integer keepCheckpoints;
    @Option(names = "--allow-expansion", description = "Train TT tables even if they hold more parameters than uncompressed ones (compression below 1x).")
    boolean allowExpansion;
    @Option(names = "--optimizer", description = "sgd or adagrad.")
    String optimizer;
    @Option(names = {"--lr", "--learning-rate"}, description = "Base learning rate.")
    Double lr;
    @Option(names = "--lr-num-warmup-steps", description = "Linear warm-up steps.")
    Long warmup;
    @Option(names = "--lr-decay-start-step", description = "Step at which the polynomial decay starts.")
    Long decayStart;
    @Option(names = "--lr-num-decay-steps", description = "Length of the power-2 decay (0: none).")
    Long decaySteps;
    @Option(names = {"--dim", "--arch-sparse-feature-size"}, description = "Embedding dimension.")
    Integer dim;
    @Option(names = {"--bottom-mlp", "--arch-mlp-bot"}, description = "Bottom MLP, e.g. 13-512-256-64-16.")
    String bottomMlp;
    @Option(names = {"--top-mlp", "--arch-mlp-top"}, description = "Top MLP, e.g. 512-256-1.")
    String topMlp;
    @Option(names = {"--interaction", "--arch-interaction-op"}, description = "dot or cat.")
    String interaction;
    @Option(names = {"--self-interaction", "--arch-interaction-itself"}, arity = "0..1", description = "Dot: include each vector with itself.")
    Boolean selfInteraction;
    @Option(names = "--max-ind-range", description = "Cap every table at this many rows.")
    Long maxIndRange;
    @Option(names = "--tt-threshold", description = "Tables with more rows are TT compressed (-1: none). Default 100000.")
    Long ttThreshold;
    @Option(names = "--tt-tables", split = ",", description = "Explicit TT table indices (overrides --tt-threshold).")
    int[] ttTables;
    @Option(names = "--tt-rank", description = "Uniform TT rank.")
    Integer ttRank;
    @Option(names = "--tt-cores", description = "Cores d of suggested TT shapes.")
    Integer ttCores;
    @Option(names = "--memory-budget", description = "Pick the TT rank so the model fits this many bytes (e.g. 200MB).",
            converter = ByteSize.class)
    Long memoryBudget;
    @Option(names = "--tt-lr-scale", description = "Multiplier on the learning rate of TT cores, on top of the rate their optimiser's rule derives from each table's shape (default 1).")
    Double ttLrScale;
    @Option(names = "--tt-optimizer", description = "Update rule of the TT cores: adagrad (default; rate lr x 2.5 x the cores' initial std), rowwise-adagrad, or sgd (rate lr).")
    String ttOptimizer;
    @Option(names = "--tt-cache-fraction", description = "Hot-row cache rows as a fraction of each TT table.")
    Double cacheFraction;
    @Option(names = "--tt-cache-warmup", description = "Training steps counted before the hot-row cache is populated.")
    Long cacheWarmup;
    @Option(names = "--tt-cache-refresh", description = "Steps between hot-row cache refreshes (0 = never).")
    Long cacheRefresh;
    @Option(names = "--train-samples", description = "Synthetic data: training samples (validation and test get 1/12 of that each).")
    Long trainSamples;
    @Option(names = "--zipf", description = "Synthetic data: Zipf exponent of categorical values (0 = uniform).")
    Double zipf;
    @Option(names = "--set", description = "Set any config field: path=value, e.g. --set train.adagradEps=1e-8 "
            + "--set model.tt.perTable='{\"2\":{\"rank\":16}}' (applied after all other flags).")
    List<String> sets;
    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    private Checkpoint.Header resumedHeader;
    private Path resumeFile;

    /** Completion candidates of --preset. */
    static final class PresetNames extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        PresetNames() {
            super(Presets.names());
        }
    }

    /** Parses sizes such as 200MB, 1.5GB, 4096. */
    static final class ByteSize implements picocli.CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String s) {
            String t = s.trim().toUpperCase(Locale.ROOT);
            long mul = 1;
            for (String[] u : new String[][] {{"KB", "1000"}, {"MB", "1000000"}, {"GB", "1000000000"}, {"TB", "1000000000000"},
                {"K", "1000"}, {"M", "1000000"}, {"G", "1000000000"}, {"B", "1"}}) {
                if (t.endsWith(u[0])) {
                    mul = Long.parseLong(u[1]);
                    t = t.substring(0, t.length() - u[0].length()).trim();
                    break;
                }
            }
            return (long) (Double.parseDouble(t) * mul);
        }
    }

    /**
     * Builds the configuration: preset (or the checkpoint's), JSON file, then flags.
     *
     * @return the configuration
     * @throws IOException if the config file or checkpoint cannot be read
     */
    RunConfig buildConfig() throws IOException {
        RunConfig c;
        if (resume != null) {
            resumeFile = CheckpointStore.resolve(resume);
            resumedHeader = Checkpoint.readHeader(resumeFile);
            c = resumedHeader.config();
            // the interrupted run's step limit is not this run's: without --max-steps, run to its epochs' end
            c.train.maxSteps = -1;
        } else {
            c = Presets.get(preset == null ? "tiny" : preset);
        }
        if (configFile != null) {
            c.apply(configFile);
        }
        var m = c.model;
        var t = c.train;
        if (data != null) c.data.source = data;
        if (backend != null) t.backend = backend;
        if (threads != null) t.threads = threads;
        if (tableThreads != null) t.tableThreads = tableThreads;
        if (seed != null) t.seed = seed;
        if (epochs != null) t.epochs = epochs;
        if (maxSteps != null) t.maxSteps = maxSteps;
        if (batchSize != null) t.batchSize = batchSize;
        if (testBatchSize != null) t.testBatchSize = testBatchSize;
        if (evalEvery != null) t.evalEvery = evalEvery;
        if (logEvery != null) t.logEvery = logEvery;
        if (checkpointEvery != null) t.checkpointEvery = checkpointEvery;
        if (targetAuc != null) t.targetAuc = targetAuc;
        if (optimizer != null) t.optimizer = optimizer;
        if (lr != null) t.lr = lr;
        if (warmup != null) t.lrWarmupSteps = warmup;
        if (decayStart != null) t.lrDecayStartStep = decayStart;
        if (decaySteps != null) t.lrDecaySteps = decaySteps;
        if (noProgress) t.progress = false;
        if (dim != null) m.embeddingDim = dim;
        if (bottomMlp != null) m.bottomMlp = bottomMlp;
        if (topMlp != null) m.topMlp = topMlp;
        if (interaction != null) m.interaction = interaction;
        if (selfInteraction != null) m.selfInteraction = selfInteraction;
        if (maxIndRange != null) m.maxIndRange = maxIndRange;
        if (ttThreshold != null) m.tt.threshold = ttThreshold;
        if (ttTables != null) m.tt.tables = ttTables;
        if (ttRank != null) m.tt.rank = ttRank;
        if (ttCores != null) m.tt.cores = ttCores;
        if (memoryBudget != null) m.tt.memoryBudgetBytes = memoryBudget;
        if (cacheFraction != null) m.tt.cacheFraction = cacheFraction;
        if (ttLrScale != null) m.tt.lrScale = ttLrScale;
        if (ttOptimizer != null) m.tt.optimizer = ttOptimizer;
        if (cacheWarmup != null) m.tt.cacheWarmupSteps = cacheWarmup;
        if (cacheRefresh != null) m.tt.cacheRefreshSteps = cacheRefresh;
        if (trainSamples != null) c.data.trainSamples = trainSamples;
        if (zipf != null) c.data.zipf = zipf;
        if (sets != null) {
            for (String a : sets) {
                c.set(a);
            }
        }
        return c;
    }

    @Override
    public Integer call() throws IOException {
        PrintStream err = System.err;
        // 1. everything that needs no data: options, config ranges, the checkpoint, the folder, the backend
        if (continueInPlace && resume == null) {
            throw new IllegalArgumentException("--continue-in-place needs --resume");
        }
        if (continueInPlace && overwrite) {
            throw new IllegalArgumentException("--continue-in-place and --overwrite exclude each other");
        }
        int keep = keepCheckpoints == null ? 3 : keepCheckpoints;
        if (keep < 0) {
            throw new IllegalArgumentException("--keep-checkpoints must be >= 0 (0 = keep all), got " + keep);
        }
        RunConfig c = buildConfig();
        c.validate();
        DeviceOption.apply(device, c.train.backend);
        Checkpoint.Header resumed = resumedHeader;
        Path dir = runFolder();
        if (!continueInPlace) {
            RunFolder.check(dir, overwrite);
        } else {
            checkContinuable(dir);
        }
        try (ComputeBackend be = TrainingSetup.backend(c)) {
            if (resumed == null && c.data.source.equals("synthetic")) {
                // the built-in generator takes its table sizes from the config: plan before generating
                TrainingSetup.checkCompression(TrainingSetup.plan(c, be.memoryAvailable()), allowExpansion, err);
            }
            // 2. the data, then everything that depends on it, still before any folder or model
            try (Dataset ds = TrainingSetup.openDataset(c)) {
                TrainingSetup.checkSplits(ds, Split.TRAIN, Split.VALIDATION, Split.TEST);
                TrainingSetup.adopt(c, ds);
                List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, be.memoryAvailable());
                if (resumed != null) {
                    TrainingSetup.checkResumable(resumeFile, resumed, c, specs);
                }
                TrainingSetup.checkCompression(specs, allowExpansion, err);
                TrainState start = resumed != null ? resumed.state() : TrainState.start();
                long planned = Trainer.plannedSteps(c, ds);
                if (resumed != null && planned >= 0 && planned <= start.step()) {
                    throw new IllegalArgumentException(nothingToDo(c, ds, start, planned));
                }
                // 3. the work
                err.println("[ttrec] data: " + ds.describe());
                RunFolder.Mode mode = continueInPlace ? RunFolder.Mode.CONTINUE
                        : overwrite ? RunFolder.Mode.OVERWRITE : RunFolder.Mode.NEW;
                try (RunFolder run = new RunFolder(dir, mode, start.step());
                     DlrmModel model = TrainingSetup.build(be, c, specs)) {
                    err.print(indent(model.describe()));
                    DenseOptimizer opt = Trainer.optimizerFor(c, model);
                    ObjectNode prov = Provenance.of(Main.version(), be, c.train.seed);
                    List<String> tableLines = new ArrayList<>();
                    for (EmbeddingBagLayer l : model.tables()) {
                        tableLines.add(l.describe());
                    }
                    ObjectNode from = null;
                    if (resumed != null) {
                        Checkpoint.restore(resumeFile, model, opt);
                        from = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
                        from.put("checkpoint", resumeFile.toAbsolutePath().normalize().toString());
                        from.put("runFolder", CheckpointStore.runFolderOf(resumeFile).toString());
                        from.put("step", start.step());
                        err.println("[ttrec] resumed from " + resumeFile + " at step " + start.step());
                    }
                    run.writeConfig(c, prov, tableLines, from);
                    run.writeDictionaries(ds);
                    err.println("[ttrec] run folder: " + dir.toAbsolutePath());
                    Progress progress = new Progress(c, planned, start.step(), run, err);
                    Trainer t2 = new Trainer(c, model, opt, specs, ds, null, prov, progress);
                    t2.setCheckpointStore(new CheckpointStore(dir, keep));
                    if (resumed != null) {
                        t2.resumeFrom(resumed, resumeFile);
                    }
                    Trainer.Summary s;
                    try {
                        s = t2.run();
                    } catch (TrainingDivergedException e) {
                        progress.close();
                        run.writePlots();
                        err.println("[ttrec] " + e.getMessage());
                        return 3;
                    } finally {
                        progress.close();
                    }
                    run.writePlots();
                    summary(System.out, model, s, dir);
                    String undefined = undefinedMetrics(s, ds);
                    if (undefined != null) {
                        err.println("ttrec train: " + undefined);
                        return 4;
                    }
                    return 0;
                }
            }
        }
    }

    /** @return the run folder: --out, the checkpoint's own (--continue-in-place) or a new runs/<timestamp> */
    private Path runFolder() {
        if (continueInPlace) {
            Path own = CheckpointStore.runFolderOf(resumeFile);
            if (out != null && !out.toAbsolutePath().normalize().equals(own)) {
                throw new IllegalArgumentException("--continue-in-place writes into the checkpoint's run folder " + own
                        + ", not --out " + out);
            }
            return own;
        }
        if (out != null) {
            return out;
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path p = Path.of("runs", stamp);
        for (int i = 2; java.nio.file.Files.exists(p); i++) {
            p = Path.of("runs", stamp + "-" + i); // two runs started in the same second get folders of their own
        }
        return p;
    }

    /** A run continued in place must start from its folder's newest checkpoint: later ones would be overwritten. */
    private void checkContinuable(Path dir) throws IOException {
        var steps = CheckpointStore.stepFiles(dir.resolve(CheckpointStore.DIR));
        long at = resumedHeader.state().step();
        if (!steps.isEmpty() && steps.lastKey() > at) {
            throw new IllegalArgumentException("--continue-in-place from step " + at + " would replace the later "
                    + "checkpoints in " + dir + " (up to step " + steps.lastKey() + "); resume from the newest ("
                    + "--resume " + dir + ") or into a new folder (omit --continue-in-place)");
        }
    }

    private String nothingToDo(RunConfig c, Dataset ds, TrainState start, long planned) {
        long perEpoch = Math.ceilDiv(ds.size(Split.TRAIN), c.train.batchSize);
        return "nothing to do: checkpoint " + resumeFile + " is at step " + start.step() + ", and this run ends at step "
                + planned + " (" + c.train.epochs + " epoch" + (c.train.epochs == 1 ? "" : "s") + " of " + perEpoch
                + " steps" + (c.train.maxSteps >= 0 ? ", --max-steps " + c.train.maxSteps : "") + "). To train further, "
                + "pass --epochs N with N > " + c.train.epochs + " or --max-steps N with N > " + start.step();
    }

    /** @return why a final metric is NaN, or null if all are numbers */
    private static String undefinedMetrics(Trainer.Summary s, Dataset ds) {
        for (var e : new Object[][] {{"validation", s.validation()}, {"test", s.test()}}) {
            BinaryMetrics.Result r = (BinaryMetrics.Result) e[1];
            if (r != null && (Double.isNaN(r.auc()) || Double.isNaN(r.logLoss()) || Double.isNaN(r.accuracy()))) {
                return "the " + e[0] + " metrics are undefined (NaN): " + r + ". An AUC needs both labels in the split; "
                        + "check the labels of " + ds.describe();
            }
        }
        return null;
    }

    private static String indent(String s) {
        StringBuilder sb = new StringBuilder();
        for (String l : s.split("\\R")) {
            sb.append("[ttrec] ").append(l).append(System.lineSeparator());
        }
        return sb.toString();
    }

    /** Prints quality, size and speed at the end of a run. */
    static void summary(PrintStream o, DlrmModel model, Trainer.Summary s, Path dir) {
        o.println("== ttrec train: done after " + s.state().step() + " steps (" + s.state().samples() + " samples)"
                + (s.stoppedEarly() ? ", target AUC reached" : ""));
        if (s.validation() != null) {
            o.println("validation: " + s.validation());
        }
        if (s.test() != null) {
            BinaryMetrics.Result t = s.test();
            o.printf(Locale.ROOT, "test:       AUC %.4f  accuracy %.4f  log loss %.4f  (%,d samples)%n",
                    t.auc(), t.accuracy(), t.logLoss(), t.count());
        }
        long p = model.parameterCount();
        long u = model.uncompressedParameterCount();
        o.printf(Locale.ROOT, "parameters: %,d (%s); uncompressed: %,d (%s); compression x%.2f%n", p,
                FloatIO.bytes(4 * p), u, FloatIO.bytes(4 * u), (double) u / p);
        for (EmbeddingBagLayer l : model.tables()) {
            if (l.parameterCount() != l.uncompressedParameterCount()) {
                o.printf(Locale.ROOT, "  %s: %,d -> %,d parameters, x%.1f%n", l.name(), l.uncompressedParameterCount(),
                        l.parameterCount(), (double) l.uncompressedParameterCount() / l.parameterCount());
            }
        }
        o.printf(Locale.ROOT, "speed: %,.0f samples/s (training steps only)%n", s.samplesPerSec());
        o.println("run folder: " + dir.toAbsolutePath());
    }

    /**
     * Progress bar (samples, samples/s, ETA, loss) on an interactive stderr; without a terminal
     * (logs, CI) a plain line every 10% instead of carriage-return redraws. Also feeds the run
     * folder.
     */
    static final class Progress implements Trainer.Listener {
        private final RunFolder run;
        private final PrintStream err;
        private final ProgressBar bar;
        private final int batch;
        private final long steps;
        private final long t0 = System.nanoTime();
        private final long startStep;
        private long nextPlain;
        /** The last logged mean loss (NaN before the first log). */
        private double ema = Double.NaN;

        Progress(RunConfig c, long steps, long done, RunFolder run, PrintStream err) {
            this.run = run;
            this.err = err;
            this.batch = c.train.batchSize;
            this.steps = steps;
            this.startStep = done;
            java.io.Console con = System.console();
            boolean terminal = con != null && con.isTerminal();
            if (c.train.progress && steps > 0 && terminal) {
                bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(steps * batch)
                        .setStyle(ProgressBarStyle.ASCII).setUnit(" samples", 1).showSpeed()
                        .setConsumer(new ConsoleProgressBarConsumer(err, 120)).setUpdateIntervalMillis(500)
                        .startsFrom(done * batch, java.time.Duration.ZERO).build();
            } else {
                bar = null;
            }
            nextPlain = c.train.progress && bar == null && steps > 0 ? done + Math.max(1, steps / 10) : Long.MAX_VALUE;
        }

        @Override
        public void onStep(TrainState s, double lr) {
            if (bar != null) {
                bar.stepTo(Math.min(bar.getMax(), s.step() * batch));
            } else if (s.step() >= nextPlain) {
                nextPlain += Math.max(1, steps / 10);
                double sec = (System.nanoTime() - t0) * 1e-9;
                double rate = (s.step() - startStep) * batch / sec;
                double eta = rate > 0 ? (steps - s.step()) * batch / rate : 0;
                err.printf(Locale.ROOT, "[ttrec] step %d/%d (%.0f%%), %,.0f samples/s%s, ETA %.0f s%n",
                        s.step(), steps, 100.0 * s.step() / steps, rate,
                        Double.isNaN(ema) ? "" : String.format(Locale.ROOT, ", loss %.4f", ema), eta);
            }
        }

        @Override
        public void onLog(TrainState s, double meanLoss, double lr, double samplesPerSec) {
            // the loss is read from the backend only here: the bar shows the last logged mean
            ema = meanLoss;
            if (bar != null) {
                bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", ema));
            }
            run.onLog(s, meanLoss, lr, samplesPerSec);
        }

        @Override
        public void onEval(TrainState s, Split split, BinaryMetrics.Result r) {
            run.onEval(s, split, r);
            String line = String.format(Locale.ROOT, "[ttrec] step %d %s: %s", s.step(),
                    split.name().toLowerCase(Locale.ROOT), r);
            if (bar != null) {
                err.println();
            }
            err.println(line);
        }

        void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
