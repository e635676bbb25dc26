package org.ttrec.spark.preprocess;

import org.apache.spark.Partitioner;

/**
 * Sends each (feature, value) key, {@code feature << 32 | value}, to the partition of its
 * feature, so that one task sees all values of one feature and can put them in order.
 */
final class FeaturePartitioner extends Partitioner {
    private final int features;

    /** @param features categorical features (one partition each) */
    FeaturePartitioner(int features) {
        this.features = features;
    }

    @Override
    public int numPartitions() {
        return features;
    }

    @Override
    public int getPartition(Object key) {
        return (int) ((Long) key >>> 32);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FeaturePartitioner f && f.features == features;
    }

    @Override
    public int hashCode() {
        return features;
    }
}
