package org.ttrec.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BadRowPolicy;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.CriteoTextReader;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.DatasetOptions;
import org.ttrec.dlrm.data.Datasets;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.data.PreprocessOptions;
import org.ttrec.dlrm.data.Preprocessor;
import org.ttrec.dlrm.data.RowBlock;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.data.SyntheticConfig;
import org.ttrec.dlrm.data.SyntheticCriteo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Data pipeline throughput, in rows per second (one JMH "op" = one row):
 * <ul>
 *   <li>{@code readBytes}: only reading the raw TSV file's bytes (the baseline the parser is compared to);</li>
 *   <li>{@code parseAndMap}: reading + parsing + mapping categorical values through fresh dictionaries,
 *       1 and 2 threads (MB/s = rows/s x the bytes per row printed at setup);</li>
 *   <li>{@code iterateShards} / {@code iterateShardsShuffled}: batches of 2048 from binary shards,
 *       dense transform included;</li>
 *   <li>{@code iterateSyntheticInMemory} / {@code iterateSyntheticOnTheFly}: shuffled batches of 2048 from
 *       the synthetic source (train split of 600k rows), pre-generated or generated per batch.</li>
 * </ul>
 * The input is a synthetic Criteo-shaped TSV of {@code rows} rows written once per trial to a temp folder.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g", "-XX:+UseParallelGC"})
public class DataBenchmark {
    static final int ROWS = 2_000_000;

    /** The raw file and its shards, made once per trial. */
    @State(Scope.Benchmark)
    public static class Files0 {
        Path dir;
        Path tsv;
        Path shards;
        long bytes;
        byte[] readBuf = new byte[4 << 20];
        Dataset shardSet;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            dir = Files.createTempDirectory("ttrec-databench");
            tsv = dir.resolve("synthetic.tsv");
            SyntheticConfig cfg = SyntheticConfig.kaggleScaled(ROWS, 100, 1);
            new SyntheticCriteo(cfg).writeTsv(tsv, org.ttrec.dlrm.data.Progress.Factory.NONE);
            bytes = Files.size(tsv);
            shards = dir.resolve("shards");
            Preprocessor.run(List.of(tsv), shards, PreprocessOptions.defaults().withThreads(2));
            // Opened once, as a trainer does for all its epochs (checksums verified here, not per op).
            shardSet = Datasets.open(shards.toString(), DatasetOptions.defaults());
            System.out.printf("%n[DataBenchmark] %,d rows, %,d bytes raw TSV = %.1f bytes/row%n", ROWS, bytes,
                    (double) bytes / ROWS);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws IOException {
            shardSet.close();
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Parser threads. */
    @State(Scope.Benchmark)
    public static class Threads {
        @Param({"1", "2"})
        public int threads;
    }

    /** Baseline: the file's bytes, read into a reused buffer. */
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public long readBytes(Files0 f) throws IOException {
        long sum = 0;
        try (FileChannel ch = FileChannel.open(f.tsv, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.wrap(f.readBuf);
            int n;
            while ((n = ch.read(b)) >= 0) {
                sum += n + f.readBuf[0];
                b.clear();
            }
        }
        return sum;
    }

    /** Reading + parsing + dictionary mapping, as the first pass of {@code ttrec preprocess}. */
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public long parseAndMap(Files0 f, Threads t) throws IOException {
        Dictionaries dicts = new Dictionaries(26, 0, 1);
        ExecutorService pool = t.threads > 1 ? Executors.newFixedThreadPool(t.threads) : null;
        long rows = 0;
        try (CriteoTextReader r = new CriteoTextReader(f.tsv, t.threads, BadRowPolicy.FAIL, null)) {
            RowBlock b;
            while ((b = r.next()) != null) {
                dicts.addBlock(b, pool, t.threads);
                rows += b.rows;
            }
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
        }
        if (rows != ROWS) {
            throw new IllegalStateException("parsed " + rows + " rows");
        }
        return dicts.feature(2).size();
    }

    private static long iterate(Files0 f, boolean shuffle) throws IOException {
        long sum = 0;
        for (Split s : Split.values()) {
            try (BatchStream st = f.shardSet.batches(s, 2048, shuffle, 1)) {
                Batch b;
                while ((b = st.next()) != null) {
                    sum += b.indices()[0][0] + b.size();
                }
            }
        }
        return sum;
    }

    /** Batches of 2048 from memory-mapped shards, in file order. */
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public long iterateShards(Files0 f) throws IOException {
        return iterate(f, false);
    }

    /** Synthetic sources: pre-generated in memory (the default up to 2M rows) and on the fly. */
    @State(Scope.Benchmark)
    public static class Synth {
        Dataset inMemory;
        Dataset onTheFly;

        @Setup(Level.Trial)
        public void setup() {
            SyntheticCriteo g = new SyntheticCriteo(SyntheticConfig.kaggleScaled(7 * 100_000, 100, 1));
            inMemory = g.inMemoryDataset();
            onTheFly = g.onTheFlyDataset();
        }
    }

    private static long iterate(Dataset d) throws IOException {
        long sum = 0;
        try (BatchStream st = d.batches(Split.TRAIN, 2048, true, 1)) {
            Batch b;
            while ((b = st.next()) != null) {
                sum += b.indices()[0][0] + b.size();
            }
        }
        return sum;
    }

    /** Shuffled batches of 2048 from the synthetic source pre-generated in memory (trainer default). */
    @Benchmark
    @OperationsPerInvocation(600_000)
    public long iterateSyntheticInMemory(Synth s) throws IOException {
        return iterate(s.inMemory);
    }

    /** Shuffled batches of 2048 generated on the fly (larger synthetic sets). */
    @Benchmark
    @OperationsPerInvocation(600_000)
    public long iterateSyntheticOnTheFly(Synth s) throws IOException {
        return iterate(s.onTheFly);
    }

    /** The same with the seeded two-level shuffle. */
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public long iterateShardsShuffled(Files0 f) throws IOException {
        return iterate(f, true);
    }
}
