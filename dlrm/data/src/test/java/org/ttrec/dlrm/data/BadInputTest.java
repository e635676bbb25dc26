package org.ttrec.dlrm.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BadInputTest {
    @TempDir
    Path tmp;

    private static final String GOOD =
            "1\t3\t-1\t\t7\t100\t\t2\t0\t9\t\t1\t\t5\t05db9164\tf0cf0024\t6f67f7e5\t41274cd7\t25c83c98\tfbad5c96\t25c8362c"
            + "\t0b153874\ta73ee510\t0e97bb27\tba0f9e8a\t623049e6\t4e4dd817\tb28479f6\te6c5b5cd\tc92f3b61\t3486227d"
            + "\tb04e4670\t21ddcdc9\tb1252a9d\t60f6221e\t\t32c7478e\t43f13e8b\tea9a246c\t731c3655";

    private Path file(String... lines) throws IOException {
        Path p = Files.createTempFile(tmp, "day_", ".tsv");
        Files.writeString(p, String.join("\n", lines) + "\n", StandardCharsets.ISO_8859_1);
        return p;
    }

    /** Replaces field f (0-based) of the good row. */
    private static String with(int f, String value) {
        String[] parts = GOOD.split("\t", -1);
        parts[f] = value;
        return String.join("\t", parts);
    }

    private CriteoFormatException fail(Path p) {
        return assertThrows(CriteoFormatException.class, () -> {
            try (CriteoTextReader r = new CriteoTextReader(p, 1, BadRowPolicy.FAIL, null)) {
                TestData.readAll(r);
            }
        });
    }

    @Test
    void goodRowParses() throws IOException {
        try (CriteoTextReader r = new CriteoTextReader(file(GOOD), 1, BadRowPolicy.FAIL, null)) {
            List<int[]> rows = TestData.readAll(r);
            assertEquals(1, rows.size());
            assertArrayEquals(TestData.reference(GOOD, '\t', false), rows.get(0));
            assertEquals(0, rows.get(0)[2]); // -1 clipped
        }
    }

    @Test
    void eachKindOfBadRowNamesFileLineFieldAndValue() throws IOException {
        record Case(String line, BadRowReason reason, int field, String value) {}
        List<Case> cases = List.of(
                new Case(GOOD + "\textra", BadRowReason.FIELD_COUNT, -1, null),
                new Case(GOOD.substring(0, GOOD.lastIndexOf('\t')), BadRowReason.FIELD_COUNT, -1, null),
                new Case(with(0, "2"), BadRowReason.BAD_LABEL, 0, "2"),
                new Case(with(3, "12x"), BadRowReason.BAD_INTEGER, 3, "12x"),
                new Case(with(5, "1.5"), BadRowReason.BAD_INTEGER, 5, "1.5"),
                new Case(with(4, "99999999999"), BadRowReason.INTEGER_OVERFLOW, 4, "99999999999"),
                new Case(with(4, "2147483648"), BadRowReason.INTEGER_OVERFLOW, 4, "2147483648"),
                new Case(with(20, "zz3a1b2c"), BadRowReason.BAD_HEX, 20, "zz3a1b2c"),
                new Case(with(39, "1731c3655"), BadRowReason.HEX_OVERFLOW, 39, "1731c3655"),
                new Case(with(14, "05db\u00ff\u0000164"), BadRowReason.BAD_HEX, 14, "05db\\xff\\x00164"),
                new Case("\u0000\u0001\u0002garbage\u00ff", BadRowReason.FIELD_COUNT, -1, null));
        for (Case c : cases) {
            Path p = file(GOOD, GOOD, c.line, GOOD);
            CriteoFormatException e = fail(p);
            assertEquals(c.reason, e.reason(), c.line);
            assertEquals(3, e.line(), c.line);
            assertEquals(c.field, e.field(), c.line);
            assertEquals(p.toString(), e.file());
            assertTrue(e.getMessage().contains(p.toString() + ":3"), e.getMessage());
            if (c.value != null) {
                assertEquals(c.value, e.value());
                assertTrue(e.getMessage().contains(c.value), e.getMessage());
                assertTrue(e.getMessage().contains(CriteoFormatException.fieldName(c.field)), e.getMessage());
            }
        }
    }

    @Test
    void corruptFirstLineIsNotTakenForAHeader() throws IOException {
        CriteoFormatException e = fail(file("x" + GOOD.substring(1), GOOD));
        assertEquals(1, e.line());
        assertEquals(BadRowReason.BAD_LABEL, e.reason());
        // A real header is skipped, and line numbers still count it.
        Path p = file(String.join("\t", java.util.Collections.nCopies(40, "Label")), GOOD, with(5, "q"));
        e = fail(p);
        assertEquals(3, e.line());
    }

    @Test
    void lineNumbersAreRightAcrossChunksAndThreads() throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            lines.add(i == 377 ? with(7, "abc") : GOOD);
        }
        Path p = file(lines.toArray(String[]::new));
        CriteoFormatException e = assertThrows(CriteoFormatException.class, () -> {
            try (CriteoTextReader r = new CriteoTextReader(p, 3, BadRowPolicy.FAIL, null, 1000)) {
                TestData.readAll(r);
            }
        });
        assertEquals(378, e.line());
        assertEquals(7, e.field());
        assertEquals(377L * (GOOD.length() + 1), e.byteOffset());
    }

    @Test
    void skipPolicyCountsPerReason() throws IOException {
        Path p = file(GOOD, with(3, "x"), with(3, "y"), with(20, "g"), GOOD + "\t", with(0, "7"), GOOD);
        BadRowCounts counts = new BadRowCounts();
        try (CriteoTextReader r = new CriteoTextReader(p, 2, BadRowPolicy.SKIP, counts, 200)) {
            assertEquals(2, TestData.readAll(r).size());
        }
        assertEquals(2, counts.get(BadRowReason.BAD_INTEGER));
        assertEquals(1, counts.get(BadRowReason.BAD_HEX));
        assertEquals(1, counts.get(BadRowReason.FIELD_COUNT));
        assertEquals(1, counts.get(BadRowReason.BAD_LABEL));
        assertEquals(5, counts.total());
        assertTrue(counts.toString().contains("bad integer 2"), counts.toString());
    }

    @Test
    void binaryFileWithoutNewlinesIsRejectedNotLoaded() throws IOException {
        Path p = tmp.resolve("junk.bin.txt");
        byte[] junk = new byte[3 << 20];
        new SplittableRandom(5).nextBytes(junk);
        for (int i = 0; i < junk.length; i++) {
            if (junk[i] == '\n') {
                junk[i] = 0;
            }
        }
        Files.write(p, junk);
        try (CriteoTextReader r = new CriteoTextReader(p, 1, BadRowPolicy.SKIP, null, 1 << 20)) {
            // 3 MiB without a line break is one (bad) line: skipped, not a crash.
            assertNotNull(r.next());
            assertNull(r.next());
        }
    }

    /** Random and mutated rows: the parser agrees with the reference or reports a CriteoFormatException. */
    @Test
    void fuzzParserAgainstReference() throws IOException {
        SplittableRandom rnd = new SplittableRandom(42);
        List<String> seeds = new ArrayList<>(Files.readAllLines(TestData.shared(TestData.TSV), StandardCharsets.ISO_8859_1));
        seeds.add(GOOD);
        String alphabet = "0123456789abcdefABCDEFxg+-\t\t\t\r ,.\u0000\u00ff9";
        CriteoRowParser parser = new CriteoRowParser((byte) '\t', false);
        int[] out = new int[40];
        int agreeGood = 0;
        int agreeBad = 0;
        for (int it = 0; it < 20000; it++) {
            StringBuilder sb = new StringBuilder(seeds.get(rnd.nextInt(seeds.size())));
            int edits = 1 + rnd.nextInt(4);
            for (int e = 0; e < edits; e++) {
                int kind = rnd.nextInt(5);
                int pos = sb.isEmpty() ? 0 : rnd.nextInt(sb.length());
                char c = alphabet.charAt(rnd.nextInt(alphabet.length()));
                switch (kind) {
                    case 0 -> sb.insert(pos, c);
                    case 1 -> { if (!sb.isEmpty()) sb.deleteCharAt(pos); }
                    case 2 -> { if (!sb.isEmpty()) sb.setCharAt(pos, c); }
                    case 3 -> sb.insert(pos, "99999999999".substring(rnd.nextInt(10)));
                    default -> { // random field content
                        if (!sb.isEmpty()) sb.replace(pos, Math.min(sb.length(), pos + rnd.nextInt(12)),
                                Long.toHexString(rnd.nextLong()).substring(rnd.nextInt(8)));
                    }
                }
            }
            if (it % 10 == 0) { // pure noise rows too
                sb.setLength(0);
                for (int k = rnd.nextInt(300); k > 0; k--) {
                    sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
                }
            }
            String line = sb.toString();
            byte[] bytes = line.getBytes(StandardCharsets.ISO_8859_1);
            int[] ref = TestData.reference(line, '\t', false);
            boolean ok = parser.parse(bytes, 0, bytes.length, out, 0);
            assertEquals(ref != null, ok, () -> "disagree on '" + line + "': " + parser.errorReason());
            if (ok) {
                assertArrayEquals(ref, out, line);
                agreeGood++;
            } else {
                assertNotNull(parser.errorReason());
                agreeBad++;
            }
        }
        assertTrue(agreeGood > 1000 && agreeBad > 1000, agreeGood + " good, " + agreeBad + " bad");
        // Whole mutated files through the reader: only the documented exception may escape.
        for (int f = 0; f < 30; f++) {
            byte[] data = Files.readAllBytes(TestData.shared(TestData.TSV));
            for (int k = 0; k < 20; k++) {
                data[rnd.nextInt(data.length)] = (byte) rnd.nextInt(256);
            }
            Path p = tmp.resolve("fuzz" + f + ".tsv");
            Files.write(p, data);
            for (BadRowPolicy policy : BadRowPolicy.values()) {
                try (CriteoTextReader r = new CriteoTextReader(p, 2, policy, null, 512)) {
                    TestData.readAll(r);
                } catch (CriteoFormatException expected) {
                    assertTrue(expected.line() >= 1);
                }
            }
        }
    }
}
