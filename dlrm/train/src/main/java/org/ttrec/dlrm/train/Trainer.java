package org.ttrec.dlrm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.config.TrainConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The training loop: mini-batch SGD/Adagrad with dlrm's LR schedule, periodic validation,
 * checkpoints and a final test evaluation. Deterministic: the data order of epoch e depends
 * only on (seed, e), so a run resumed from a checkpoint (weights, optimiser states, step and
 * stream position) continues exactly as the uninterrupted run would have.
 *
 * <p>A step reads nothing back from the backend: the losses are added up in a backend buffer
 * and read when they are logged, and each step's loss is checked by the backend's non-finite
 * flag ({@link org.ttrec.engine.ComputeBackend#checkFinite}), which the loop reads at every log
 * point, before every evaluation and checkpoint, and at the end of every epoch. A NaN or
 * infinite loss therefore stops training at the first of those after it, and no checkpoint of
 * the spoiled model is written. A loss that explodes without turning NaN (the BCE is clamped) is
 * caught by a {@link DivergenceGuard} on the window means read at log points, and on the partial
 * window read before each checkpoint, so a diverged model is never saved either.
 *
 * <p>The log window (the backend's loss sum and its step count) and the guard's running level
 * are saved with every checkpoint, so a resumed run logs the same lines as the uninterrupted one.
 */
public final class Trainer {

    /** Receives progress; every method has an empty default. */
    public interface Listener {
        /**
         * After every step (its loss stays on the backend: see {@link #onLog}).
         *
         * @param s  state after the step
         * @param lr its learning rate
         */
        default void onStep(TrainState s, double lr) {}

        /**
         * Every {@code logEvery} steps.
         *
         * @param s             state
         * @param meanLoss      mean training loss since the last log
         * @param lr            current learning rate
         * @param samplesPerSec training throughput since the start of this run (evaluation excluded)
         */
        default void onLog(TrainState s, double meanLoss, double lr, double samplesPerSec) {}

        /** After an evaluation. @param s state @param split the split @param r metrics */
        default void onEval(TrainState s, Split split, BinaryMetrics.Result r) {}

        /** After a checkpoint was written. @param file the file @param s state it holds */
        default void onCheckpoint(Path file, TrainState s) {}
    }

    /**
     * The outcome of {@link #run()}.
     *
     * @param state         final state
     * @param validation    last validation metrics (null if none ran)
     * @param test          test metrics (null if skipped)
     * @param samplesPerSec training throughput of this run (evaluation excluded)
     * @param stoppedEarly  whether the target AUC ended the run
     */
    public record Summary(TrainState state, BinaryMetrics.Result validation, BinaryMetrics.Result test,
                          double samplesPerSec, boolean stoppedEarly) {}

    private final RunConfig config;
    private final TrainConfig tc;
    private final DlrmModel model;
    private final DenseOptimizer opt;
    private final List<EmbeddingTableSpec> specs;
    private final Dataset data;
    private final Path checkpoint;
    private final ObjectNode provenance;
    private final Listener listener;
    private final LrSchedule schedule;
    private final DivergenceGuard guard;
    private TrainState state = TrainState.start();
    private TrainState lastCheckpointed;
    private Path lastCheckpointFile;
    private CheckpointStore store;
    private boolean runTest = true;
    private boolean finalValidation = true;
    /** The loss window: the backend sum of the losses since the last log, and how many steps it holds. */
    private FloatBuf lossSum;
    private long lossCount;
    private float resumedLossSum;

    /**
     * @param config     the run configuration
     * @param model      the model
     * @param opt        its optimiser
     * @param specs      the table plan (recorded in checkpoints)
     * @param data       the data set
     * @param checkpoint checkpoint file to (over)write, or null for none
     * @param provenance extra checkpoint header fields, or null
     * @param listener   progress receiver, or null
     */
    public Trainer(RunConfig config, DlrmModel model, DenseOptimizer opt, List<EmbeddingTableSpec> specs, Dataset data,
                   Path checkpoint, ObjectNode provenance, Listener listener) {
        this.config = config;
        this.tc = config.train;
        this.model = model;
        this.opt = opt;
        this.specs = specs;
        this.data = data;
        this.checkpoint = checkpoint;
        this.provenance = provenance;
        this.listener = listener == null ? new Listener() {} : listener;
        this.schedule = new LrSchedule(tc.lr, tc.lrWarmupSteps, tc.lrDecayStartStep, tc.lrDecaySteps);
        this.guard = new DivergenceGuard(tc.divergenceFactor, tc.divergenceLoss);
    }

    /**
     * Writes checkpoints into a run folder's store (one file per step) instead of the single file
     * given to the constructor.
     *
     * @param store the run folder's checkpoints
     */
    public void setCheckpointStore(CheckpointStore store) {
        this.store = store;
    }

    /**
     * Builds the optimiser a config asks for.
     *
     * @param config the run configuration
     * @param model  the model
     * @return the optimiser
     */
    public static DenseOptimizer optimizerFor(RunConfig config, DlrmModel model) {
        return new DenseOptimizer(model.backend(), config.train.optimizer.equals("adagrad")
                ? DenseOptimizer.Kind.ADAGRAD : DenseOptimizer.Kind.SGD, (float) config.train.adagradEps,
                model.denseParameterCount());
    }

    /** @param s the position to continue from (after loading a checkpoint) */
    public void resumeFrom(TrainState s) {
        this.state = s;
        this.lastCheckpointed = s;
    }

    /**
     * Continues from a checkpoint: its position, and the loop state its header holds (the log
     * window and the divergence guard's level), so the resumed run logs what the uninterrupted
     * one would have.
     *
     * @param h    the checkpoint's header
     * @param file the checkpoint file (named as the last good one if training diverges)
     */
    public void resumeFrom(Checkpoint.Header h, Path file) {
        resumeFrom(h.state());
        this.lastCheckpointFile = file;
        JsonNode loop = h.header().path("loop");
        if (loop.isObject()) {
            long n = loop.path("lossCount").asLong(0);
            resumedLossSum = Float.intBitsToFloat(loop.path("lossSumBits").asInt(0));
            lossCount = n >= 0 && Float.isFinite(resumedLossSum) ? n : 0;
            if (lossCount == 0) {
                resumedLossSum = 0f;
            }
            JsonNode level = loop.path("lossLevel");
            guard.restore(level.isNumber() ? level.asDouble() : Double.NaN);
        }
    }

    /** @param run whether {@link #run()} ends with a test evaluation (default true) */
    public void setRunTest(boolean run) {
        this.runTest = run;
    }

    /**
     * @param run whether {@link #run()} ends with a validation when the last step was not one
     *            (default true); a data-parallel replica, whose model is only a part of the
     *            combined one, turns it off
     */
    public void setFinalValidation(boolean run) {
        this.finalValidation = run;
    }

    /** @return the current position */
    public TrainState state() {
        return state;
    }

    /** @return the LR schedule */
    public LrSchedule schedule() {
        return schedule;
    }

    /** @return the steps this configuration runs in total, or -1 if the training split's size is unknown */
    public long plannedSteps() {
        return plannedSteps(config, data);
    }

    /**
     * @param config the run configuration
     * @param data   the data set
     * @return the steps the configuration runs in total, or -1 if the training split's size is unknown
     */
    public static long plannedSteps(RunConfig config, Dataset data) {
        TrainConfig tc = config.train;
        long size = data.size(Split.TRAIN);
        long perEpoch = size < 0 ? -1 : (size + tc.batchSize - 1) / tc.batchSize;
        long total = perEpoch < 0 ? -1 : perEpoch * tc.epochs;
        if (tc.maxSteps >= 0) {
            return total < 0 ? tc.maxSteps : Math.min(total, tc.maxSteps);
        }
        return total;
    }

    /**
     * Trains until the configured epochs or steps are done (or the target AUC is reached).
     *
     * @return the summary
     * @throws IOException               if data or checkpoints cannot be read or written
     * @throws TrainingDivergedException if a step's loss was NaN or infinite (found at the next log
     *                                   point, evaluation, checkpoint or epoch end)
     */
    public Summary run() throws IOException {
        ComputeBackend be = model.backend();
        be.clearNonFinite();
        try (FloatBuf sum = be.allocFloats(1)) {
            lossSum = sum;
            be.fill(1, lossCount > 0 ? resumedLossSum : 0f, sum, 0);
            return run(be);
        } finally {
            lossSum = null;
        }
    }

    private Summary run(ComputeBackend be) throws IOException {
        long nanos = 0;
        long samplesThisRun = 0;
        BinaryMetrics.Result val = null;
        boolean early = false;
        boolean evaluatedAtLastStep = false;
        outer:
        for (int epoch = state.epoch(); epoch < tc.epochs; epoch++) {
            try (BatchStream s = data.batches(Split.TRAIN, tc.batchSize, true, epochSeed(epoch))) {
                long inEpoch = 0;
                if (epoch == state.epoch()) {
                    inEpoch = s.skip(state.batchInEpoch());
                }
                for (Batch b = s.next(); b != null; b = s.next()) {
                    if (tc.maxSteps >= 0 && state.step() >= tc.maxSteps) {
                        break outer;
                    }
                    long t0 = System.nanoTime();
                    long k = state.step() + 1;
                    float lr = (float) schedule.lr(k);
                    model.forward(b);
                    be.checkFinite(1, model.lossBuffer(), 0, k);
                    be.axpy(1, 1f, model.lossBuffer(), 0, lossSum, 0);
                    model.backward(opt.sparse(lr));
                    opt.step(lr, model.parameters(), model.gradients());
                    nanos += System.nanoTime() - t0;
                    inEpoch++;
                    samplesThisRun += b.size();
                    state = new TrainState(k, epoch, inEpoch, state.samples() + b.size());
                    lossCount++;
                    listener.onStep(state, lr);
                    if (k % tc.logEvery == 0) {
                        stopIfDiverged(be);
                        double mean = windowSum() / lossCount;
                        listener.onLog(state, mean, lr, samplesThisRun / (nanos * 1e-9));
                        checkLoss(mean, lossCount);
                        guard.accept(mean);
                        be.fill(1, 0f, lossSum, 0);
                        lossCount = 0;
                    }
                    evaluatedAtLastStep = false;
                    if (tc.evalEvery > 0 && k % tc.evalEvery == 0) {
                        stopIfDiverged(be);
                        checkPartialWindow();
                        val = Evaluator.evaluate(model, data, Split.VALIDATION, tc.testBatchSize);
                        listener.onEval(state, Split.VALIDATION, val);
                        evaluatedAtLastStep = true;
                        saveCheckpoint(val);
                        if (tc.targetAuc > 0 && val.auc() >= tc.targetAuc) {
                            early = true;
                            break outer;
                        }
                    } else if (tc.checkpointEvery > 0 && k % tc.checkpointEvery == 0) {
                        stopIfDiverged(be);
                        checkPartialWindow();
                        saveCheckpoint(null);
                    }
                }
            }
            stopIfDiverged(be);
            if (tc.maxSteps >= 0 && state.step() >= tc.maxSteps) {
                break;
            }
            state = new TrainState(state.step(), epoch + 1, 0, state.samples());
        }
        stopIfDiverged(be);
        if (lossCount > 0) {
            double mean = windowSum() / lossCount;
            listener.onLog(state, mean, schedule.lr(Math.max(1, state.step())),
                    nanos > 0 ? samplesThisRun / (nanos * 1e-9) : 0);
            checkLoss(mean, lossCount);
        }
        if (!evaluatedAtLastStep && finalValidation) {
            val = Evaluator.evaluate(model, data, Split.VALIDATION, tc.testBatchSize);
            listener.onEval(state, Split.VALIDATION, val);
        }
        if (lastCheckpointed == null || !lastCheckpointed.equals(state)) {
            saveCheckpoint(val);
        }
        BinaryMetrics.Result test = null;
        if (runTest) {
            test = Evaluator.evaluate(model, data, Split.TEST, tc.testBatchSize);
            listener.onEval(state, Split.TEST, test);
        }
        return new Summary(state, val, test, nanos > 0 ? samplesThisRun / (nanos * 1e-9) : 0, early);
    }

    /**
     * Reads the backend's non-finite flag; if a step's loss was NaN or infinite, stops training
     * before anything else (an evaluation, a checkpoint) sees the spoiled model.
     */
    private void stopIfDiverged(ComputeBackend be) {
        long bad = be.firstNonFinite();
        if (bad < 0) {
            return;
        }
        throw new TrainingDivergedException(bad, "training diverged: the loss became NaN or infinite at step " + bad
                + " (learning rate " + (float) schedule.lr(bad) + "); training stopped at step " + state.step()
                + ", the first check after it, without evaluating or saving that model. " + lastGood()
                + " Likely cause: a learning rate too high for this model; try a lower --lr or a warm-up "
                + "(--lr-num-warmup-steps).");
    }

    /** Reads the backend's loss sum (only at log points, evaluations, checkpoints and the end). */
    private double windowSum() {
        float[] host = new float[1];
        lossSum.read(0, host, 0, 1);
        return host[0];
    }

    /** Before an evaluation or a checkpoint: the steps since the last log must not show divergence either. */
    private void checkPartialWindow() {
        if (lossCount > 0) {
            checkLoss(windowSum() / lossCount, lossCount);
        }
    }

    /** Throws if a window mean (of the {@code n} steps up to now) shows divergence. */
    private void checkLoss(double mean, long n) {
        String why = guard.check(mean);
        if (why == null) {
            return;
        }
        long from = state.step() - n + 1;
        double lr = schedule.lr(state.step());
        throw new TrainingDivergedException(state.step(), String.format(java.util.Locale.ROOT,
                "training diverged at step %d: %s over steps %d-%d (learning rate %.4g, %s). Training stopped "
                        + "without evaluating or saving that model. %s Likely cause: the learning rate is too high "
                        + "for this model and optimiser; try a lower --lr (e.g. %.3g) or a warm-up "
                        + "(--lr-num-warmup-steps).",
                state.step(), why, from, state.step(), lr, tc.optimizer, lastGood(),
                Math.max(1e-4, Math.min(tc.lr, 1.0) / 10)));
    }

    private String lastGood() {
        Path file = lastCheckpointFile != null ? lastCheckpointFile : checkpoint;
        return lastCheckpointed != null && file != null
                ? "Last good checkpoint: " + file + " (step " + lastCheckpointed.step() + ")."
                : "No checkpoint was written yet.";
    }

    private long epochSeed(int epoch) {
        return tc.seed * 0x9E3779B97F4A7C15L + epoch;
    }

    /** @param val the validation metrics of exactly this state, or null if it was not evaluated */
    private void saveCheckpoint(BinaryMetrics.Result val) throws IOException {
        if (checkpoint == null && store == null) {
            return;
        }
        ObjectNode extra = JsonNodeFactory.instance.objectNode();
        ObjectNode loop = extra.putObject("loop");
        loop.put("lossSumBits", Float.floatToRawIntBits(lossCount > 0 ? (float) windowSum() : 0f));
        loop.put("lossCount", lossCount);
        if (!Double.isNaN(guard.level())) {
            loop.put("lossLevel", guard.level());
        }
        double auc = val == null ? Double.NaN : val.auc();
        if (val != null && Double.isFinite(val.auc()) && Double.isFinite(val.logLoss())) {
            // JSON has no NaN: an undefined AUC is simply not recorded
            ObjectNode v = extra.putObject("validation");
            v.put("auc", val.auc());
            v.put("logloss", val.logLoss());
            v.put("accuracy", val.accuracy());
            v.put("count", val.count());
        }
        Path file;
        if (store != null) {
            store.save(model, opt, config, specs, state, provenance, extra, auc);
            file = store.runDir().resolve(CheckpointStore.LATEST);
        } else {
            Checkpoint.write(checkpoint, model, opt, config, specs, state, provenance, extra);
            file = checkpoint;
        }
        lastCheckpointed = state;
        lastCheckpointFile = file;
        listener.onCheckpoint(file, state);
    }
}
