package org.ttrec.spark.preprocess;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.data.CriteoFormatException;
import org.ttrec.dlrm.data.CriteoTextFormat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LineChunkReader} and {@link TextSplit}: every line once, in order, wherever the splits fall. */
class SparkLineChunkReaderTest {
    private static final Configuration CONF = new Configuration();

    @TempDir
    Path tmp;

    /** @return "offset:line" for each line of {@code text} as CriteoTextReader cuts it */
    private static List<String> expected(byte[] text) {
        List<String> out = new ArrayList<>();
        int p = 0;
        while (p < text.length) {
            int e = p;
            while (e < text.length && text[e] != '\n') {
                e++;
            }
            out.add(p + ":" + new String(text, p, e - p, StandardCharsets.ISO_8859_1));
            p = e + 1;
        }
        return out;
    }

    /** @return "offset:line" for each line the reader hands out for one split */
    private static List<String> read(Path f, long start, long length, boolean gzip, int chunk) throws IOException {
        List<String> out = new ArrayList<>();
        try (LineChunkReader r = new LineChunkReader(new TextSplit(0, f.toString(), start, length, gzip, new String[0]),
                CONF, chunk)) {
            while (r.next()) {
                byte[] b = r.buffer();
                int p = r.chunkFrom();
                int to = r.chunkTo();
                assertTrue(to > p, "empty chunk");
                while (p < to) {
                    int e = CriteoTextFormat.findNewline(b, p, to);
                    out.add((r.chunkOffset() + p - r.chunkFrom()) + ":" + new String(b, p, e - p, StandardCharsets.ISO_8859_1));
                    p = e + 1;
                }
            }
        }
        return out;
    }

    @Test
    void everySplitPointReadsEachLineOnce() throws IOException {
        for (String text : List.of("a\n\nbb\r\nccc\ndddd", "a\n\nbb\r\nccc\ndddd\n", "\n\n\n", "x", "0\t1\t2\n" + "3".repeat(50))) {
            byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
            Path f = tmp.resolve("t" + text.hashCode());
            Files.write(f, b);
            List<String> all = expected(b);
            for (int chunk : new int[] {1, 3, 1 << 20}) {
                assertEquals(all, read(f, 0, b.length, false, chunk));
                for (int s = 1; s < b.length; s++) {
                    List<String> got = new ArrayList<>(read(f, 0, s, false, chunk));
                    got.addAll(read(f, s, b.length - s, false, chunk));
                    assertEquals(all, got, "split at " + s + ", chunk " + chunk + " of " + Arrays.toString(b));
                }
            }
        }
    }

    @Test
    void randomThreeWaySplitsOfRandomLines() throws IOException {
        SplittableRandom rnd = new SplittableRandom(3);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            sb.append("x".repeat(rnd.nextInt(rnd.nextInt(10) == 0 ? 300 : 20))).append(rnd.nextInt(5) == 0 ? "\r\n" : "\n");
        }
        byte[] b = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        Path f = tmp.resolve("random");
        Files.write(f, b);
        List<String> all = expected(b);
        for (int k = 0; k < 300; k++) {
            int s1 = rnd.nextInt(b.length);
            int s2 = s1 + rnd.nextInt(b.length - s1);
            int chunk = 1 + rnd.nextInt(500);
            List<String> got = new ArrayList<>(read(f, 0, s1, false, chunk));
            got.addAll(read(f, s1, s2 - s1, false, chunk));
            got.addAll(read(f, s2, b.length - s2, false, chunk));
            assertEquals(all, got, "splits at " + s1 + ", " + s2 + ", chunk " + chunk);
        }
    }

    @Test
    void gzipIsOneSplitReadToTheEnd() throws IOException {
        byte[] b = "1\t2\n3\t4\r\n\n5".repeat(1000).getBytes(StandardCharsets.ISO_8859_1);
        Path gz = tmp.resolve("day_0");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write(b);
        }
        var fs = FileSystems.of(new org.apache.hadoop.fs.Path(gz.toString()), CONF);
        var status = fs.getFileStatus(new org.apache.hadoop.fs.Path(gz.toString()));
        List<TextSplit> splits = TextSplit.of(0, gz.toString(), fs, status, true, 8);
        assertEquals(1, splits.size());
        assertEquals(expected(b), read(gz, 0, splits.get(0).length, true, 100));
    }

    @Test
    void splitsCoverTheFileInOrder() throws IOException {
        Path f = tmp.resolve("f");
        var p = new org.apache.hadoop.fs.Path(f.toString());
        var fs = FileSystems.of(p, CONF);
        for (int len : new int[] {0, 1, 2, 99, 100, 24172}) {
            Files.write(f, new byte[len]);
            for (int min : new int[] {1, 2, 7, 1000}) {
                List<TextSplit> s = TextSplit.of(3, f.toString(), fs, fs.getFileStatus(p), false, min);
                long at = 0;
                for (TextSplit x : s) {
                    assertEquals(at, x.start);
                    assertEquals(3, x.file);
                    at += x.length;
                }
                assertEquals(len, at);
                assertTrue(s.size() >= Math.min(min, Math.max(1, len)), len + " bytes, " + min + " partitions: " + s.size());
            }
        }
    }

    @Test
    void aLineOf16MiBIsAnError() throws IOException {
        int max = CriteoTextFormat.MAX_LINE;
        byte[] b = new byte[3 + max + 2 * max + 10];
        Arrays.fill(b, (byte) 'x');
        b[1] = '\n'; // "x\n"
        int longest = 2 + (max - 1); // a line of max - 1 bytes is still text
        b[longest] = '\n';
        Path f = tmp.resolve("long");
        Files.write(f, b);
        CriteoFormatException e = assertThrows(CriteoFormatException.class, () -> read(f, 0, b.length, false, 1 << 20));
        assertEquals(longest + 1, e.byteOffset());
        assertEquals(-1, e.line());
        // a split that starts inside the long line skips it (it belongs to the split before)
        assertEquals(List.of(), read(f, longest + 5, b.length - longest - 5, false, 1 << 20));
    }
}
