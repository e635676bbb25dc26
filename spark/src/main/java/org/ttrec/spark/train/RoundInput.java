package org.ttrec.spark.train;

import org.ttrec.dlrm.train.TrainState;

import java.io.Serializable;

/**
 * What every replica of one round receives (one broadcast): the configuration, the combined
 * state of the previous round and each replica's data position.
 *
 * @param job        this training job's id (the key of its replicas in {@link ReplicaCache})
 * @param configJson the run configuration as JSON (data adopted)
 * @param round      the round, from 0
 * @param state      the combined state to start from (in round 0 the seeded initial model)
 * @param positions  each replica's training position after the previous round
 * @param options    the data-parallel options
 */
record RoundInput(String job, String configJson, long round, ModelState state, TrainState[] positions, SparkTrainOptions options)
        implements Serializable {}
