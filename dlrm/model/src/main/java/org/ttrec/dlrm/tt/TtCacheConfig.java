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
 * materialised from the cores, evicted rows fall back to their (untrained while cached) TT value.
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

    /** @return the number of cache rows for a table of N rows */
    public int capacity(int rows) {
        long c = capacityRows > 0 ? capacityRows : (long) Math.floor(capacityFraction * rows);
        return (int) Math.min(c, rows);
    }
}
