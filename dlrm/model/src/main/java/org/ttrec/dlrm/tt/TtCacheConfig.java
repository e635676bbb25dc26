package org.ttrec.dlrm.tt;

/**
 * Settings of a TT table's hot-row cache (docs/tt-cache.md). The cache is off unless
 * {@link #enabled()}.
 *
 * <p>Semantics: during the first {@code warmupBatches} training batches (calls of backward) the
 * layer counts how often each row is looked up. After the last warm-up batch it populates the
 * cache with the most frequent rows (ties: smaller row id first), materialised from the cores, so
 * a cached row's value right after populate equals its TT value. From then on lookups of cached
 * rows read the cache, and their gradients update only the cache rows (the cores get none from
 * them). When {@code refreshEvery > 0}, the counts of the last {@code refreshEvery} batches pick
 * the rows again: rows that stay keep their learned values and optimiser state, new rows are
 * materialised from the cores, and evicted rows fall back to the value the cores give them now:
 * nothing the cache learned is written back. (That TT value is not the one the row had when it was
 * cached: the row sent the cores no gradient while cached, but the cores it shares with other rows
 * kept training.)
 *
 * @param capacityRows  number of rows kept uncompressed (used when > 0)
 * @param capacityFraction fraction of N kept uncompressed (used when capacityRows == 0)
 * @param warmupBatches training batches counted before the first populate (>= 1)
 * @param refreshEvery  batches between refreshes after the first populate; 0 = never refresh
 */
public record TtCacheConfig(int capacityRows, double capacityFraction, int warmupBatches, int refreshEvery) {

    /** No cache. */
    public static final TtCacheConfig OFF = new TtCacheConfig(0, 0, 1, 0);

    /** Validates. */
    public TtCacheConfig {
        if (capacityRows < 0) {
            throw new IllegalArgumentException("cache capacity must be >= 0 rows, got " + capacityRows);
        }
        if (!(capacityFraction >= 0 && capacityFraction <= 1)) {
            throw new IllegalArgumentException("cache fraction must lie in [0, 1], got " + capacityFraction);
        }
        if (warmupBatches < 1) {
            throw new IllegalArgumentException("cache warm-up must be >= 1 batch, got " + warmupBatches);
        }
        if (refreshEvery < 0) {
            throw new IllegalArgumentException("cache refresh interval must be >= 0 batches, got " + refreshEvery);
        }
    }

    /** @return a cache of {@code rows} rows */
    public static TtCacheConfig rows(int rows, int warmupBatches, int refreshEvery) {
        return new TtCacheConfig(rows, 0, warmupBatches, refreshEvery);
    }

    /** @return a cache of {@code fraction * N} rows */
    public static TtCacheConfig fraction(double fraction, int warmupBatches, int refreshEvery) {
        return new TtCacheConfig(0, fraction, warmupBatches, refreshEvery);
    }

    /** @return whether a cache is configured */
    public boolean enabled() {
        return capacityRows > 0 || capacityFraction > 0;
    }

    /** @return the number of cache rows for a table of N rows: {@link #rowsOf}, or capacityRows, at most N */
    public int capacity(int rows) {
        return capacityRows > 0 ? Math.min(capacityRows, rows) : rowsOf(capacityFraction, rows);
    }

    /**
     * The one rule that turns a cache fraction into rows, for this class and for the model's
     * {@code model.tt.cacheFraction} alike: round(fraction * N), at most N.
     *
     * @param fraction a fraction in [0, 1]
     * @param rows     the table's rows N
     * @return the cache rows
     */
    public static int rowsOf(double fraction, int rows) {
        return (int) Math.min(rows, Math.round(fraction * rows));
    }
}
