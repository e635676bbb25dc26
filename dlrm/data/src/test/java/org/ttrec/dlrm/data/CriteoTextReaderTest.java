package org.ttrec.dlrm.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class CriteoTextReaderTest {
    @TempDir
    Path tmp;

    private static List<int[]> read(Path p, int threads, int chunk) throws IOException {
        try (CriteoTextReader r = new CriteoTextReader(p, threads, BadRowPolicy.FAIL, null, chunk)) {
            return TestData.readAll(r);
        }
    }

    @Test
    void firstCsvRowByHand() throws IOException {
        List<int[]> rows = read(TestData.shared(TestData.CSV), 1, CriteoTextReader.DEFAULT_CHUNK);
        assertEquals(1999, rows.size());
        int[] r = rows.get(0);
        // 10000000,0,1,1,5,0,1382,4,15,2,181,1,2,,2,68fd1e64,80e26c9b,fb936136,...,07b5194c,,3a171ecb,c5c50484,e8b83407,9727dd16
        assertEquals(0, r[0]);
        assertArrayEquals(new int[] {1, 1, 5, 0, 1382, 4, 15, 2, 181, 1, 2, 0, 2}, java.util.Arrays.copyOfRange(r, 1, 14));
        assertEquals(0x68fd1e64, r[14]);
        assertEquals(0x80e26c9b, r[15]);
        assertEquals(0xfb936136, r[16]);
        assertEquals(0x07b5194c, r[34]); // C21
        assertEquals(0, r[35]); // C22 missing
        assertEquals(0x9727dd16, r[39]); // C26, before the CRLF
        // Second row: 10000001,0,2,0,44,1,102,8,2,2,4,1,1,,4,68fd1e64,f0cf0024,...
        int[] r2 = rows.get(1);
        assertEquals(2, r2[1]);
        assertEquals(44, r2[3]);
        assertEquals(0xf0cf0024, r2[15]);
        int positives = 0;
        for (int[] x : rows) {
            positives += x[0];
        }
        assertEquals(418, positives); // README: 418 positives
    }

    @Test
    void negativeIntegersAreClipped() throws IOException {
        Path csv = TestData.shared(TestData.CSV);
        List<String> lines = Files.readAllLines(csv, StandardCharsets.ISO_8859_1);
        List<int[]> rows = read(csv, 1, CriteoTextReader.DEFAULT_CHUNK);
        int negatives = 0;
        for (int i = 1; i < lines.size(); i++) {
            String i2 = lines.get(i).split(",", -1)[3];
            if (i2.startsWith("-")) {
                negatives++;
                assertEquals(0, rows.get(i - 1)[2], "row " + i + " I2=" + i2);
            }
        }
        assertEquals(217, negatives); // README: I2 negative in 217 rows
    }

    @Test
    void firstTsvRowByHand() throws IOException {
        List<int[]> rows = read(TestData.shared(TestData.TSV), 1, CriteoTextReader.DEFAULT_CHUNK);
        assertEquals(100, rows.size()); // the last line has no newline
        // 0 \t \t 0 \t 5 \t 4 \t 13275 \t 14 \t 35 \t 4 \t 41 \t \t 4 \t 0 \t 4 \t 05db9164 ... \t \t 32c7478e ... 731c3655
        int[] r = rows.get(0);
        assertArrayEquals(new int[] {0, 0, 0, 5, 4, 13275, 14, 35, 4, 41, 0, 4, 0, 4}, java.util.Arrays.copyOfRange(r, 0, 14));
        assertEquals(0x05db9164, r[14]);
        assertEquals(0, r[35]);
        assertEquals(0x32c7478e, r[36]);
        assertEquals(0x731c3655, r[39]);
        assertEquals(1, rows.get(1)[0]);
        assertEquals(559, rows.get(1)[2]);
        int positives = rows.stream().mapToInt(x -> x[0]).sum();
        assertEquals(29, positives);
    }

    @Test
    void matchesReferenceParserOnAllRealRows() throws IOException {
        for (String f : new String[] {TestData.CSV, TestData.TSV}) {
            Path p = TestData.shared(f);
            List<int[]> ref = TestData.referenceRows(p);
            List<int[]> got = read(p, 1, CriteoTextReader.DEFAULT_CHUNK);
            assertEquals(ref.size(), got.size(), f);
            for (int i = 0; i < ref.size(); i++) {
                assertArrayEquals(ref.get(i), got.get(i), f + " row " + i);
            }
        }
    }

    @Test
    void threadsAndChunkSizesDoNotChangeTheOutput() throws IOException {
        Path p = TestData.shared(TestData.CSV);
        List<int[]> one = read(p, 1, CriteoTextReader.DEFAULT_CHUNK);
        for (int threads : new int[] {1, 2, 3}) {
            for (int chunk : new int[] {97, 1000, 4096}) {
                List<int[]> got = read(p, threads, chunk);
                assertEquals(one.size(), got.size());
                for (int i = 0; i < one.size(); i++) {
                    assertArrayEquals(one.get(i), got.get(i), "threads " + threads + " chunk " + chunk + " row " + i);
                }
            }
        }
    }

    @Test
    void readsGzip() throws IOException {
        Path src = TestData.shared(TestData.TSV);
        Path gz = tmp.resolve("day_0.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
            o.write(Files.readAllBytes(src));
        }
        List<int[]> a = read(src, 1, CriteoTextReader.DEFAULT_CHUNK);
        List<int[]> b = read(gz, 2, 1000);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i));
        }
    }
}
