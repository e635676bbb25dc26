package org.ttrec.spark.train;

import java.io.Serializable;

/**
 * How {@link SparkTrainer} spreads training over Spark tasks.
 *
 * @param replicas       model replicas, one Spark task each per round; each trains on its own
 *                       contiguous part of the training split
 * @param stepsPerRound  K: steps every replica takes between two combines (1 = average after every step)
 * @param replicaThreads kernel threads of each replica's cpu backend (bits depend on it, as on one machine)
 * @param evalTasks      Spark tasks of a distributed evaluation (0: as many as replicas)
 * @param splitBatch     whether {@code train.batchSize} is the global batch, each replica taking
 *                       {@code batchSize / replicas} samples per step (so an epoch has as many
 *                       steps as on one machine), or each replica's own
 * @param weights        how the replicas' weights are combined
 * @param state          how their optimiser states are combined
 * @param failOnce       test hook, "round:replica": that replica's first attempt in that round fails
 *                       after training, as a lost task would; "round:replica:exit": its executor's
 *                       JVM halts there instead, as a lost executor would (not on the driver, so
 *                       not in local mode); null for none
 */
public record SparkTrainOptions(int replicas, int stepsPerRound, int replicaThreads, int evalTasks, boolean splitBatch,
                                Combine weights, Combine state, String failOnce) implements Serializable {
    /**
     * The defaults of {@code ttrec-spark train} for everything but the replica count and K.
     *
     * @param replicas      replicas
     * @param stepsPerRound K
     * @return the options
     */
    public static SparkTrainOptions of(int replicas, int stepsPerRound) {
        return new SparkTrainOptions(replicas, stepsPerRound, 1, 0, true, DEFAULT_WEIGHTS, DEFAULT_STATE, null);
    }

    /** The default weight combine (bench/README.md, "Spark": measured against the others). */
    public static final Combine DEFAULT_WEIGHTS = Combine.AVERAGE;
    /** The default optimiser-state combine. */
    public static final Combine DEFAULT_STATE = Combine.AVERAGE;

    /** @return a copy with the given test hook */
    public SparkTrainOptions withFailOnce(String hook) {
        return new SparkTrainOptions(replicas, stepsPerRound, replicaThreads, evalTasks, splitBatch, weights, state, hook);
    }

    /** @return a copy with the given combines */
    public SparkTrainOptions withCombine(Combine w, Combine s) {
        return new SparkTrainOptions(replicas, stepsPerRound, replicaThreads, evalTasks, splitBatch, w, s, failOnce);
    }

    /** @return a copy in which the batch size is each replica's ({@code false}) or the global one */
    public SparkTrainOptions withSplitBatch(boolean split) {
        return new SparkTrainOptions(replicas, stepsPerRound, replicaThreads, evalTasks, split, weights, state, failOnce);
    }

    /** Validates. */
    public SparkTrainOptions {
        if (replicas < 1 || replicas > 4096) {
            throw new IllegalArgumentException("replicas must be in [1, 4096], got " + replicas);
        }
        if (stepsPerRound < 1) {
            throw new IllegalArgumentException("steps per round (--steps-per-round) must be >= 1, got " + stepsPerRound);
        }
        if (replicaThreads < 1) {
            throw new IllegalArgumentException("replica threads must be >= 1, got " + replicaThreads);
        }
        if (evalTasks < 0) {
            throw new IllegalArgumentException("evaluation tasks must be >= 0, got " + evalTasks);
        }
        if (weights == null || state == null) {
            throw new IllegalArgumentException("how to combine weights and optimiser state must be given");
        }
        if (failOnce != null && !failOnce.matches("\\d+:\\d+(:exit)?")) {
            throw new IllegalArgumentException("failOnce must be 'round:replica' or 'round:replica:exit', got '" + failOnce + "'");
        }
    }

    /** @return the Spark tasks an evaluation uses */
    public int evaluationTasks() {
        return evalTasks > 0 ? evalTasks : replicas;
    }

    /** @return whether the test hook fails the given replica's first attempt in the given round */
    boolean failsOnce(long round, int replica) {
        return failOnce != null && failOnce.startsWith(round + ":" + replica)
                && failOnce.substring((round + ":" + replica).length()).matches("(:exit)?");
    }

    /** @return whether the test hook halts the executor rather than failing the task */
    boolean failureHaltsExecutor() {
        return failOnce != null && failOnce.endsWith(":exit");
    }
}
