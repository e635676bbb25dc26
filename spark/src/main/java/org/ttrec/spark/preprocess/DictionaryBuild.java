package org.ttrec.spark.preprocess;

import org.apache.spark.api.java.JavaRDD;
import org.ttrec.dlrm.data.CriteoRowParser;
import org.ttrec.dlrm.data.Dictionaries;
import scala.Tuple2;

import java.io.Serial;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Builds the dictionaries from the first pass's per-partition first appearances, in a Spark job:
 * every (feature, value) is keyed by where it first appears in its partition; merging keeps the
 * earliest position (partitions are in input order) and adds the counts; one task per feature then
 * puts its values in order of that position, which is the order in which a single reader of all
 * files would have met them. With a frequency threshold, values below it are dropped on the
 * executors already: they share bucket 0, so the driver needs only the kept ones.
 */
final class DictionaryBuild {
    private DictionaryBuild() {}

    /** One feature's values in final order, with counts. */
    static final class FeatureValues implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;

        final int feature;
        final int[] values;
        final int[] counts;

        FeatureValues(int feature, int[] values, int[] counts) {
            this.feature = feature;
            this.values = values;
            this.counts = counts;
        }
    }

    /**
     * @param scans       the first pass's results, one per partition
     * @param maxIndRange the modulo the values were taken with, 0 for none
     * @param minCount    the frequency threshold, 1 for none
     * @return finished dictionaries, the same as the single-machine preprocessor's
     */
    static Dictionaries build(JavaRDD<PartitionScan> scans, int maxIndRange, int minCount) {
        final int features = CriteoRowParser.SPARSE;
        // Each partition lists each of its values once, so combining on the map side would only
        // cost a hash map per task.
        List<FeatureValues> perFeature = scans
                .flatMapToPair(DictionaryBuild::firstAppearances)
                .combineByKey(x -> x, FirstSeen::merge, FirstSeen::merge, new FeaturePartitioner(features), false, null)
                .mapPartitionsWithIndex((t, it) -> List.of(inOrder(t, it, minCount)).iterator(), true)
                .collect();
        int[][] values = new int[features][];
        int[][] counts = new int[features][];
        for (FeatureValues f : perFeature) {
            values[f.feature] = f.values;
            counts[f.feature] = f.counts;
        }
        return Dictionaries.fromFirstAppearance(maxIndRange, minCount, values, counts);
    }

    /** @return (feature << 32 | value, where it first appears and how often) for each value of a partition */
    static Iterator<Tuple2<Long, FirstSeen>> firstAppearances(PartitionScan s) {
        final long part = (long) s.summary.partition << 32;
        return new Iterator<>() {
            private int t;
            private int i;

            @Override
            public boolean hasNext() {
                while (t < s.values.length && i >= s.values[t].length) {
                    t++;
                    i = 0;
                }
                return t < s.values.length;
            }

            @Override
            public Tuple2<Long, FirstSeen> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                long key = (long) t << 32 | (s.values[t][i] & 0xffffffffL);
                FirstSeen v = new FirstSeen(part | i, s.counts[t][i]);
                i++;
                return new Tuple2<>(key, v);
            }
        };
    }

    /**
     * @param feature  the feature (the partition's index)
     * @param merged   its values with merged first appearances and counts
     * @param minCount the frequency threshold
     * @return its kept values in order of first appearance
     */
    static FeatureValues inOrder(int feature, Iterator<Tuple2<Long, FirstSeen>> merged, int minCount) {
        long[] first = new long[1024];
        int[] value = new int[1024];
        int[] count = new int[1024];
        int n = 0;
        while (merged.hasNext()) {
            Tuple2<Long, FirstSeen> e = merged.next();
            if (minCount > 1 && e._2().count < minCount) {
                continue;
            }
            if (n == first.length) {
                first = Arrays.copyOf(first, 2 * n);
                value = Arrays.copyOf(value, 2 * n);
                count = Arrays.copyOf(count, 2 * n);
            }
            first[n] = e._2().first;
            value[n] = (int) (long) e._1();
            count[n] = e._2().count;
            n++;
        }
        // Positions are distinct (one value per position), so each value's rank in the sorted
        // positions is its index: a primitive sort and binary searches, no boxed comparator.
        long[] sorted = Arrays.copyOf(first, n);
        Arrays.sort(sorted);
        int[] values = new int[n];
        int[] counts = new int[n];
        for (int k = 0; k < n; k++) {
            int at = Arrays.binarySearch(sorted, first[k]);
            values[at] = value[k];
            counts[at] = count[k];
        }
        return new FeatureValues(feature, values, counts);
    }
}
