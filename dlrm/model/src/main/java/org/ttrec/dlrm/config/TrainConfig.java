package org.ttrec.dlrm.config;

/** How to train: optimiser, learning-rate schedule, batch sizes, length, evaluation, backend. */
public final class TrainConfig {
    /** "sgd" or "adagrad". */
    public String optimizer = "sgd";
    /** Base learning rate. */
    public double lr = 0.1;
    /** Adagrad's epsilon (PyTorch's default 1e-10). */
    public double adagradEps = 1e-10;
    /** dlrm's --lr-num-warmup-steps: linear warm-up length. */
    public long lrWarmupSteps = 0;
    /** dlrm's --lr-decay-start-step. */
    public long lrDecayStartStep = 0;
    /** dlrm's --lr-num-decay-steps: length of the polynomial (power 2) decay; 0 = no decay. */
    public long lrDecaySteps = 0;
    /** Training mini-batch size. */
    public int batchSize = 128;
    /** Evaluation mini-batch size. */
    public int testBatchSize = 4096;
    /** Passes over the training split. */
    public int epochs = 1;
    /** Stop after this many steps (-1: no limit). */
    public long maxSteps = -1;
    /** Evaluate on the validation split every this many steps (0: only at the end). */
    public long evalEvery = 0;
    /** Append a training-loss line to metrics.jsonl every this many steps. */
    public long logEvery = 50;
    /** Write a checkpoint every this many steps (0: at each evaluation and at the end). */
    public long checkpointEvery = 0;
    /** Stop once the validation AUC reaches this (0: never). */
    public double targetAuc = 0;
    /** Seed of initialisation and data order. */
    public long seed = 1;
    /** Backend name ("auto", "cpu", "scalar", ...). */
    public String backend = "auto";
    /** Kernel threads (0: all cores). */
    public int threads = 0;
    /**
     * Threads of a second backend that runs the embedding tables beside the MLP: a batch's
     * lookups run while the bottom MLP computes, and the tables' update while the bottom MLP's
     * backward, the optimiser step and the next bottom MLP forward do; the bits are those of the
     * inline order (0: the tables run on the kernel threads, between the MLP's calls). On 2 cores,
     * threads = 1 with tableThreads = 1 against threads = 2 was faster at batch 128 in one session
     * and slower in another, and slower at batch 2048 (bench/README.md); since the cpu backend's
     * worker pool, threads = 2 is clearly faster at batch 128 too (tt 1+1 at 0.84 and 0.64 of
     * tt at 2 threads, bench/README.md "Kernel threads").
     */
    public int tableThreads = 0;
    /**
     * Divergence guard: training stops when a log window's mean loss exceeds this many times the
     * lowest earlier window mean (and that mean + 1); 0 turns this check off.
     */
    public double divergenceFactor = 4;
    /**
     * Divergence guard: training stops when a log window's mean loss reaches this (a constant
     * prediction of 0.5 scores 0.693; a model stuck at the BCE clamp scores several); 0 turns this
     * check off.
     */
    public double divergenceLoss = 3;
    /** Show a progress bar on stderr. */
    public boolean progress = true;

    /**
     * @throws IllegalArgumentException naming the wrong field
     */
    public void validate() {
        if (!optimizer.equals("sgd") && !optimizer.equals("adagrad")) {
            throw new IllegalArgumentException("train.optimizer must be 'sgd' or 'adagrad', got '" + optimizer + "'");
        }
        if (!(lr >= 0 && lr <= Float.MAX_VALUE)) {
            // the rate is used as a float: 1e39 is finite here but infinite there
            throw new IllegalArgumentException("train.lr (--lr) must lie in [0, " + Float.MAX_VALUE
                    + "] (it is used as a 32-bit float), got " + lr);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("train.batchSize (--batch-size) must be >= 1, got " + batchSize);
        }
        if (testBatchSize < 1) {
            throw new IllegalArgumentException("train.testBatchSize (--test-batch-size) must be >= 1, got " + testBatchSize);
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("train.epochs (--epochs) must be >= 1, got " + epochs
                    + " (a run that trains nothing is refused)");
        }
        if (maxSteps == 0 || maxSteps < -1) {
            throw new IllegalArgumentException("train.maxSteps (--max-steps) must be >= 1, or -1 for no limit, got "
                    + maxSteps + (maxSteps == 0 ? " (a run that trains nothing is refused)" : ""));
        }
        if (!(adagradEps > 0 && adagradEps < 1)) {
            throw new IllegalArgumentException("train.adagradEps must lie in (0, 1), got " + adagradEps);
        }
        if (!(divergenceFactor == 0 || divergenceFactor > 1 && divergenceFactor < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("train.divergenceFactor must be 0 (off) or a finite number > 1, got "
                    + divergenceFactor);
        }
        if (!(divergenceLoss == 0 || divergenceLoss > 0.7 && divergenceLoss < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("train.divergenceLoss must be 0 (off) or a finite number > 0.7 "
                    + "(ln 2 = 0.693 is a coin flip's loss), got " + divergenceLoss);
        }
        if (targetAuc < 0 || targetAuc > 1 || Double.isNaN(targetAuc)) {
            throw new IllegalArgumentException("train.targetAuc (--target-auc) must lie in [0, 1], got " + targetAuc);
        }
        if (lrWarmupSteps < 0 || lrDecayStartStep < 0 || lrDecaySteps < 0) {
            throw new IllegalArgumentException("train: LR schedule steps must be >= 0");
        }
        if (lrDecaySteps > 0 && lrDecayStartStep < lrWarmupSteps) {
            throw new IllegalArgumentException("train: the LR warm-up (" + lrWarmupSteps
                    + " steps) must finish before the decay starts (step " + lrDecayStartStep + ")");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("train.threads must be >= 0, got " + threads);
        }
        if (tableThreads < 0) {
            throw new IllegalArgumentException("train.tableThreads must be >= 0, got " + tableThreads);
        }
        if (evalEvery < 0 || logEvery < 1 || checkpointEvery < 0) {
            throw new IllegalArgumentException("train: evalEvery (--eval-every) and checkpointEvery (--checkpoint-every) "
                    + "must be >= 0, logEvery (--log-every) >= 1; got " + evalEvery + ", " + checkpointEvery + ", " + logEvery);
        }
    }
}
