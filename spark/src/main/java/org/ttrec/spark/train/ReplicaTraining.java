package org.ttrec.spark.train;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.PairFlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.train.TrainState;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingDivergedException;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * One replica's round, as a Spark task: build the model (seeded, or with the combined state of
 * the previous round), train {@code K} steps of its part of the training split from where it
 * stopped, and emit its outcome and its state cut into {@link Chunks}. A replica's round is a
 * pure function of the broadcast input, so a retried task (a lost executor, the test hook)
 * produces the same bits. The model and data are kept in the executor for the next round
 * ({@link ReplicaCache}).
 */
final class ReplicaTraining implements PairFlatMapFunction<Integer, Integer, Piece> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<RoundInput> input;

    ReplicaTraining(Broadcast<RoundInput> input) {
        this.input = input;
    }

    @Override
    public Iterator<Tuple2<Integer, Piece>> call(Integer replica) throws Exception {
        RoundInput in = input.value();
        SparkTrainOptions o = in.options();
        int i = replica;
        TrainState from = in.positions()[i];
        // the run's step limit, from the broadcast: a kept replica's own config holds last round's
        RunConfig c = RunConfig.fromJson(in.configJson());
        long limit = (in.round() + 1) * o.stepsPerRound();
        if (c.train.maxSteps >= 0) {
            limit = Math.min(limit, c.train.maxSteps);
        }
        List<Tuple2<Integer, Piece>> out = new ArrayList<>();
        ReplicaModel m = ReplicaCache.take(in.job(), i, in.round());
        if (m == null) {
            m = ReplicaModel.open(in.configJson(), o.replicaThreads(), i, o.replicas(), in.state());
        } else if (in.state() != null) {
            in.state().install(m.model, m.opt);
        }
        boolean keep = false;
        try {
            RunConfig rc = m.config;
            rc.train.maxSteps = limit;
            rc.train.evalEvery = 0;
            rc.train.checkpointEvery = 0;
            rc.train.targetAuc = 0;
            rc.train.logEvery = o.stepsPerRound(); // one window per round
            LossSum loss = new LossSum();
            Trainer t = new Trainer(rc, m.model, m.opt, m.specs, m.data, null, null, loss);
            t.resumeFrom(from);
            t.setRunTest(false);
            t.setFinalValidation(false);
            String diverged = null;
            try {
                t.run();
            } catch (TrainingDivergedException e) {
                diverged = "replica " + i + " of " + o.replicas() + " in round " + in.round() + ": " + e.getMessage();
            }
            TrainState to = t.state();
            long steps = to.step() - from.step();
            TaskContext task = TaskContext.get();
            if (o.failsOnce(in.round(), i) && task != null && task.attemptNumber() == 0) {
                if (o.failureHaltsExecutor() && !"driver".equals(org.apache.spark.SparkEnv.get().executorId())) {
                    Runtime.getRuntime().halt(57); // a lost executor: no shutdown hooks, no goodbye to the driver
                }
                throw new IllegalStateException("test hook: replica " + i + " fails its first attempt in round " + in.round());
            }
            ModelState state = steps > 0 && diverged == null ? ModelState.capture(m.model, m.opt) : null;
            long samples = to.samples() - from.samples();
            ModelState.Layout layout = state == null ? null : state.layout();
            out.add(new Tuple2<>(Chunks.OUTCOMES, Piece.outcome(new ReplicaOutcome(i, steps, samples, loss.sum, to,
                    layout, diverged))));
            if (state != null) {
                List<float[]> arrays = state.arrays();
                List<Chunks.Chunk> chunks = Chunks.of(layout.lengths());
                for (int k = 0; k < chunks.size(); k++) {
                    Chunks.Chunk ch = chunks.get(k);
                    float[] v = java.util.Arrays.copyOfRange(arrays.get(ch.array()), ch.offset(), ch.offset() + ch.length());
                    out.add(new Tuple2<>(k, new Piece(i, samples, ch.array(), layout.owners()[ch.array()],
                            layout.positions()[ch.array()], ch.offset(), layout.accumulators()[ch.array()], v, List.of())));
                }
            }
            keep = diverged == null;
        } finally {
            if (keep) {
                ReplicaCache.put(in.job(), i, in.round(), m);
            } else {
                m.close();
            }
        }
        return out.iterator();
    }

    /** Adds up the training losses of the round from the trainer's log windows. */
    private static final class LossSum implements Trainer.Listener {
        double sum;
        long stepsInWindow;

        @Override
        public void onStep(TrainState s, double lr) {
            stepsInWindow++;
        }

        @Override
        public void onLog(TrainState s, double meanLoss, double lr, double samplesPerSec) {
            sum += meanLoss * stepsInWindow;
            stepsInWindow = 0;
        }
    }
}
