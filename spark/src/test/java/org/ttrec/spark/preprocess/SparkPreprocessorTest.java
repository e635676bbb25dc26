package org.ttrec.spark.preprocess;

import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.ttrec.dlrm.data.BadRowPolicy;
import org.ttrec.dlrm.data.BadRowReason;
import org.ttrec.dlrm.data.CriteoFormatException;
import org.ttrec.dlrm.data.DatasetMetadata;
import org.ttrec.dlrm.data.PreprocessOptions;
import org.ttrec.dlrm.data.Preprocessor;
import org.ttrec.dlrm.data.SplitRule;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ttrec.spark.preprocess.Folders.CSV;
import static org.ttrec.spark.preprocess.Folders.TSV;
import static org.ttrec.spark.preprocess.Folders.assertSameFolder;
import static org.ttrec.spark.preprocess.Folders.bothAndCompare;
import static org.ttrec.spark.preprocess.Folders.sample;
import static org.ttrec.spark.preprocess.Folders.strings;

/**
 * The distributed preprocessor against {@link Preprocessor#run} on the real Criteo samples and on
 * hand-made edge cases: every output file byte-identical, every refusal the same.
 */
class SparkPreprocessorTest {
    private static final PreprocessOptions OPT = PreprocessOptions.defaults();
    private static JavaSparkContext sc;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        sc = Folders.localSpark("SparkPreprocessorTest");
    }

    @AfterAll
    static void stop() {
        sc.close();
    }

    /** @return how many partitions the preprocessor reads {@code file} in */
    private static int partitions(Path file, int minPartitions) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(file.toString());
        FileSystem fs = FileSystems.of(p, sc.hadoopConfiguration());
        return TextSplit.of(0, file.toString(), fs, fs.getFileStatus(p), HadoopFiles.isGzip(fs, p), minPartitions).size();
    }

    @Test
    void realTsvSample() throws IOException {
        Path tsv = sample(TSV, tmp);
        assertEquals(7, partitions(tsv, 7));
        // 7 partitions of ~3.4 KB cut lines; shards of 30 rows end inside partitions
        DatasetMetadata m = bothAndCompare(sc, List.of(tsv), tmp.resolve("a"), OPT.withRowsPerShard(30), 7);
        assertEquals(100, m.rows());
        assertEquals(4, m.shards().size());
        bothAndCompare(sc, List.of(tsv), tmp.resolve("b"), OPT.withRowsPerShard(30).withMapping(2, 1000), 7);
        bothAndCompare(sc, List.of(tsv), tmp.resolve("c"), OPT, 1);
        // the comparison is not vacuous: other options, other bytes
        assertThrows(AssertionFailedError.class, () -> assertSameFolder(tmp.resolve("a/single"), tmp.resolve("b/spark")));
        // a second run into the same folder replaces the files
        SparkPreprocessor.run(sc, List.of(tsv.toString()), tmp.resolve("b/spark").toString(), OPT.withRowsPerShard(30), 3);
        assertSameFolder(tmp.resolve("a/single"), tmp.resolve("b/spark"));
    }

    @Test
    void kaggleCsvWithHeaderAndCrlf() throws IOException {
        Path csv = sample(CSV, tmp);
        DatasetMetadata m = bothAndCompare(sc, List.of(csv), tmp.resolve("a"), OPT.withRowsPerShard(300), 5);
        assertEquals(1999, m.rows());
        assertEquals(7, m.shards().size());
        assertEquals("kaggle", m.splitRule());
        bothAndCompare(sc, List.of(csv), tmp.resolve("b"), OPT.withRowsPerShard(256).withMapping(3, 5000), 9);
    }

    @Test
    void byteOrderMarkBeforeHeaderOrData() throws IOException {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        Path csv = tmp.resolve("bom.csv");
        Files.write(csv, concat(bom, Files.readAllBytes(sample(CSV, tmp))));
        bothAndCompare(sc, List.of(csv), tmp.resolve("a"), OPT.withRowsPerShard(500), 4);
        Path tsv = tmp.resolve("bom.tsv");
        Files.write(tsv, concat(bom, Files.readAllBytes(sample(TSV, tmp))));
        bothAndCompare(sc, List.of(tsv), tmp.resolve("b"), OPT.withRowsPerShard(40), 3);
    }

    @Test
    void severalFilesGzipAndMixedFormats() throws IOException {
        Path tsv = sample(TSV, tmp);
        Path csv = sample(CSV, tmp);
        Path gz = tmp.resolve("day_0.gz");
        gzip(tsv, gz);
        Path gzNoSuffix = tmp.resolve("day_1"); // gzip is told by its magic bytes, not its name
        gzip(csv, gzNoSuffix);
        Path plain = tmp.resolve("day_2");
        Files.copy(tsv, plain);
        List<Path> days = List.of(gz, gzNoSuffix, plain);
        assertEquals(1, partitions(gz, 4));
        DatasetMetadata m = bothAndCompare(sc, days, tmp.resolve("a"), OPT.withRowsPerShard(64), 4);
        assertEquals("terabyte", m.splitRule());
        assertEquals(List.of(100L, 1999L, 100L), m.sources().stream().map(DatasetMetadata.Entry::rows).toList());
        bothAndCompare(sc, days, tmp.resolve("b"), OPT.withRowsPerShard(500).withMapping(2, 0), 2);
        // file order decides first appearances
        bothAndCompare(sc, List.of(plain, gzNoSuffix), tmp.resolve("c"), OPT.withRowsPerShard(700), 3);
    }

    /**
     * The TSV sample with bad rows of every kind put in; the i-th lands at line index {@code at[i]}
     * (0-based, ascending) of the result.
     */
    private Path withBadRows(String name, int... at) throws IOException {
        List<String> lines = new ArrayList<>(Arrays.asList(
                new String(Folders.sampleBytes(TSV), StandardCharsets.ISO_8859_1).split("\n")));
        String good = lines.get(0);
        String[] f = good.split("\t", -1);
        List<String> bad = List.of(
                good + "\textra",
                "2" + good.substring(1),
                good.replaceFirst("\t", "\t1x"),
                String.join("\t", Arrays.copyOf(f, 39)),
                good.substring(0, good.lastIndexOf('\t')) + "\tzz",
                good.substring(0, good.lastIndexOf('\t')) + "\t123456789",
                "",
                "\u0000\u00ff garbage \r");
        for (int i = 0; i < at.length; i++) {
            lines.add(at[i], bad.get(i % bad.size()));
        }
        Path p = tmp.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n", StandardCharsets.ISO_8859_1);
        return p;
    }

    @Test
    void badRowsAreSkippedAlike() throws IOException {
        Path d0 = withBadRows("d0", 0, 1, 17, 40, 41, 66, 90, 101);
        Path d1 = withBadRows("d1", 3, 50, 99);
        PreprocessOptions skip = OPT.withBadRows(BadRowPolicy.SKIP).withRowsPerShard(33);
        DatasetMetadata m = bothAndCompare(sc, List.of(d0, d1), tmp.resolve("a"), skip, 5);
        assertEquals(200, m.rows());
        assertEquals(Map.of("field_count", 5L, "bad_label", 2L, "bad_integer", 2L, "bad_hex", 1L, "hex_overflow", 1L),
                m.skipped());
        bothAndCompare(sc, List.of(d1, d0), tmp.resolve("b"), skip.withMapping(2, 0), 2);
    }

    /** Both preprocessors fail on the same input with the same CriteoFormatException, and leave nothing. */
    private CriteoFormatException sameFailure(List<Path> inputs, PreprocessOptions o, int minPartitions, String out)
            throws IOException {
        CriteoFormatException single = assertThrows(CriteoFormatException.class,
                () -> Preprocessor.run(inputs, tmp.resolve(out + "-single"), o));
        CriteoFormatException spark = assertThrows(CriteoFormatException.class,
                () -> SparkPreprocessor.run(sc, strings(inputs), tmp.resolve(out + "-spark").toString(), o, minPartitions));
        assertEquals(single.getMessage(), spark.getMessage());
        assertEquals(single.reason(), spark.reason());
        assertEquals(single.line(), spark.line());
        assertEquals(single.byteOffset(), spark.byteOffset());
        assertFalse(Files.exists(tmp.resolve(out + "-spark")), "a failed run leaves no folder");
        return spark;
    }

    @Test
    void firstBadRowFailsAlike() throws IOException {
        Path late = withBadRows("one", 70, 95); // both in later partitions: the first one counts
        Path clean = sample(TSV, tmp);
        CriteoFormatException e = sameFailure(List.of(late), OPT, 7, "late");
        assertEquals(71, e.line());
        assertEquals(BadRowReason.FIELD_COUNT, e.reason());
        assertTrue(e.getMessage().startsWith(late + ":71 (byte "), e.getMessage());
        e = sameFailure(List.of(clean, withBadRows("two", 44)), OPT.withRowsPerShard(10), 3, "second");
        assertEquals(45, e.line());
        // a header line counts as line 1
        Path csv = tmp.resolve("bad.csv");
        String text = Files.readString(sample(CSV, tmp), StandardCharsets.ISO_8859_1);
        int cut = text.indexOf('\n', text.length() * 2 / 3) + 1;
        Files.writeString(csv, text.substring(0, cut) + "1,0,3\r\n" + text.substring(cut), StandardCharsets.ISO_8859_1);
        e = sameFailure(List.of(csv), OPT, 6, "csv");
        assertEquals(BadRowReason.FIELD_COUNT, e.reason());
        assertTrue(e.line() > 1000, e.getMessage());
    }

    @Test
    void emptyOrMissingInputsAreRefusedAlike() throws IOException {
        Path header = tmp.resolve("header.csv");
        Files.writeString(header, "Id,Label,I1\r\n");
        Path empty = tmp.resolve("empty.tsv");
        Files.write(empty, new byte[0]);
        Path tsv = sample(TSV, tmp);
        for (List<Path> in : List.of(List.of(header), List.of(empty, header), List.of(tsv, tmp.resolve("missing.tsv")))) {
            Exception single = assertThrows(Exception.class, () -> Preprocessor.run(in, tmp.resolve("s"), OPT));
            Exception spark = assertThrows(Exception.class,
                    () -> SparkPreprocessor.run(sc, strings(in), tmp.resolve("p").toString(), OPT, 2));
            assertEquals(single.getClass(), spark.getClass(), in.toString());
            assertEquals(single.getMessage(), spark.getMessage());
            assertFalse(Files.exists(tmp.resolve("p")));
        }
        Exception single = assertThrows(IllegalArgumentException.class,
                () -> Preprocessor.run(List.of(tsv), tmp.resolve("s"), OPT.withSplitRule(SplitRule.TERABYTE)));
        Exception spark = assertThrows(IllegalArgumentException.class, () -> SparkPreprocessor.run(sc,
                List.of(tsv.toString()), tmp.resolve("p").toString(), OPT.withSplitRule(SplitRule.TERABYTE), 2));
        assertEquals(single.getMessage(), spark.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> SparkPreprocessor.run(sc, List.of(), tmp.resolve("p").toString(), OPT));
    }

    @Test
    void aRunThatFailsWhileCommittingTakesBackWhatItRenamed() throws IOException {
        Path tsv = sample(TSV, tmp);
        Path out = tmp.resolve("out");
        PreprocessOptions o = OPT.withRowsPerShard(30);
        SparkPreprocessor.run(sc, List.of(tsv.toString()), out.toString(), o, 3);
        // shard 1's name taken by a folder that cannot be replaced: the commit fails after shard 0
        Files.delete(out.resolve("shard-00001.ttrs"));
        Files.createDirectories(out.resolve("shard-00001.ttrs"));
        Files.writeString(out.resolve("shard-00001.ttrs").resolve("keep"), "x");
        IOException e = assertThrows(IOException.class,
                () -> SparkPreprocessor.run(sc, List.of(tsv.toString()), out.toString(), o, 3));
        assertTrue(e.getMessage().contains("shard-00001.ttrs"), e.getMessage());
        List<String> left = Folders.names(out);
        assertFalse(left.contains("metadata.json"), left.toString()); // the folder is marked incomplete
        assertFalse(left.contains("shard-00000.ttrs"), left.toString()); // renamed by the failed run, removed
        assertTrue(left.stream().noneMatch(n -> n.startsWith(".")), left.toString()); // no temporaries
        // a run into a fresh folder that fails leaves no folder
        Path fresh = tmp.resolve("fresh");
        assertThrows(CriteoFormatException.class, () -> SparkPreprocessor.run(sc,
                List.of(withBadRows("bad", 50).toString()), fresh.toString(), o, 3));
        assertFalse(Files.exists(fresh));
    }

    @Test
    void aLineWithoutLineBreakIsNotText() throws IOException {
        Path bin = tmp.resolve("binary.tsv");
        byte[] b = new byte[(16 << 20) + 1000];
        Arrays.fill(b, (byte) 'x');
        b[5] = 0; // shows up escaped in the message
        Files.write(bin, b);
        for (BadRowPolicy p : BadRowPolicy.values()) {
            CriteoFormatException e = sameFailure(List.of(bin), OPT.withBadRows(p), 2, "bin-" + p);
            assertEquals(-1, e.line());
            assertTrue(e.getMessage().contains("no line break within 16 MiB"), e.getMessage());
        }
    }

    private static void gzip(Path from, Path to) throws IOException {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(to))) {
            o.write(Files.readAllBytes(from));
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
