package org.ttrec.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.ttrec.dlrm.data.BadRowPolicy;
import org.ttrec.dlrm.data.DatasetMetadata;
import org.ttrec.dlrm.data.PreprocessOptions;
import org.ttrec.dlrm.data.Progress;
import org.ttrec.dlrm.data.SplitRule;
import org.ttrec.spark.preprocess.SparkPreprocessor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ttrec-spark preprocess}: {@code ttrec preprocess} as Spark jobs ({@link SparkPreprocessor}), the same bytes. */
@Command(name = "preprocess", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Raw Criteo files (Kaggle train.txt, Terabyte day_0..day_23, .gz, the Kaggle CSV) into the shard "
                + "folder ttrec preprocess writes, byte for byte, built by Spark tasks.",
                "Exit codes: 0 done, 2 bad input (a malformed row under --on-bad-row fail names file, line and field)."})
public final class SparkPreprocessCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "INPUT", description = "raw input files, in order (day_0 first)")
    List<String> inputs;
    @Option(names = {"-o", "--output"}, required = true, description = "output folder")
    String output;
    @Option(names = "--master", description = "Spark master URL (default: spark-submit's, else local[*])")
    String master;
    @Option(names = "--partitions", description = "at least this many Spark partitions per input file "
            + "(default: the context's default minimum partitions)")
    Integer partitions;
    @Option(names = "--min-count", defaultValue = "1", description = "values seen fewer times share index 0 (default ${DEFAULT-VALUE} = off)")
    int minCount;
    @Option(names = "--max-ind-range", defaultValue = "0", description = "take raw values modulo this first (0 = off)")
    int maxIndRange;
    @Option(names = "--split", defaultValue = "auto", description = "kaggle, terabyte or auto (by file count)")
    String split;
    @Option(names = "--rows-per-shard", defaultValue = "4194304", description = "rows per shard file")
    long rowsPerShard;
    @Option(names = "--on-bad-row", defaultValue = "fail", description = "fail or skip (count by reason)")
    String onBadRow;

    @Override
    public Integer call() throws Exception {
        BadRowPolicy policy = BadRowPolicy.parse(onBadRow);
        SplitRule rule = SplitRule.parse(split);
        if (partitions != null && partitions < 1) {
            throw new IllegalArgumentException("--partitions must be >= 1, got " + partitions);
        }
        PreprocessOptions o = new PreprocessOptions(1, policy, minCount, maxIndRange, rowsPerShard, rule, stages());
        long t0 = System.nanoTime();
        DatasetMetadata m;
        try (JavaSparkContext sc = SparkMain.context("ttrec-spark preprocess", master)) {
            m = partitions == null ? SparkPreprocessor.run(sc, inputs, output, o)
                    : SparkPreprocessor.run(sc, inputs, output, o, partitions);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "wrote %s: %,d rows in %d shards (%.1f s, %,.0f rows/s)%n", output, m.rows(),
                m.shards().size(), s, m.rows() / Math.max(s, 1e-9));
        for (var e : m.splits().entrySet()) {
            System.out.printf(Locale.ROOT, "  %-10s rows [%d, %d)%n", e.getKey(), e.getValue()[0], e.getValue()[1]);
        }
        if (!m.skipped().isEmpty()) {
            System.out.println("  skipped rows by reason: " + m.skipped());
        }
        return 0;
    }

    /** One line per finished stage: Spark jobs report no byte-level progress to the driver. */
    private static Progress.Factory stages() {
        return (task, totalBytes) -> {
            long t0 = System.nanoTime();
            return new Progress() {
                @Override
                public void update(long bytes, long rows) {}

                @Override
                public void close() {
                    System.out.printf(Locale.ROOT, "%s: %.1f s%n", task, (System.nanoTime() - t0) / 1e9);
                }
            };
        };
    }
}
