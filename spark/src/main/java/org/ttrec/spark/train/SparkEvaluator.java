package org.ttrec.spark.train;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.metrics.BinaryMetrics;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Evaluation of a split as a Spark job: the split's batches (of {@code train.testBatchSize},
 * the same batches {@link org.ttrec.dlrm.train.Evaluator} makes) are dealt to tasks in
 * contiguous runs, each task scores its run with the model state, and the driver merges the
 * tasks' metrics in order. The predictions are those of one machine bit for bit, so AUC and
 * accuracy equal {@code Evaluator}'s exactly and the log loss up to the order of its sum.
 */
public final class SparkEvaluator {
    private SparkEvaluator() {}

    /** What each task needs. */
    private record Job(String configJson, ModelState state, Split split, int tasks, int threads) implements Serializable {}

    /**
     * @param sc         the Spark context
     * @param configJson the run configuration as JSON (data adopted)
     * @param state      the model's state
     * @param split      which split
     * @param tasks      Spark tasks to use, >= 1
     * @param threads    kernel threads per task
     * @return the metrics over the whole split
     */
    public static BinaryMetrics.Result evaluate(JavaSparkContext sc, String configJson, ModelState state, Split split,
                                                int tasks, int threads) {
        if (tasks < 1) {
            throw new IllegalArgumentException("evaluation tasks must be >= 1, got " + tasks);
        }
        Broadcast<Job> job = sc.broadcast(new Job(configJson, state, split, tasks, threads));
        try {
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < tasks; i++) {
                ids.add(i);
            }
            List<BinaryMetrics> parts = sc.parallelize(ids, tasks).map(i -> scorePart(job.value(), i)).collect();
            BinaryMetrics all = new BinaryMetrics();
            for (BinaryMetrics p : parts) { // collect() keeps task order
                all.merge(p);
            }
            return all.result();
        } finally {
            job.destroy();
        }
    }

    private static BinaryMetrics scorePart(Job job, int task) throws java.io.IOException {
        BinaryMetrics m = new BinaryMetrics();
        try (ReplicaModel r = ReplicaModel.open(job.configJson(), job.threads(), -1, 1, job.state())) {
            int batch = r.config.train.testBatchSize;
            long batches = (r.data.size(job.split()) + batch - 1) / batch;
            long first = batches * task / job.tasks();
            long end = batches * (task + 1) / job.tasks();
            try (BatchStream s = r.data.batches(job.split(), batch, false, 0)) {
                s.skip(first);
                for (long k = first; k < end; k++) {
                    Batch b = s.next();
                    m.add(r.model.predict(b), b.labels(), b.size());
                }
            }
        }
        return m;
    }
}
