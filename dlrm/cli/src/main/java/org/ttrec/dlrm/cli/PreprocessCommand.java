package org.ttrec.dlrm.cli;

import org.ttrec.dlrm.data.BadRowPolicy;
import org.ttrec.dlrm.data.DatasetMetadata;
import org.ttrec.dlrm.data.PreprocessOptions;
import org.ttrec.dlrm.data.Preprocessor;
import org.ttrec.dlrm.data.SplitRule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code ttrec preprocess}: raw Criteo text -> binary shards, dictionaries, metadata. */
@Command(name = "preprocess", mixinStandardHelpOptions = true,
        description = {"Turn raw Criteo files (Kaggle train.txt, Terabyte day_0..day_23, .gz, or the Kaggle CSV) into",
            "memory-mappable ttrec shards with per-feature dictionaries and dlrm's train/test/validation split.",
            "Streams: memory holds the dictionaries and a few chunks, never a whole file."})
final class PreprocessCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "INPUT", description = "Raw input files, in order (day_0 first).")
    List<Path> inputs;

    @Option(names = {"-o", "--output"}, required = true, description = "Output folder.")
    Path output;

    @Option(names = "--threads", defaultValue = "0", description = "Parser threads (0 = all cores).")
    int threads;

    @Option(names = "--min-count", defaultValue = "1",
            description = "Values seen fewer times share index 0 (default ${DEFAULT-VALUE} = off).")
    int minCount;

    @Option(names = "--max-ind-range", defaultValue = "0",
            description = "Take raw values modulo this first (e.g. 10000000 for Terabyte; 0 = off).")
    int maxIndRange;

    @Option(names = "--split", defaultValue = "auto",
            description = "kaggle (7 days of one file), terabyte (last file = test/val) or auto (by file count).")
    String split;

    @Option(names = "--rows-per-shard", defaultValue = "4194304", description = "Rows per shard file.")
    long rowsPerShard;

    @Option(names = "--on-bad-row", defaultValue = "fail",
            description = "fail (stop at the first malformed row, naming file, line and field) or skip (count by reason).")
    String onBadRow;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        PreprocessOptions o = new PreprocessOptions(t, BadRowPolicy.parse(onBadRow), minCount, maxIndRange, rowsPerShard,
                SplitRule.parse(split), ConsoleProgress.factory(!noProgress));
        long t0 = System.nanoTime();
        DatasetMetadata m = Preprocessor.run(inputs, output, o);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("wrote %s: %,d rows in %d shards (%.1f s, %,.0f rows/s)%n", output, m.rows(),
                m.shards().size(), s, m.rows() / Math.max(s, 1e-9));
        for (var e : m.splits().entrySet()) {
            System.out.printf("  %-10s rows [%d, %d)%n", e.getKey(), e.getValue()[0], e.getValue()[1]);
        }
        long emb = 0;
        for (int c : m.cardinalities()) {
            emb += c;
        }
        System.out.printf("  cardinalities (%,d rows in all): %s%n", emb, java.util.Arrays.toString(m.cardinalities()));
        if (!m.skipped().isEmpty()) {
            System.out.println("  skipped rows by reason: " + m.skipped());
        }
        return 0;
    }
}
