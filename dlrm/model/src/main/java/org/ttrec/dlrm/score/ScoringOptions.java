package org.ttrec.dlrm.score;

import java.nio.file.Path;

/**
 * How {@link ScoringModel#load} loads a model.
 *
 * @param backend            compute backend of every replica: "auto" (the best available, never a
 *                           GPU backend) or a name such as "cpu" or "scalar"
 * @param threadsPerReplica  kernel threads of each replica's backend; 1 (the default) is right for a
 *                           service whose parallelism comes from concurrent calls, and gives the bits
 *                           of the trainer's evaluation on the cpu backend with one thread
 * @param best               for a run folder: load {@code best.ttrec} (best validation AUC) instead of
 *                           the newest checkpoint
 * @param dictionaries       a dictionaries file ({@code .ttrd}) to use instead of the model's own, or
 *                           null to use the model file's, the run folder's or the data folder's
 * @param unseen             what raw values the dictionaries never saw become
 */
public record ScoringOptions(String backend, int threadsPerReplica, boolean best, Path dictionaries,
                             UnseenPolicy unseen) {
    /** Checks the fields. */
    public ScoringOptions {
        if (backend == null || backend.isBlank()) {
            throw new IllegalArgumentException("backend must be named (or \"auto\")");
        }
        if (threadsPerReplica < 1) {
            throw new IllegalArgumentException("threadsPerReplica must be >= 1, got " + threadsPerReplica);
        }
        if (unseen == null) {
            throw new IllegalArgumentException("unseen policy must be given");
        }
    }

    /** @return the defaults: backend auto, one thread per replica, the newest checkpoint, the model's dictionaries, unseen values to the rare bucket or an empty bag */
    public static ScoringOptions defaults() {
        return new ScoringOptions("auto", 1, false, null, UnseenPolicy.RARE_BUCKET_OR_EMPTY_BAG);
    }

    /**
     * @param name backend name
     * @return these options with that backend
     */
    public ScoringOptions withBackend(String name) {
        return new ScoringOptions(name, threadsPerReplica, best, dictionaries, unseen);
    }

    /**
     * @param threads kernel threads per replica
     * @return these options with that count
     */
    public ScoringOptions withThreadsPerReplica(int threads) {
        return new ScoringOptions(backend, threads, best, dictionaries, unseen);
    }

    /**
     * @param useBest whether a run folder stands for its best checkpoint
     * @return these options with that choice
     */
    public ScoringOptions withBest(boolean useBest) {
        return new ScoringOptions(backend, threadsPerReplica, useBest, dictionaries, unseen);
    }

    /**
     * @param file a dictionaries file, or null
     * @return these options with those dictionaries
     */
    public ScoringOptions withDictionaries(Path file) {
        return new ScoringOptions(backend, threadsPerReplica, best, file, unseen);
    }

    /**
     * @param policy what unseen raw values become
     * @return these options with that policy
     */
    public ScoringOptions withUnseen(UnseenPolicy policy) {
        return new ScoringOptions(backend, threadsPerReplica, best, dictionaries, policy);
    }
}
