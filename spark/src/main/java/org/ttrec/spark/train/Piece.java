package org.ttrec.spark.train;

import java.io.Serializable;
import java.util.List;

/**
 * A value of the round's shuffle. Under a chunk key: one replica's floats of that chunk of the
 * state and its weight, or after combining the average of all replicas' (replica -1). Under
 * {@link Chunks#OUTCOMES}: a replica's outcome, or after combining all outcomes in replica order.
 *
 * @param replica     the replica, or -1 for a combined piece
 * @param weight      the replica's weight (samples trained this round)
 * @param array       the chunk's array in the state's layout
 * @param owner       the table that array belongs to, -1 for the MLPs ({@link ModelState#find})
 * @param position    its index among the owner's weights or optimiser states
 * @param offset      the chunk's first float in that array
 * @param accumulator whether that array is optimiser state (a running sum)
 * @param values      the chunk's floats, or null under the outcome key
 * @param outcomes    the outcome(s) under the outcome key, else empty
 */
record Piece(int replica, long weight, int array, int owner, int position, int offset, boolean accumulator, float[] values,
             List<ReplicaOutcome> outcomes) implements Serializable {
    /** @return a replica's outcome, to go under {@link Chunks#OUTCOMES} */
    static Piece outcome(ReplicaOutcome o) {
        return new Piece(o.replica(), o.samples(), -1, -1, 0, 0, false, null, List.of(o));
    }
}
