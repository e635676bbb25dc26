package org.ttrec.dlrm.data;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pieces the single-machine preprocessor shares with other preprocessors (module spark):
 * format detection, dictionaries built from merged counts, the shard header.
 */
class SharedPiecesTest {
    private static CriteoTextFormat detect(String text) {
        byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
        return CriteoTextFormat.detect(b, b.length);
    }

    @Test
    void detectsSeparatorIdColumnHeaderAndByteOrderMark() {
        String tsv = "0\t1" + "\t".repeat(38) + "\n";
        assertEquals(new CriteoTextFormat((byte) '\t', false, 0, 1), detect(tsv + tsv));
        String csvHeader = "Id,Label" + ",x".repeat(39) + "\r\n";
        assertEquals(new CriteoTextFormat((byte) ',', true, csvHeader.length(), 2), detect(csvHeader + "1,0\n"));
        assertEquals(new CriteoTextFormat((byte) ',', false, 0, 1), detect("0,1,2\n"));
        assertEquals(new CriteoTextFormat((byte) '\t', false, 3, 1), detect("\u00ef\u00bb\u00bf" + tsv));
        assertEquals(new CriteoTextFormat((byte) '\t', false, 3 + "Label\ta\n".length(), 2), detect("\u00ef\u00bb\u00bfLabel\ta\n0\t1\n"));
        // a header without a line break is the whole file
        assertEquals(new CriteoTextFormat((byte) '\t', false, 8, 2), detect("label\tx1"));
        assertEquals(new CriteoTextFormat((byte) '\t', false, 0, 1), detect(""));
        // a corrupt first data row is not a header
        assertEquals(1, detect("labels\t1\n").firstLine());
        assertTrue(CriteoTextFormat.isGzip(0x1f, 0x8b));
        assertFalse(CriteoTextFormat.isGzip(0x8b, 0x1f));
    }

    @Test
    void findNewlineMatchesAPlainScan() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int n = 0; n < 200; n++) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = (byte) (rnd.nextInt(20) == 0 ? '\n' : rnd.nextInt(256));
            }
            for (int from = 0; from <= n; from += 3) {
                int expected = from;
                while (expected < n && b[expected] != '\n') {
                    expected++;
                }
                assertEquals(expected, CriteoTextFormat.findNewline(b, from, n));
            }
        }
    }

    private static byte[] bytes(Dictionaries d) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        d.writeTo(out);
        return out.toByteArray();
    }

    /** Dictionaries from merged first appearances and counts == the same values added row by row. */
    @Test
    void dictionariesFromCountsEqualRowByRow() throws IOException {
        SplittableRandom rnd = new SplittableRandom(11);
        int features = 3;
        int[][] seq = new int[features][5000];
        for (int t = 0; t < features; t++) {
            for (int i = 0; i < seq[t].length; i++) {
                // skewed, so that some values are rare and some frequent; feature 2 is mostly empty
                seq[t][i] = t == 2 && i > 3 ? 7 : (int) (rnd.nextInt(1 << (4 + 3 * t)) * 0x9E3779B1L);
            }
        }
        for (int minCount : new int[] {1, 2, 5}) {
            for (int mir : new int[] {0, 97}) {
                Dictionaries rowByRow = new Dictionaries(features, mir, minCount);
                for (int t = 0; t < features; t++) {
                    for (int v : seq[t]) {
                        rowByRow.feature(t).add(rowByRow.reduce(v));
                    }
                }
                rowByRow.finish();
                int[][] values = new int[features][];
                int[][] counts = new int[features][];
                int[][] keptValues = new int[features][];
                int[][] keptCounts = new int[features][];
                for (int t = 0; t < features; t++) {
                    CategoryDictionary counted = new CategoryDictionary(true);
                    for (int v : seq[t]) {
                        counted.add(rowByRow.reduce(v));
                    }
                    values[t] = new int[counted.size()];
                    counts[t] = new int[counted.size()];
                    List<int[]> kept = new ArrayList<>();
                    for (int i = 0; i < counted.size(); i++) {
                        values[t][i] = counted.rawValue(i);
                        counts[t][i] = counted.count(i);
                        if (counted.count(i) >= minCount) {
                            kept.add(new int[] {counted.rawValue(i), counted.count(i)});
                        }
                    }
                    keptValues[t] = kept.stream().mapToInt(x -> x[0]).toArray();
                    keptCounts[t] = kept.stream().mapToInt(x -> x[1]).toArray();
                }
                String what = "min-count " + minCount + ", max-ind-range " + mir;
                byte[] expected = bytes(rowByRow);
                Dictionaries merged = Dictionaries.fromFirstAppearance(mir, minCount, values, counts);
                assertArrayEquals(expected, bytes(merged), what);
                assertArrayEquals(rowByRow.cardinalities(), merged.cardinalities(), what);
                // rare values may be left out: they land in bucket 0 either way
                assertArrayEquals(expected, bytes(Dictionaries.fromFirstAppearance(mir, minCount, keptValues, keptCounts)),
                        what);
                for (int t = 0; t < features; t++) {
                    for (int i = 0; i < 50; i++) {
                        assertEquals(rowByRow.lookup(t, seq[t][i]), merged.lookup(t, seq[t][i]), what);
                    }
                }
            }
        }
        int[][] twice = {{1, 2, 1}};
        assertThrows(IllegalArgumentException.class,
                () -> Dictionaries.fromFirstAppearance(0, 1, twice, new int[][] {{1, 1, 1}}));
    }

    @Test
    void countsSaturateWhenMerged() {
        CategoryDictionary d = new CategoryDictionary(true);
        d.add(5, Integer.MAX_VALUE - 1);
        d.add(5, 7);
        d.add(5);
        assertEquals(Integer.MAX_VALUE, d.count(0));
        assertThrows(IllegalArgumentException.class, () -> d.add(6, 0));
    }

    @Test
    void shardHeaderIsWhatShardFileReads() throws IOException {
        int[] card = new int[26];
        for (int t = 0; t < card.length; t++) {
            card[t] = t + 2;
        }
        byte[] h = ShardFormat.header(0, 13, card, 0x12345678);
        assertEquals(ShardFormat.headerBytes(26), h.length);
        ShardFile f = ShardFile.parse(java.nio.file.Path.of("h.ttrs"),
                java.nio.ByteBuffer.wrap(h).order(java.nio.ByteOrder.LITTLE_ENDIAN), h.length);
        assertEquals(0, f.rows());
        assertEquals(13, f.dense());
        assertArrayEquals(card, f.cardinalities());
        assertEquals(0x12345678, f.payloadCrc());
        h[16] ^= 1; // the row count: the header's own checksum catches it
        CriteoFormatException e = assertThrows(CriteoFormatException.class, () -> ShardFile.parse(java.nio.file.Path.of("h.ttrs"),
                java.nio.ByteBuffer.wrap(h).order(java.nio.ByteOrder.LITTLE_ENDIAN), h.length));
        assertEquals(BadRowReason.CHECKSUM, e.reason());
    }
}
