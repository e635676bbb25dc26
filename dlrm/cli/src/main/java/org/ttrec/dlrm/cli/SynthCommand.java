package org.ttrec.dlrm.cli;

import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.data.SyntheticConfig;
import org.ttrec.dlrm.data.SyntheticCriteo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ttrec synth}: writes seeded synthetic Criteo-shaped data with a hidden teacher model. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write synthetic Criteo-shaped data (13 dense, 26 Zipf-skewed categorical features, labels from",
            "a hidden seeded teacher) as raw TSV (readable by facebookresearch/dlrm) or ttrec shards.",
            "Prints the teacher's AUC, the ceiling a trained model can reach."})
final class SynthCommand implements Callable<Integer> {

    @Option(names = {"-o", "--output"}, required = true, description = "Output: a .tsv/.txt file, or a folder for shards.")
    Path output;

    @Option(names = "--format", defaultValue = "tsv", description = "tsv or shards.")
    String format;

    @Option(names = "--rows", defaultValue = "1000000", description = "Rows in all (6/7 train, then test and validation halves).")
    long rows;

    @Option(names = "--scale-down", defaultValue = "1000",
            description = "Divide Kaggle's table sizes by this (min 2 rows each; default ${DEFAULT-VALUE}).")
    double scaleDown;

    @Option(names = "--zipf", defaultValue = "1.05", description = "Zipf exponent of categorical values.")
    double zipf;

    @Option(names = "--seed", defaultValue = "1", description = "Seed.")
    long seed;

    @Option(names = "--teacher-auc", defaultValue = "0.8", description = "AUC the teacher is calibrated to.")
    double teacherAuc;

    @Option(names = "--ctr", defaultValue = "0.25", description = "Mean click rate.")
    double ctr;

    @Option(names = "--rows-per-shard", defaultValue = "4194304", description = "Rows per shard (shards format).")
    long rowsPerShard;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        SyntheticConfig c = SyntheticConfig.kaggleScaled(rows, scaleDown, seed).withZipf(zipf).withTeacher(teacherAuc, ctr);
        SyntheticCriteo gen = new SyntheticCriteo(c);
        switch (format.toLowerCase(java.util.Locale.ROOT)) {
            case "tsv" -> gen.writeTsv(output, ConsoleProgress.factory(!noProgress));
            case "shards" -> gen.writeShards(output, rowsPerShard, ConsoleProgress.factory(!noProgress));
            default -> throw new IllegalArgumentException("--format must be tsv or shards, got '" + format + "'");
        }
        long n = 200_000;
        System.out.printf("wrote %s (%s): %,d rows, cardinalities %s%n", output, format, rows,
                java.util.Arrays.toString(c.cardinalities()));
        System.out.printf("teacher AUC (ceiling): validation %.4f, test %.4f; CTR %.3f (up to %,d rows of each split)%n",
                gen.teacherAuc(Split.VALIDATION, n), gen.teacherAuc(Split.TEST, n), gen.ctr(Split.VALIDATION, n), n);
        return 0;
    }
}
