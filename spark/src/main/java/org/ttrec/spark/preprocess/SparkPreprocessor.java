package org.ttrec.spark.preprocess;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;
import org.ttrec.dlrm.data.BadRowCounts;
import org.ttrec.dlrm.data.BadRowPolicy;
import org.ttrec.dlrm.data.BadRowReason;
import org.ttrec.dlrm.data.CriteoFormatException;
import org.ttrec.dlrm.data.CriteoRowParser;
import org.ttrec.dlrm.data.CriteoTextFormat;
import org.ttrec.dlrm.data.DatasetMetadata;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.data.PreprocessOptions;
import org.ttrec.dlrm.data.Preprocessor;
import org.ttrec.dlrm.data.Progress;
import org.ttrec.dlrm.data.ShardFormat;
import scala.Tuple2;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * {@code ttrec preprocess} on a Spark cluster: raw Criteo text files -> a folder of shards,
 * dictionaries and metadata that is byte for byte what {@link Preprocessor#run} writes for the
 * same inputs and options, whatever the number of partitions or executors.
 *
 * <p>Inputs and output are Hadoop paths (HDFS, object stores, or local paths such as
 * {@code /tmp/x}, resolved against the default file system as Hadoop resolves them), through
 * Hadoop's client 3.5; with the 3.4 client that Spark 4.1 ships, Java 23 and later reach only file
 * systems that need no Hadoop user, such as the local one (see {@code FileSystems}). Each input is cut into byte ranges ({@code TextSplit}, read as
 * whole lines by {@code LineChunkReader}; a gzip file is one range); its format (separator, id
 * column, header, byte order mark) is detected on the driver from its first line, by the same code
 * as the single-machine reader ({@link CriteoTextFormat}).
 *
 * <ol>
 *   <li>First pass, one job: per partition, count lines, good and skipped rows, note the first bad
 *       row (under {@link BadRowPolicy#FAIL} it is reported, not thrown, so that the driver can
 *       throw the same {@link CriteoFormatException} for the first bad row in file order, with the
 *       same line number and byte offset), and list each feature's distinct values in local first
 *       appearance order with counts.</li>
 *   <li>Dictionaries, one job ({@code DictionaryBuild}): the earliest appearance over partitions in
 *       input order is the single-machine first appearance.</li>
 *   <li>Second pass: re-read the text, map values to final indices, and cut the rows into runs
 *       keyed by global row number that never cross a shard boundary; partition them by shard,
 *       sort, and write one shard per task ({@code ShardAssembly}).</li>
 * </ol>
 *
 * <p>Every file is written under a hidden temporary name and renamed when all shards are complete;
 * {@code metadata.json} comes last. If anything fails, this run's temporary and renamed files are
 * removed (and the folder, if this run created it and it is empty), so no partial output is left
 * under a final name. {@link PreprocessOptions#threads()} does not apply (Spark's cores do), and
 * progress is reported per stage, not continuously.
 */
public final class SparkPreprocessor {
    private static final Logger LOG = Logger.getLogger(SparkPreprocessor.class.getName());

    private SparkPreprocessor() {}

    /**
     * Preprocesses raw files into {@code outDir}, with Spark's default minimum of partitions per
     * file (files are split further at file-system block boundaries).
     *
     * @param sc      the Spark context
     * @param inputs  raw Criteo files in order, as Hadoop path strings (Kaggle: one train.txt;
     *                Terabyte: day_0 .. day_23); recorded in metadata.json as given
     * @param outDir  output folder (created if needed)
     * @param o       options (threads are ignored)
     * @return the metadata written
     * @throws IOException on bad input ({@link CriteoFormatException}), I/O errors or a failed Spark job
     */
    public static DatasetMetadata run(JavaSparkContext sc, List<String> inputs, String outDir, PreprocessOptions o)
            throws IOException {
        return run(sc, inputs, outDir, o, sc.defaultMinPartitions());
    }

    /**
     * Preprocesses raw files into {@code outDir}.
     *
     * @param sc                   the Spark context
     * @param inputs               raw Criteo files in order, as Hadoop path strings
     * @param outDir               output folder (created if needed)
     * @param o                    options (threads are ignored)
     * @param minPartitionsPerFile split each uncompressed file into at least this many partitions
     * @return the metadata written
     * @throws IOException on bad input ({@link CriteoFormatException}), I/O errors or a failed Spark job
     */
    public static DatasetMetadata run(JavaSparkContext sc, List<String> inputs, String outDir, PreprocessOptions o,
                                      int minPartitionsPerFile) throws IOException {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("no input files");
        }
        if (minPartitionsPerFile < 1) {
            throw new IllegalArgumentException("partitions per file must be >= 1, got " + minPartitionsPerFile);
        }
        Configuration conf = sc.hadoopConfiguration();
        HadoopConf hconf = new HadoopConf(conf);
        int files = inputs.size();
        String[] names = inputs.toArray(new String[0]);
        CriteoTextFormat[] formats = new CriteoTextFormat[files];
        long totalBytes = 0;
        for (int f = 0; f < files; f++) {
            // all inputs are checked before any work, as the single-machine preprocessor does
            Path p = new Path(names[f]);
            FileSystem fs = FileSystems.of(p, conf);
            totalBytes += HadoopFiles.inputFile(fs, p, names[f]).getLen();
        }
        int[] partitions = new int[files];
        List<Tuple2<TextSplit, Seq<String>>> splits = new ArrayList<>();
        for (int f = 0; f < files; f++) {
            Path p = new Path(names[f]);
            FileSystem fs = FileSystems.of(p, conf);
            byte[] head = HadoopFiles.firstLine(fs, p, names[f]);
            formats[f] = CriteoTextFormat.detect(head, head.length);
            for (TextSplit s : TextSplit.of(f, names[f], fs, fs.getFileStatus(p), HadoopFiles.isGzip(fs, p),
                    minPartitionsPerFile)) {
                splits.add(new Tuple2<>(s, CollectionConverters.asScala(List.of(s.hosts)).toSeq()));
                partitions[f]++;
            }
        }
        // One split per partition, in input order: partition g is the same byte range of the same
        // file in both passes, and its hosts are where Spark prefers to run it.
        ClassTag<TextSplit> tag = ClassTag$.MODULE$.apply(TextSplit.class);
        JavaRDD<TextSplit> text = JavaRDD.fromRDD(sc.sc().makeRDD(CollectionConverters.asScala(splits).toSeq(), tag), tag);
        InputPlan plan = new InputPlan(names, formats, partitions);
        final BadRowPolicy policy = o.badRows();
        final int maxIndRange = o.maxIndRange();

        JavaRDD<PartitionScan> scans = text.mapPartitionsWithIndex((g, split) -> List.of(PartitionScanner.scan(g,
                        TextSplit.only(g, split), plan, hconf, policy, maxIndRange)).iterator(), true)
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
        Tally tally;
        Dictionaries dicts;
        try {
            List<PartitionSummary> summaries;
            try (Progress bar = o.progress().start("spark: parse", totalBytes)) {
                summaries = spark("parsing", () -> scans.map(s -> s.summary).collect());
                tally = new Tally(plan, summaries);
                bar.update(totalBytes, tally.total);
            }
            Preprocessor.checkNotEmpty(inputs, tally.fileRows, tally.skipped, o.splitRule());
            if (tally.skipped.total() > 0) {
                LOG.warning(tally.skipped.toString());
            }
            try (Progress bar = o.progress().start("spark: dictionaries", totalBytes)) {
                dicts = spark("building dictionaries", () -> DictionaryBuild.build(scans, maxIndRange, o.minCount()));
                bar.update(totalBytes, tally.total);
            }
        } finally {
            scans.unpersist(false);
        }
        return write(text, plan, tally, dicts, outDir, hconf, o);
    }

    /** Second pass and output: shards, dictionaries, metadata, all or nothing under final names. */
    private static DatasetMetadata write(JavaRDD<TextSplit> text, InputPlan plan, Tally tally, Dictionaries dicts,
                                         String outDir, HadoopConf hconf, PreprocessOptions o) throws IOException {
        Path out = new Path(outDir);
        FileSystem fs = FileSystems.of(out, hconf.get());
        boolean created = !fs.exists(out);
        fs.mkdirs(out);
        String run = UUID.randomUUID().toString().replace("-", "");
        List<Path> committed = new ArrayList<>();
        try {
            Path dictFinal = new Path(out, ShardFormat.DICTIONARIES);
            // Written first under its temporary name: the second pass's tasks read it from there.
            Path dictTmp = HadoopFiles.write(fs, HadoopFiles.temporary(dictFinal, run, ""), dicts::writeTo);
            final String dictPath = dictTmp.toString();
            final long rowsPerShard = o.rowsPerShard();
            final int shards = (int) Math.min(Integer.MAX_VALUE, Math.ceilDiv(tally.total, rowsPerShard));
            if (shards == Integer.MAX_VALUE) {
                throw new IllegalArgumentException(tally.total + " rows need more than 2^31 shards of " + rowsPerShard);
            }
            final BadRowPolicy policy = o.badRows();
            final long[] firstRow = tally.firstRow;
            final long[] rows = tally.rows;
            JavaPairRDD<Long, byte[]> runs = JavaPairRDD.fromJavaRDD(text.mapPartitionsWithIndex(
                    (g, split) -> RowMapper.open(g, TextSplit.only(g, split), plan, hconf, policy, dictPath, firstRow[g],
                            rows[g], rowsPerShard), true));
            JavaPairRDD<Long, byte[]> sorted = runs.repartitionAndSortWithinPartitions(
                    new ShardPartitioner(shards, rowsPerShard));
            int[] card = dicts.cardinalities();
            List<String> temporaries;
            ShardAssembly.ShardSum[] sums;
            long payload = tally.total * ShardFormat.rowBytes(CriteoRowParser.DENSE, card.length);
            try (Progress bar = o.progress().start("spark: map rows", payload)) {
                sums = spark("mapping rows", () -> ShardAssembly.checksums(sorted, rowsPerShard))
                        .toArray(new ShardAssembly.ShardSum[0]);
                bar.update(payload, tally.total);
            }
            for (int k = 0; k < shards; k++) {
                long expected = Math.min(rowsPerShard, tally.total - k * rowsPerShard);
                if (sums[k].shard != k || sums[k].rows != expected) {
                    throw new IllegalStateException("shard " + k + " has " + sums[k].rows + " rows, expected " + expected);
                }
            }
            try (Progress bar = o.progress().start("spark: write shards", payload)) {
                ShardAssembly.ShardSum[] checked = sums;
                temporaries = spark("writing shards",
                        () -> ShardAssembly.write(sorted, outDir, run, hconf, card, checked, rowsPerShard));
                bar.update(payload, tally.total);
            }
            // A folder without metadata.json is incomplete (ShardFormat): an old one must not describe
            // a mix of old and new files while they are renamed into place.
            Path metaFinal = new Path(out, ShardFormat.METADATA);
            committed.add(metaFinal);
            fs.delete(metaFinal, false);
            List<DatasetMetadata.Entry> entries = new ArrayList<>();
            for (int k = 0; k < shards; k++) {
                Path target = new Path(out, ShardFormat.shardName(k));
                HadoopFiles.commit(fs, new Path(temporaries.get(k)), target);
                committed.add(target);
                entries.add(new DatasetMetadata.Entry(target.getName(), sums[k].rows));
            }
            HadoopFiles.commit(fs, dictTmp, dictFinal);
            committed.add(dictFinal);
            DatasetMetadata meta = DatasetMetadata.of(plan.names(), tally.fileRows, tally.skipped, card, entries, o);
            HadoopFiles.writeAtomically(fs, metaFinal, run, meta::writeTo);
            try {
                HadoopFiles.removeTemporaries(fs, out, run); // of task attempts that lost to a faster one
            } catch (IOException e) {
                LOG.warning("could not remove temporary files of run " + run + " in " + out + ": " + e);
            }
            return meta;
        } catch (IOException | RuntimeException e) {
            abandon(fs, out, run, committed, created, e);
            throw e;
        }
    }

    /** Removes what a failed run wrote: its temporaries, its renamed files, and a folder it created. */
    private static void abandon(FileSystem fs, Path out, String run, List<Path> committed, boolean created, Exception e) {
        try {
            for (Path p : committed) {
                fs.delete(p, false);
            }
            HadoopFiles.removeTemporaries(fs, out, run);
            if (created && fs.listStatus(out).length == 0) {
                fs.delete(out, false);
            }
        } catch (IOException | RuntimeException x) {
            e.addSuppressed(x);
        }
    }

    /** A driver-side step that runs Spark jobs. */
    @FunctionalInterface
    private interface SparkStep<T> {
        T run() throws Exception;
    }

    /**
     * Runs Spark jobs, turning a failed job into an IOException that says what failed: the task's
     * own I/O error where there is one (a corrupt gzip file, an unreachable file system), else
     * Spark's report. Spark's exceptions are checked but undeclared (Scala), hence the catch-all.
     */
    private static <T> T spark(String what, SparkStep<T> step) throws IOException {
        try {
            return step.run();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof IOException io) {
                    throw new IOException(io.getMessage(), e);
                }
            }
            throw new IOException(what + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * The first pass's counts added up in input order: rows per file and per partition, where each
     * partition's rows start globally, skipped rows; and the first failure in file order, thrown.
     */
    private static final class Tally {
        final long[] fileRows;
        final long[] firstRow;
        final long[] rows;
        final BadRowCounts skipped = new BadRowCounts();
        long total;

        Tally(InputPlan plan, List<PartitionSummary> summaries) throws CriteoFormatException {
            int n = plan.partitions();
            if (summaries.size() != n) {
                throw new IllegalStateException(summaries.size() + " partition summaries for " + n + " partitions");
            }
            fileRows = new long[plan.files()];
            firstRow = new long[n];
            rows = new long[n];
            long linesBefore = 0;
            long lastByte = -1;
            for (int g = 0; g < n; g++) {
                PartitionSummary s = summaries.get(g);
                int f = plan.fileOf(g);
                if (s.partition != g) {
                    throw new IllegalStateException("partition " + g + " came back as " + s.partition);
                }
                if (g == plan.firstPartition(f)) {
                    linesBefore = 0;
                    lastByte = -1;
                }
                if (s.failure != null) {
                    // the first failing partition in input order holds the first bad line
                    throw s.failure.toException(plan.name(f), plan.format(f).firstLine() + linesBefore);
                }
                if (s.firstByte >= 0) {
                    if (s.firstByte <= lastByte) {
                        throw new IllegalStateException(plan.name(f) + ": partition " + g + " starts at byte "
                                + s.firstByte + ", not after the one before (" + lastByte + ")");
                    }
                    lastByte = s.firstByte;
                }
                linesBefore += s.lines;
                firstRow[g] = total;
                rows[g] = s.rows;
                total += s.rows;
                fileRows[f] += s.rows;
                for (BadRowReason r : BadRowReason.values()) {
                    skipped.add(r, s.skipped[r.ordinal()]);
                }
            }
        }
    }
}
