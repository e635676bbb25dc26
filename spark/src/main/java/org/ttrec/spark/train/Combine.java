package org.ttrec.spark.train;

/** How the replicas' arrays of one kind (weights, or optimiser state) become the combined one. */
public enum Combine {
    /**
     * The mean of the replicas' values, each replica weighted by the samples it trained on: model
     * averaging (local SGD). With plain SGD and one step per round it is synchronous SGD on batches
     * R times larger at the same learning rate, so it moves about 1/R as far per sample.
     */
    AVERAGE,
    /**
     * The round's start value plus every replica's change: each replica's progress counts in full,
     * as if its steps had followed the others' (for optimiser state, a running sum over gradients,
     * it counts every gradient once, as one machine's accumulator would).
     */
    SUM;

    /** @return the name the CLI takes */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
