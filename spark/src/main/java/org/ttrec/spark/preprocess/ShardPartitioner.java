package org.ttrec.spark.preprocess;

import org.apache.spark.Partitioner;

/**
 * Sends a run of rows, keyed by its first global row number, to the partition of its shard:
 * shard k holds rows {@code [k * rowsPerShard, (k + 1) * rowsPerShard)}. Runs never cross a shard
 * boundary, so their first row decides.
 */
final class ShardPartitioner extends Partitioner {
    private final int shards;
    private final long rowsPerShard;

    /**
     * @param shards       number of shards (one partition each)
     * @param rowsPerShard rows per shard
     */
    ShardPartitioner(int shards, long rowsPerShard) {
        this.shards = shards;
        this.rowsPerShard = rowsPerShard;
    }

    @Override
    public int numPartitions() {
        return shards;
    }

    @Override
    public int getPartition(Object key) {
        return (int) ((Long) key / rowsPerShard);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardPartitioner s && s.shards == shards && s.rowsPerShard == rowsPerShard;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(31L * shards + rowsPerShard);
    }
}
