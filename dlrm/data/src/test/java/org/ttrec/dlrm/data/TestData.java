package org.ttrec.dlrm.data;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Test helpers: the real Criteo samples and an independent, string-based reference parser. */
final class TestData {
    private TestData() {}

    static final String CSV = "criteo_kaggle_train_tiny_2k.csv";
    static final String TSV = "criteo_kaggle_raw_sample_100.tsv";

    /** @return a file of /work/shared/data, or skips the test saying why */
    static Path shared(String name) {
        String root = System.getProperty("ttrec.repo.root", ".");
        Path p = Path.of(root).resolve("../shared/data").resolve(name).normalize();
        if (!Files.isRegularFile(p)) {
            System.out.println("skipped: real Criteo sample " + p + " not found (needs ../shared/data next to the repo)");
            Assumptions.assumeTrue(false, "missing " + p);
        }
        return p;
    }

    /**
     * Reference parse of one line with String.split and BigInteger (slow, obviously correct):
     * returns the 40 ints, or null if the line is malformed.
     */
    static int[] reference(String line, char sep, boolean hasId) {
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        String[] f = line.split(java.util.regex.Pattern.quote(String.valueOf(sep)), -1);
        int skip = hasId ? 1 : 0;
        if (f.length != 40 + skip) {
            return null;
        }
        int[] out = new int[40];
        if (!f[skip].equals("0") && !f[skip].equals("1")) {
            return null;
        }
        out[0] = f[skip].charAt(0) - '0';
        for (int j = 1; j <= 13; j++) {
            String s = f[skip + j];
            if (s.isEmpty()) {
                continue;
            }
            if (!s.matches("[+-]?[0-9]+")) {
                return null;
            }
            BigInteger v = new BigInteger(s.startsWith("+") ? s.substring(1) : s);
            if (v.compareTo(BigInteger.valueOf(Integer.MIN_VALUE)) < 0 || v.compareTo(BigInteger.valueOf(Integer.MAX_VALUE)) > 0) {
                return null;
            }
            out[j] = Math.max(0, v.intValue());
        }
        for (int j = 14; j < 40; j++) {
            String s = f[skip + j];
            if (s.isEmpty()) {
                continue;
            }
            if (!s.matches("[0-9a-fA-F]+")) {
                return null;
            }
            BigInteger v = new BigInteger(s, 16);
            if (v.bitLength() > 32) {
                return null;
            }
            out[j] = (int) v.longValue();
        }
        return out;
    }

    /** Reference rows of a whole file (header skipped for CSV). */
    static List<int[]> referenceRows(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.ISO_8859_1);
        boolean csv = file.toString().endsWith(".csv");
        List<int[]> rows = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = csv ? 1 : 0; i < lines.length; i++) {
            if (lines[i].isEmpty() && i == lines.length - 1) {
                continue;
            }
            int[] r = reference(lines[i], csv ? ',' : '\t', csv);
            if (r == null) {
                throw new AssertionError("reference parser rejects line " + (i + 1) + " of " + file);
            }
            rows.add(r);
        }
        return rows;
    }

    /** All rows of a reader, concatenated. */
    static List<int[]> readAll(CriteoTextReader r) throws IOException {
        List<int[]> rows = new ArrayList<>();
        RowBlock b;
        while ((b = r.next()) != null) {
            for (int i = 0; i < b.rows; i++) {
                rows.add(java.util.Arrays.copyOfRange(b.data, i * 40, i * 40 + 40));
            }
        }
        return rows;
    }

    /** Collects every batch of a split. */
    static List<Batch> batches(Dataset d, Split s, int bs, boolean shuffle, long seed) throws IOException {
        List<Batch> out = new ArrayList<>();
        try (BatchStream st = d.batches(s, bs, shuffle, seed)) {
            Batch b;
            while ((b = st.next()) != null) {
                out.add(b);
            }
        }
        return out;
    }

    /** Flattens batches to one "row key" string per sample, for comparisons. */
    static List<String> rowKeys(List<Batch> bs) {
        List<String> keys = new ArrayList<>();
        for (Batch b : bs) {
            int dn = b.denseFeatures();
            for (int i = 0; i < b.size(); i++) {
                StringBuilder sb = new StringBuilder().append(b.labels()[i]);
                for (int j = 0; j < dn; j++) {
                    sb.append(',').append(b.dense()[i * dn + j]);
                }
                for (int t = 0; t < b.tables(); t++) {
                    sb.append(',').append(b.indices()[t][i]);
                }
                keys.add(sb.toString());
            }
        }
        return keys;
    }
}
