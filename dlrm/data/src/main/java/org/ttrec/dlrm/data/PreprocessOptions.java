package org.ttrec.dlrm.data;

/**
 * Options of {@link Preprocessor} and of raw-file {@link Dataset}s.
 *
 * @param threads      parser (and mapper) threads, >= 1
 * @param badRows      what to do with malformed rows
 * @param minCount     values seen fewer times share bucket 0; 1 = off
 * @param maxIndRange  take raw values modulo this first; 0 = off
 * @param rowsPerShard rows per shard file
 * @param splitRule    how rows are split
 * @param progress     where long passes report their progress ({@link Progress.Factory#NONE}: nowhere)
 */
public record PreprocessOptions(int threads, BadRowPolicy badRows, int minCount, int maxIndRange, long rowsPerShard,
                                SplitRule splitRule, Progress.Factory progress) {
    /** Validates. */
    public PreprocessOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (minCount < 1) {
            throw new IllegalArgumentException("min-count must be >= 1, got " + minCount);
        }
        if (maxIndRange < 0) {
            throw new IllegalArgumentException("max-ind-range must be >= 0 (0 = off), got " + maxIndRange);
        }
        if (rowsPerShard < 1) {
            throw new IllegalArgumentException("rows per shard must be >= 1, got " + rowsPerShard);
        }
        if (badRows == null || splitRule == null || progress == null) {
            throw new IllegalArgumentException("bad-row policy, split rule and progress must be given");
        }
    }

    /** @return defaults: 1 thread, fail on bad rows, no threshold, no modulo, 4M rows per shard, auto split, no progress */
    public static PreprocessOptions defaults() {
        return new PreprocessOptions(1, BadRowPolicy.FAIL, 1, 0, 1 << 22, SplitRule.AUTO, Progress.Factory.NONE);
    }

    /** @return a copy with the given thread count */
    public PreprocessOptions withThreads(int t) {
        return new PreprocessOptions(t, badRows, minCount, maxIndRange, rowsPerShard, splitRule, progress);
    }

    /** @return a copy with the given bad-row policy */
    public PreprocessOptions withBadRows(BadRowPolicy p) {
        return new PreprocessOptions(threads, p, minCount, maxIndRange, rowsPerShard, splitRule, progress);
    }

    /** @return a copy with the given threshold and modulo */
    public PreprocessOptions withMapping(int minCount, int maxIndRange) {
        return new PreprocessOptions(threads, badRows, minCount, maxIndRange, rowsPerShard, splitRule, progress);
    }

    /** @return a copy with the given shard size */
    public PreprocessOptions withRowsPerShard(long r) {
        return new PreprocessOptions(threads, badRows, minCount, maxIndRange, r, splitRule, progress);
    }

    /** @return a copy with the given split rule */
    public PreprocessOptions withSplitRule(SplitRule s) {
        return new PreprocessOptions(threads, badRows, minCount, maxIndRange, rowsPerShard, s, progress);
    }

    /** @return a copy that reports progress to {@code p} */
    public PreprocessOptions withProgress(Progress.Factory p) {
        return new PreprocessOptions(threads, badRows, minCount, maxIndRange, rowsPerShard, splitRule, p);
    }
}
