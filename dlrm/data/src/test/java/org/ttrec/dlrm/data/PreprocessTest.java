package org.ttrec.dlrm.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreprocessTest {
    @TempDir
    Path tmp;

    private static final PreprocessOptions OPT = PreprocessOptions.defaults();

    /** A TSV row with label l, dense all d, C1 = c1 and the other categoricals = other. */
    private static String row(int l, int d, String c1, String other) {
        StringBuilder sb = new StringBuilder().append(l);
        for (int j = 0; j < 13; j++) {
            sb.append('\t').append(d);
        }
        sb.append('\t').append(c1);
        for (int t = 1; t < 26; t++) {
            sb.append('\t').append(other);
        }
        return sb.toString();
    }

    private Path tsv(String name, List<String> rows) throws IOException {
        Path p = tmp.resolve(name);
        Files.writeString(p, String.join("\n", rows) + "\n", StandardCharsets.US_ASCII);
        return p;
    }

    /** C1 indices of all rows in file order (train, test, validation are consecutive ranges). */
    private static List<Integer> c1InOrder(Dataset d) throws IOException {
        List<Integer> out = new ArrayList<>();
        for (Split s : new Split[] {Split.TRAIN, Split.TEST, Split.VALIDATION}) {
            for (Batch b : TestData.batches(d, s, 3, false, 0)) {
                for (int i = 0; i < b.size(); i++) {
                    out.add(b.indices()[0][i]);
                }
            }
        }
        return out;
    }

    @Test
    void dictionaryIsOrderOfFirstAppearance() throws IOException {
        Path p = tsv("a.tsv", List.of(row(0, 1, "aa", "1"), row(1, 2, "bb", "1"), row(0, 3, "aa", "1"),
                row(0, 4, "", "1"), row(1, 5, "bb", "1"), row(0, 6, "cc", "1"), row(0, 7, "0", "1")));
        DatasetMetadata m = Preprocessor.run(List.of(p), tmp.resolve("out"), OPT);
        assertEquals(4, m.cardinalities()[0]); // aa, bb, missing(0), cc; "0" is the same value as missing
        assertEquals(1, m.cardinalities()[1]);
        try (Dataset d = Datasets.open(tmp.resolve("out").toString(), DatasetOptions.defaults())) {
            assertEquals(List.of(0, 1, 0, 2, 1, 3, 2), c1InOrder(d));
        }
        Dictionaries dict = Dictionaries.read(tmp.resolve("out").resolve(ShardFormat.DICTIONARIES));
        assertEquals(0, dict.lookup(0, 0xaa));
        assertEquals(3, dict.lookup(0, 0xcc));
        assertEquals(-1, dict.lookup(0, 0x1234));
        assertArrayEquals(m.cardinalities(), dict.cardinalities());
    }

    @Test
    void maxIndRangeTakesUnsignedModuloFirst() throws IOException {
        Path p = tsv("m.tsv", List.of(row(0, 1, "10", "1"), row(1, 1, "20", "1"), row(0, 1, "13", "1"),
                row(0, 1, "ffffffff", "1"), row(0, 1, "5", "1"), row(0, 1, "30", "1"), row(0, 1, "23", "1")));
        // mod 16: 0x10->0, 0x20->0, 0x13->3, 0xffffffff->15, 5->5, 0x30->0, 0x23->3
        try (Dataset d = Datasets.openRaw(List.of(p), OPT.withMapping(1, 16))) {
            assertEquals(List.of(0, 0, 1, 2, 3, 0, 1), c1InOrder(d));
            assertEquals(4, d.cardinalities()[0]);
        }
        // 0xffffffff is 4294967295 unsigned: mod 10 = 5, the same value as 5
        Path q = tsv("m10.tsv", List.of(row(0, 1, "ffffffff", "1"), row(0, 1, "5", "1"), row(0, 1, "f", "1"),
                row(0, 1, "1", "1"), row(0, 1, "1", "1"), row(0, 1, "1", "1"), row(0, 1, "1", "1")));
        try (Dataset d = Datasets.openRaw(List.of(q), OPT.withMapping(1, 10))) {
            assertEquals(List.of(0, 0, 0, 1, 1, 1, 1), c1InOrder(d));
        }
    }

    @Test
    void minCountSendsRareValuesToBucketZero() throws IOException {
        Path p = tsv("c.tsv", List.of(row(0, 1, "a", "1"), row(1, 1, "b", "1"), row(0, 1, "a", "1"),
                row(0, 1, "c", "1"), row(1, 1, "b", "1"), row(0, 1, "d", "1"), row(0, 1, "b", "1")));
        DatasetMetadata m = Preprocessor.run(List.of(p), tmp.resolve("mc"), OPT.withMapping(2, 0).withRowsPerShard(3));
        assertEquals(3, m.shards().size());
        assertEquals(3, m.cardinalities()[0]); // bucket + a + b
        assertEquals(2, m.cardinalities()[1]); // bucket + "1" (no value is rare there, the bucket stays)
        try (Dataset d = Datasets.open(tmp.resolve("mc").toString(), DatasetOptions.defaults())) {
            assertEquals(List.of(1, 2, 1, 0, 2, 0, 2), c1InOrder(d));
        }
        try (Dataset d = Datasets.openRaw(List.of(p), OPT.withMapping(2, 0))) {
            assertEquals(List.of(1, 2, 1, 0, 2, 0, 2), c1InOrder(d));
        }
        Dictionaries dict = Dictionaries.read(tmp.resolve("mc").resolve(ShardFormat.DICTIONARIES));
        assertEquals(1, dict.lookup(0, 0xa));
        assertEquals(2, dict.lookup(0, 0xb));
        assertEquals(0, dict.lookup(0, 0xc));
        assertEquals(0, dict.lookup(0, 0x999)); // unseen -> the rare bucket
    }

    @Test
    void splitRulesFollowDlrm() {
        // Kaggle: 7 days, the first N mod 7 days one row longer; day 6 halves: test gets the larger one.
        assertRanges(SplitRule.KAGGLE.ranges(new long[] {100}), 86, 93, 100); // days 15,15,14,14,14,14,14
        assertRanges(SplitRule.KAGGLE.ranges(new long[] {27}), 24, 26, 27); // q=3, extra=6: train 24, day 6 = 3
        assertRanges(SplitRule.KAGGLE.ranges(new long[] {45_840_617}), 39_291_958, 42_566_288, 45_840_617);
        assertRanges(SplitRule.KAGGLE.ranges(new long[] {30, 40}), 60, 65, 70); // files concatenated
        assertRanges(SplitRule.TERABYTE.ranges(new long[] {5, 7, 3}), 12, 14, 15);
        assertRanges(SplitRule.AUTO.ranges(new long[] {5, 7, 4}), 12, 14, 16);
        assertRanges(SplitRule.AUTO.ranges(new long[] {14}), 12, 13, 14);
        assertThrows(IllegalArgumentException.class, () -> SplitRule.TERABYTE.ranges(new long[] {10}));
    }

    private static void assertRanges(Map<Split, long[]> r, long trainEnd, long testEnd, long n) {
        assertArrayEquals(new long[] {0, trainEnd}, r.get(Split.TRAIN));
        assertArrayEquals(new long[] {trainEnd, testEnd}, r.get(Split.TEST));
        assertArrayEquals(new long[] {testEnd, n}, r.get(Split.VALIDATION));
    }

    @Test
    void terabyteStyleFilesShardAndSplitByLastFile() throws IOException {
        List<Path> days = new ArrayList<>();
        int[] sizes = {5, 7, 3};
        int v = 0;
        for (int i = 0; i < sizes.length; i++) {
            List<String> rows = new ArrayList<>();
            for (int k = 0; k < sizes[i]; k++) {
                rows.add(row(k & 1, k, Integer.toHexString(0x100 + (v++ % 6)), "1"));
            }
            days.add(tsv("day_" + i, rows));
        }
        DatasetMetadata m = Preprocessor.run(days, tmp.resolve("tb"), OPT.withRowsPerShard(4).withThreads(2));
        assertEquals("terabyte", m.splitRule());
        assertEquals(15, m.rows());
        assertEquals(4, m.shards().size());
        assertArrayEquals(new long[] {0, 12}, m.range(Split.TRAIN));
        assertArrayEquals(new long[] {12, 14}, m.range(Split.TEST));
        try (Dataset shards = Datasets.open(tmp.resolve("tb").toString(), DatasetOptions.defaults());
             Dataset raw = Datasets.open(String.join(",", days.stream().map(Path::toString).toList()), DatasetOptions.defaults())) {
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2), c1InOrder(shards));
            for (Split s : Split.values()) {
                assertEquals(raw.size(s), shards.size(s));
                assertEquals(TestData.rowKeys(TestData.batches(raw, s, 4, false, 0)),
                        TestData.rowKeys(TestData.batches(shards, s, 4, false, 0)));
            }
        }
    }

    /** Real rows: shards == in-memory == an independent mapping of the reference parse. */
    @Test
    void realCsvRoundTripIsExact() throws IOException {
        Path csv = TestData.shared(TestData.CSV);
        Preprocessor.run(List.of(csv), tmp.resolve("csv"), OPT.withThreads(2).withRowsPerShard(500));
        List<int[]> ref = TestData.referenceRows(csv);
        List<Map<Integer, Integer>> dicts = new ArrayList<>();
        for (int t = 0; t < 26; t++) {
            dicts.add(new HashMap<>());
        }
        List<String> expected = new ArrayList<>();
        for (int[] r : ref) {
            StringBuilder sb = new StringBuilder().append((float) r[0]);
            for (int j = 1; j <= 13; j++) {
                sb.append(',').append((float) Math.log1p(r[j]));
            }
            for (int t = 0; t < 26; t++) {
                Map<Integer, Integer> d = dicts.get(t);
                sb.append(',').append(d.computeIfAbsent(r[14 + t], k -> d.size()));
            }
            expected.add(sb.toString());
        }
        try (Dataset shards = Datasets.open(tmp.resolve("csv").toString(), DatasetOptions.defaults());
             Dataset raw = Datasets.open(csv.toString(), DatasetOptions.defaults())) {
            assertEquals(1999, shards.size(Split.TRAIN) + shards.size(Split.TEST) + shards.size(Split.VALIDATION));
            assertEquals(1714, shards.size(Split.TRAIN)); // 7 days of 285/286 rows, days 0-5
            List<String> all = new ArrayList<>();
            for (Split s : new Split[] {Split.TRAIN, Split.TEST, Split.VALIDATION}) {
                List<String> a = TestData.rowKeys(TestData.batches(shards, s, 128, false, 0));
                assertEquals(TestData.rowKeys(TestData.batches(raw, s, 128, false, 0)), a);
                all.addAll(a);
            }
            assertEquals(expected, all);
            for (int t = 0; t < 26; t++) {
                assertEquals(Math.max(1, dicts.get(t).size()), shards.cardinalities()[t]);
            }
            Batch b = TestData.batches(shards, Split.TRAIN, 128, false, 0).getFirst();
            assertEquals(128, b.size());
            assertEquals(13, b.denseFeatures());
            assertEquals(26, b.tables());
            assertArrayEquals(java.util.stream.IntStream.rangeClosed(0, 128).toArray(), b.offsets()[5]);
        }
    }

    @Test
    void shufflingIsASeededPermutation() throws IOException {
        Path csv = TestData.shared(TestData.CSV);
        try (Dataset d = Datasets.open(csv.toString(), DatasetOptions.defaults())) {
            List<String> plain = TestData.rowKeys(TestData.batches(d, Split.TRAIN, 100, false, 0));
            List<String> s1 = TestData.rowKeys(TestData.batches(d, Split.TRAIN, 100, true, 7));
            List<String> s1again = TestData.rowKeys(TestData.batches(d, Split.TRAIN, 64, true, 7));
            List<String> s2 = TestData.rowKeys(TestData.batches(d, Split.TRAIN, 100, true, 8));
            assertEquals(s1, s1again); // batch size does not change the order
            assertNotEquals(plain, s1);
            assertNotEquals(s1, s2);
            List<String> a = new ArrayList<>(plain);
            List<String> b = new ArrayList<>(s1);
            a.sort(null);
            b.sort(null);
            assertEquals(a, b);
        }
        // The two-level order on a big range is also a permutation.
        RowDataset.ShuffledOrder o = new RowDataset.ShuffledOrder(10, 10 + 70_001, 3);
        boolean[] seen = new boolean[70_001];
        long r;
        int count = 0;
        while ((r = o.next()) >= 0) {
            assertTrue(r >= 10 && r < 70_011);
            assertTrue(!seen[(int) (r - 10)]);
            seen[(int) (r - 10)] = true;
            count++;
        }
        assertEquals(70_001, count);
    }

    @Test
    void corruptOrTruncatedShardsAreReported() throws IOException {
        Path csv = TestData.shared(TestData.TSV);
        Path dir = tmp.resolve("bad");
        Preprocessor.run(List.of(csv), dir, OPT);
        Path shard = dir.resolve(ShardFormat.shardName(0));
        byte[] good = Files.readAllBytes(shard);
        // A payload byte flipped: checksum.
        byte[] bad = good.clone();
        bad[good.length - 100] ^= 0x10;
        Files.write(shard, bad);
        CriteoFormatException e = assertThrows(CriteoFormatException.class,
                () -> Datasets.open(dir.toString(), DatasetOptions.defaults()));
        assertEquals(BadRowReason.CHECKSUM, e.reason());
        assertTrue(e.getMessage().contains(shard.toString()), e.getMessage());
        // Without verification it opens, but an out-of-range index is still caught per batch.
        // A header byte flipped (the row count): header checksum.
        bad = good.clone();
        bad[16] ^= 1;
        Files.write(shard, bad);
        e = assertThrows(CriteoFormatException.class, () -> Datasets.open(dir.toString(), DatasetOptions.defaults()));
        assertEquals(BadRowReason.CHECKSUM, e.reason());
        // Cut short.
        Files.write(shard, java.util.Arrays.copyOf(good, good.length - 7));
        e = assertThrows(CriteoFormatException.class, () -> Datasets.open(dir.toString(), DatasetOptions.defaults()));
        assertEquals(BadRowReason.TRUNCATED, e.reason());
        // Not a shard at all.
        Files.write(shard, "hello, this is not a shard file at all......".getBytes(StandardCharsets.US_ASCII));
        e = assertThrows(CriteoFormatException.class, () -> Datasets.open(dir.toString(), DatasetOptions.defaults()));
        assertEquals(BadRowReason.BAD_HEADER, e.reason());
        // Restored: opens again.
        Files.write(shard, good);
        try (Dataset d = Datasets.open(dir.toString(), DatasetOptions.defaults())) {
            assertEquals(100, d.size(Split.TRAIN) + d.size(Split.TEST) + d.size(Split.VALIDATION));
        }
    }

    private static void writeBin(Path p, int[][] rows, int extraBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(rows.length * 160 + extraBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int[] r : rows) {
            for (int v : r) {
                b.putInt(v);
            }
        }
        Files.write(p, b.array(), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    private static int[][] binRows(int n, int seed) {
        int[][] rows = new int[n][40];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            rows[i][0] = rnd.nextInt(2);
            for (int j = 1; j <= 13; j++) {
                rows[i][j] = rnd.nextInt(1000);
            }
            for (int t = 0; t < 26; t++) {
                rows[i][14 + t] = rnd.nextInt(t + 2);
            }
        }
        return rows;
    }

    @Test
    void mlperfBinFiles() throws IOException {
        Path dir = tmp.resolve("mlperf");
        Files.createDirectories(dir);
        int[][] train = binRows(10, 1);
        int[][] test = binRows(3, 2);
        int[][] val = binRows(2, 3);
        writeBin(dir.resolve("train.bin"), train, 0);
        writeBin(dir.resolve("test.bin"), test, 0);
        writeBin(dir.resolve("val.bin"), val, 0);
        try (Dataset d = Datasets.open(dir.resolve("train.bin").toString(), DatasetOptions.defaults())) {
            assertEquals(10, d.size(Split.TRAIN));
            assertEquals(3, d.size(Split.TEST));
            assertEquals(2, d.size(Split.VALIDATION));
            int[] card = d.cardinalities();
            for (int t = 0; t < 26; t++) {
                int max = 0;
                for (int[][] part : new int[][][] {train, test, val}) {
                    for (int[] r : part) {
                        max = Math.max(max, r[14 + t]);
                    }
                }
                assertEquals(max + 1, card[t]);
            }
            Batch b = TestData.batches(d, Split.TEST, 8, false, 0).getFirst();
            assertEquals(3, b.size());
            for (int i = 0; i < 3; i++) {
                assertEquals(test[i][0], (int) b.labels()[i]);
                assertEquals((float) Math.log1p(test[i][4]), b.dense()[i * 13 + 3]);
                assertEquals(test[i][14 + 25], b.indices()[25][i]);
            }
        }
        // The folder form opens the same data.
        try (Dataset d = Datasets.open(dir.toString(), DatasetOptions.defaults())) {
            assertEquals(2, d.size(Split.VALIDATION));
        }
        // An index beyond given cardinalities: reported at batch time with file and byte offset.
        int[] small = new int[26];
        java.util.Arrays.fill(small, 1);
        try (Dataset d = Datasets.openMlperf(dir.resolve("train.bin"), small)) {
            CriteoFormatException e = assertThrows(CriteoFormatException.class,
                    () -> TestData.batches(d, Split.TRAIN, 4, false, 0));
            assertEquals(BadRowReason.INDEX_OUT_OF_RANGE, e.reason());
            assertTrue(e.getMessage().contains("train.bin"), e.getMessage());
        }
        // Truncated: 7 stray bytes at the end of val.bin.
        writeBin(dir.resolve("val.bin"), val, 7);
        CriteoFormatException e = assertThrows(CriteoFormatException.class,
                () -> Datasets.open(dir.resolve("train.bin").toString(), DatasetOptions.defaults()));
        assertEquals(BadRowReason.TRUNCATED, e.reason());
        assertEquals(320, e.byteOffset());
        assertTrue(e.getMessage().contains("val.bin"), e.getMessage());
        // A label that is not 0/1.
        writeBin(dir.resolve("val.bin"), val, 0);
        train[4][0] = 3;
        writeBin(dir.resolve("train.bin"), train, 0);
        try (Dataset d = Datasets.open(dir.toString(), DatasetOptions.defaults())) {
            e = assertThrows(CriteoFormatException.class, () -> TestData.batches(d, Split.TRAIN, 4, false, 0));
            assertEquals(BadRowReason.BAD_LABEL, e.reason());
            assertEquals(4 * 160, e.byteOffset());
        }
    }

    @Test
    void openRejectsUnknownPaths() {
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> Datasets.open(tmp.resolve("nope.tsv").toString(), DatasetOptions.defaults()));
        assertThrows(java.nio.file.NoSuchFileException.class,
                () -> Datasets.open(tmp.toString(), DatasetOptions.defaults()));
        assertThrows(IllegalArgumentException.class, () -> new PreprocessOptions(0, BadRowPolicy.FAIL, 1, 0, 10,
                SplitRule.AUTO, Progress.Factory.NONE));
    }
}
