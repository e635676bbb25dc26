package org.ttrec.spark.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.CheckpointStore;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.dlrm.train.DivergenceGuard;
import org.ttrec.dlrm.train.LrSchedule;
import org.ttrec.dlrm.train.Provenance;
import org.ttrec.dlrm.train.RunFolder;
import org.ttrec.dlrm.train.TrainState;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingDivergedException;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import scala.Tuple2;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Data-parallel training on Spark: {@code R} replicas of the model, each a Spark task per round
 * training {@code K} steps on its own contiguous part of the training split with the usual
 * trainer, then combined, and the next round starts every replica from the combined model.
 *
 * <p><b>Batches.</b> By default {@code train.batchSize} is the global batch: each replica takes
 * its share per step, so an epoch has as many steps as on one machine, and with plain SGD, one
 * step per round and averaging, a round is one machine's step on the same batch (up to float
 * rounding). The checkpoints hold the replicas' configuration (their batch size).
 *
 * <p><b>Combining.</b> Parameters and optimiser states are averaged (each replica weighted by the
 * samples it trained on that round): the MLPs, the dense tables, the TT cores and all Adagrad
 * accumulators alike. That is local SGD (model averaging); with {@code K = 1} and plain SGD it is
 * exactly synchronous data-parallel SGD on batches {@code R} times larger. The averaging runs
 * through Spark's shuffle: every replica cuts its state into chunks ({@link Chunks}), each chunk
 * is averaged by a reduce task ({@link Averaging}) in replica order, so the result is
 * deterministic and a replica's average of one is its own state bit for bit. The driver collects
 * the averaged model (megabytes for a TT model) and broadcasts it with the next round.
 *
 * <p><b>Exactness and failures.</b> Each replica's round depends only on the broadcast input, so a
 * retried task (a lost executor) yields the same bits; with one replica and any K the run is the
 * single-machine run. After every round the driver writes a ttrec checkpoint into the run folder
 * (loadable by {@code ttrec eval}, {@code model-file}, {@code --resume}) whose header's
 * {@code spark} section holds every replica's position, and {@link #run} with {@code resume}
 * continues a stopped job from its last round.
 */
public final class SparkTrainer {
    private SparkTrainer() {}

    /**
     * One round as the driver saw it.
     *
     * @param round    the round, from 0
     * @param steps    steps of the replica that took most
     * @param samples  samples trained on by all replicas
     * @param meanLoss their mean training loss
     * @param seconds  wall time of the round (training, combining, checkpoint)
     */
    public record Round(long round, long steps, long samples, double meanLoss, double seconds) {}

    /**
     * The outcome of a run.
     *
     * @param rounds        the rounds this run did
     * @param positions     every replica's training position at the end
     * @param validation    validation metrics of the final model
     * @param test          test metrics of the final model
     * @param samplesPerSec training samples per second over all replicas (evaluation excluded)
     * @param state         the final model's state
     */
    public record Result(List<Round> rounds, TrainState[] positions, BinaryMetrics.Result validation,
                         BinaryMetrics.Result test, double samplesPerSec, ModelState state) {}

