package org.ttrec.spark.train;

import org.ttrec.dlrm.train.TrainState;

import java.io.Serializable;

/**
 * What a replica reports of its round besides its state.
 *
 * @param replica  its index
 * @param steps    steps it took this round (0 once its epochs are done)
 * @param samples  samples it trained on this round: its weight in the average
 * @param lossSum  the sum of its steps' training losses this round
 * @param position its training position after the round
 * @param layout   the layout of its state (null if it took no step)
 * @param diverged why its training diverged, or null
 */
record ReplicaOutcome(int replica, long steps, long samples, double lossSum, TrainState position,
                      ModelState.Layout layout, String diverged) implements Serializable {}
