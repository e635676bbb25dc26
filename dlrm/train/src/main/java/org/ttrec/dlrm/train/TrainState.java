package org.ttrec.dlrm.train;

/**
 * Where training stands: everything besides weights and optimiser states that a resumed run
 * needs to continue bit-identically. Serializable, so that data-parallel training can ship each
 * replica's position.
 *
 * @param step         optimiser steps done (the LR schedule's position)
 * @param epoch        current epoch (0-based)
 * @param batchInEpoch batches of the current epoch already consumed (the data stream position)
 * @param samples      training samples consumed in total
 */
public record TrainState(long step, int epoch, long batchInEpoch, long samples) implements java.io.Serializable {
    /** @return the state of a fresh run */
    public static TrainState start() {
        return new TrainState(0, 0, 0, 0);
    }
}