    /**
     * Trains.
     *
     * @param sc       the Spark context
     * @param config   the run configuration (data.source is read by the driver and by every task:
     *                 a path all of them see, or synthetic data)
     * @param o        the data-parallel options
     * @param runDir   the run folder (config.json, metrics.jsonl, plots, checkpoints), on the driver
     * @param resume   whether to continue the run in {@code runDir} from its last round; otherwise
     *                 the folder must be new or empty
     * @param log      where progress lines go
     * @return the result
     * @throws IOException               if data or checkpoints cannot be read or written
     * @throws TrainingDivergedException if a replica's or the combined loss diverged
     */
    public static Result run(JavaSparkContext sc, RunConfig config, SparkTrainOptions o, Path runDir, boolean resume,
                             PrintStream log) throws IOException {
        RunConfig c = config.copy();
        c.train.progress = false;
        int parts = o.replicas();
        int globalBatch = c.train.batchSize;
        if (o.splitBatch()) {
            if (globalBatch < parts) {
                throw new IllegalArgumentException("batch size " + globalBatch + " cannot be shared by " + parts
                        + " replicas: give at least one sample per replica (or a batch per replica)");
            }
            // each replica's share; the configuration replicas, checkpoints and positions use
            c.train.batchSize = globalBatch / parts;
            if (globalBatch % parts != 0) {
                log.printf(Locale.ROOT, "[spark] batch %d over %d replicas: %d each, %d in all%n", globalBatch, parts,
                        c.train.batchSize, c.train.batchSize * parts);
            }
        }
        long[] planned = new long[parts];
        try (Dataset d = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, d);
            TrainingSetup.checkSplits(d, Split.TRAIN, Split.VALIDATION, Split.TEST);
            long rows = d.size(Split.TRAIN);
            if (rows < parts) {
                throw new IllegalArgumentException(parts + " replicas for " + rows + " training rows: every replica needs rows");
            }
            for (int i = 0; i < parts; i++) {
                // views over d (closing one would close d): fails now, naming the data, if it cannot be cut
                planned[i] = Trainer.plannedSteps(c, d.trainPart(i, parts));
            }
        }
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Runtime.getRuntime().maxMemory());
        for (EmbeddingTableSpec s : specs) {
            if (s.cacheRows() > 0) {
                throw new IllegalArgumentException("table " + s.name() + " has a TT hot-row cache, which data-parallel "
                        + "training cannot average (each replica would cache its own rows): set --tt-cache-fraction 0");
            }
        }
        String json = c.toJson();
        long maxPlanned = 0;
        for (long p : planned) {
            maxPlanned = Math.max(maxPlanned, p);
        }
        long totalRounds = (maxPlanned + o.stepsPerRound() - 1) / o.stepsPerRound();

        Path latest = runDir.resolve(CheckpointStore.LATEST);
        if (!resume) {
            RunFolder.check(runDir, false);
        } else if (!Files.isRegularFile(latest)) {
            throw new IllegalArgumentException("nothing to resume: " + runDir + " holds no " + CheckpointStore.LATEST);
        }
        ComputeBackend be = Backends.create(c.train.backend, 1);
        try (DlrmModel model = TrainingSetup.build(be, c, specs)) {
            DenseOptimizer opt = Trainer.optimizerFor(c, model);
            long round = 0;
            TrainState[] positions = new TrainState[parts];
            java.util.Arrays.fill(positions, TrainState.start());
            // round 0 ships the seeded initial model too: the replicas would build the same, but
            // combining by sums of changes needs the start of every round
            ModelState state = ModelState.capture(model, opt);
            if (resume) {
                Checkpoint.Header h = Checkpoint.restore(latest, model, opt);
                JsonNode sp = h.header().path("spark");
                if (!sp.isObject() || sp.path("replicas").asInt() != parts || sp.path("stepsPerRound").asLong() != o.stepsPerRound()) {
                    throw new IllegalArgumentException("checkpoint " + latest + " is not of a Spark run with " + parts
                            + " replicas and " + o.stepsPerRound() + " steps per round (" + (sp.isObject()
                            ? "it has " + sp.path("replicas").asInt() + " replicas and " + sp.path("stepsPerRound").asLong()
                            + " steps per round; resume with those" : "it has no spark section: a single-machine run's, "
                            + "which ttrec train --resume continues") + ")");
                }
                round = sp.path("round").asLong() + 1;
                for (int i = 0; i < parts; i++) {
                    positions[i] = RunConfig.mapper().treeToValue(sp.path("positions").get(i), TrainState.class);
                }
                state = ModelState.capture(model, opt);
                log.printf(Locale.ROOT, "[spark] resuming %s after round %d%n", runDir, round - 1);
            }
            ObjectNode prov = Provenance.of("spark", be, c.train.seed);
            prov.put("sparkVersion", sc.version());
            prov.put("sparkMaster", sc.master());
            try (RunFolder run = new RunFolder(runDir, resume ? RunFolder.Mode.CONTINUE : RunFolder.Mode.NEW,
                    resume ? positions[0].step() : -1)) {
                run.writeConfig(c, prov, List.of(parts + " replicas x " + o.stepsPerRound() + " steps per round"));
                CheckpointStore store = new CheckpointStore(runDir, 3);
                LrSchedule lr = new LrSchedule(c.train.lr, c.train.lrWarmupSteps, c.train.lrDecayStartStep, c.train.lrDecaySteps);
                DivergenceGuard guard = new DivergenceGuard(c.train.divergenceFactor, c.train.divergenceLoss);
                List<Round> rounds = new ArrayList<>();
                long trainedSamples = 0;
                double trainSeconds = 0;
                List<Integer> ids = new ArrayList<>();
                for (int i = 0; i < parts; i++) {
                    ids.add(i);
                }
                int reducers = Math.max(1, Math.min(parts, 64));
                String job = java.util.UUID.randomUUID().toString();
                try {
                    for (; ; round++) {
                        boolean allDone = true;
                        for (int i = 0; i < parts; i++) {
                            allDone &= positions[i].step() >= planned[i];
                        }
                        if (allDone) {
                            break;
                        }
                        long t0 = System.nanoTime();
                        Broadcast<RoundInput> in = sc.broadcast(new RoundInput(job, json, round, state, positions.clone(), o));
                        List<Tuple2<Integer, Piece>> got;
                        try {
                            sc.setJobDescription("ttrec round " + (round + 1) + " of " + totalRounds);
                            got = sc.parallelize(ids, parts).flatMapToPair(new ReplicaTraining(in))
                                    .groupByKey(reducers).mapToPair(new Averaging(in)).collect();
                        } finally {
                            in.destroy();
                        }
                        got = new ArrayList<>(got);
                        got.sort(java.util.Comparator.comparingInt(Tuple2::_1));
                        List<ReplicaOutcome> outcomes = got.get(0)._2().outcomes();
                        ReplicaOutcome first = null;
                        long steps = 0, samples = 0, replicaSteps = 0;
                        double loss = 0;
                        for (ReplicaOutcome r : outcomes) {
                            if (r.diverged() != null) {
                                throw new TrainingDivergedException(r.position().step(), "training diverged: " + r.diverged());
                            }
                            positions[r.replica()] = r.position();
                            if (r.steps() > 0 && first == null) {
                                first = r;
                            }
                            steps = Math.max(steps, r.steps());
                            replicaSteps += r.steps();
                            samples += r.samples();
                            loss += r.lossSum();
                        }
                        if (first == null) {
                            break; // every replica was done
                        }
                        state = assemble(first.layout(), got);
                        state.install(model, opt);
                        double mean = loss / replicaSteps;
                        String why = guard.check(mean);
                        if (why != null) {
                            throw new TrainingDivergedException(positions[0].step(), String.format(Locale.ROOT,
                                    "training diverged in round %d: %s. Training stopped without saving that model; the last "
                                            + "good checkpoint is %s. Likely cause: a learning rate too high; try a lower --lr",
                                    round, why, latest));
                        }
                        guard.accept(mean);
                        double secs = (System.nanoTime() - t0) * 1e-9;
                        trainedSamples += samples;
                        trainSeconds += secs;
                        TrainState global = new TrainState(positions[0].step(), positions[0].epoch(),
                                positions[0].batchInEpoch(), sumSamples(positions));
                        run.onLog(global, mean, lr.lr(Math.max(1, global.step())), trainedSamples / trainSeconds);
                        store.save(model, opt, c, specs, global, prov, sparkSection(round, o, positions), Double.NaN);
                        rounds.add(new Round(round, steps, samples, mean, secs));
                        log.printf(Locale.ROOT, "[spark] round %d/%d: %d steps x %d replicas, loss %.5f, %.0f samples/s, %.2f s%n",
                                round + 1, totalRounds, steps, parts, mean, samples / secs, secs);
                    }
                } finally {
                    ReplicaCache.release(job); // the executors' kept replicas, in local mode; on a cluster the next job's tasks do it
                }
                int evalTasks = o.evaluationTasks();
                BinaryMetrics.Result val = SparkEvaluator.evaluate(sc, json, state, Split.VALIDATION, evalTasks, o.replicaThreads());
                TrainState global = new TrainState(positions[0].step(), positions[0].epoch(), positions[0].batchInEpoch(),
                        sumSamples(positions));
                run.onEval(global, Split.VALIDATION, val);
                BinaryMetrics.Result test = SparkEvaluator.evaluate(sc, json, state, Split.TEST, evalTasks, o.replicaThreads());
                run.onEval(global, Split.TEST, test);
                log.printf(Locale.ROOT, "[spark] validation %s%n[spark] test %s%n", val, test);
                run.writePlots();
                return new Result(rounds, positions, val, test, trainSeconds > 0 ? trainedSamples / trainSeconds : 0, state);
            }
        } finally {
            be.close();
        }
    }

    /** The averaged state from the combined chunks (keys 0.., after the outcomes' key). */
    private static ModelState assemble(ModelState.Layout layout, List<Tuple2<Integer, Piece>> got) {
        List<Chunks.Chunk> chunks = Chunks.of(layout.lengths());
        if (got.size() != chunks.size() + 1) {
            throw new IllegalStateException("round returned " + (got.size() - 1) + " chunks, the layout has " + chunks.size());
        }
        List<float[]> arrays = new ArrayList<>();
        for (int len : layout.lengths()) {
            arrays.add(new float[len]);
        }
        for (int k = 0; k < chunks.size(); k++) {
            Tuple2<Integer, Piece> t = got.get(k + 1);
            if (t._1() != k) {
                throw new IllegalStateException("chunk " + k + " missing from the round's result");
            }
            Chunks.Chunk ch = chunks.get(k);
            System.arraycopy(t._2().values(), 0, arrays.get(ch.array()), ch.offset(), ch.length());
        }
        return ModelState.of(layout, arrays);
    }

    private static ObjectNode sparkSection(long round, SparkTrainOptions o, TrainState[] positions) {
        ObjectNode extra = JsonNodeFactory.instance.objectNode();
        ObjectNode sp = extra.putObject("spark");
        sp.put("round", round);
        sp.put("replicas", o.replicas());
        sp.put("stepsPerRound", o.stepsPerRound());
        sp.put("replicaThreads", o.replicaThreads());
        sp.put("batchPerReplica", o.splitBatch() ? "shared" : "own");
        ArrayNode a = sp.putArray("positions");
        for (TrainState s : positions) {
            a.add(RunConfig.mapper().valueToTree(s));
        }
        return extra;
    }

    private static long sumSamples(TrainState[] positions) {
        long n = 0;
        for (TrainState s : positions) {
            n += s.samples();
        }
        return n;
    }
}
