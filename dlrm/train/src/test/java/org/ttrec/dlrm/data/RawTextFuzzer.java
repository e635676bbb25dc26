package org.ttrec.dlrm.data;

import org.ttrec.dlrm.fuzz.Findings;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzz target: raw Criteo text (TSV, with format detection, header, BOM, gzip, CRLF) through
 * {@link CriteoTextReader} with both bad-row policies and small chunk sizes (rows cut across
 * chunks). The first byte picks the policy and the chunk size. Every row handed out must have a
 * 0/1 label and non-negative dense values; a failure must be a {@link CriteoFormatException} or
 * IOException naming the file.
 */
public final class RawTextFuzzer {
    static final String NAME = "fuzz-input.tsv";

    private RawTextFuzzer() {}

    /** @param data the fuzzer's input */
    public static void fuzzerTestOneInput(byte[] data) {
        if (data.length == 0) {
            return;
        }
        int ctl = data[0] & 0xff;
        read(NAME, Arrays.copyOfRange(data, 1, data.length), (ctl & 1) == 0 ? BadRowPolicy.FAIL : BadRowPolicy.SKIP,
                16 << ((ctl >> 1) & 7));
    }

    static void read(String name, byte[] body, BadRowPolicy policy, int chunk) {
        long rows = 0;
        BadRowCounts counts = new BadRowCounts();
        try (CriteoTextReader r = new CriteoTextReader(name, new ByteArrayInputStream(body), body.length, 1, policy,
                counts, chunk)) {
            for (RowBlock b = r.next(); b != null; b = r.next()) {
                for (int i = 0; i < b.rows; i++) {
                    int o = i * CriteoRowParser.ROW_INTS;
                    Findings.check(b.data[o] == 0 || b.data[o] == 1, "label " + b.data[o]);
                    for (int f = 1; f <= CriteoRowParser.DENSE; f++) {
                        Findings.check(b.data[o + f] >= 0, "dense value " + b.data[o + f]);
                    }
                }
                rows += b.rows;
            }
            Findings.check(rows == r.rowsRead(), "rows handed out " + rows + " vs counted " + r.rowsRead());
        } catch (Throwable e) {
            if (e instanceof Findings.Finding f) {
                throw f;
            }
            Findings.expectDeclared(e, name);
        }
    }

    /** @return seed inputs: good TSV rows, a header, CRLF, a BOM, gzip, and rows broken in typical ways */
    public static List<byte[]> seeds() {
        String good = "1\t5\t\t3\t-1\t0\t12\t\t4\t7\t\t1\t2\t3\t68fd1e64\t80e26c9b\tfb936136\t7b4723c4\t25c83c98"
                + "\t7e0ccccf\tde7995b8\t1f89b562\ta73ee510\ta8cd5504\tb2cb9c98\t37c9c164\t2824a5f6\t1adce6ef"
                + "\t8ba8b39a\t891b62e7\te5ba7672\tf54016b9\t21ddcdc9\tb1252a9d\t07b5194c\t\t3a171ecb\tc5c50484"
                + "\te8b83407\t9727dd16\n";
        String bad = good.replace("\t5\t", "\tx5\t");
        return List.of(
                ("\0" + good + good).getBytes(StandardCharsets.ISO_8859_1),
                ("\1" + good + bad + good).getBytes(StandardCharsets.ISO_8859_1),
                ("\2" + good.replace("\n", "\r\n")).getBytes(StandardCharsets.ISO_8859_1),
                ("\0\u00ef\u00bb\u00bf" + good).getBytes(StandardCharsets.ISO_8859_1),
                ("\0label\tI1\n" + good).getBytes(StandardCharsets.ISO_8859_1),
                ("\3" + good.substring(0, 40)).getBytes(StandardCharsets.ISO_8859_1),
                gzip(("\0" + good).substring(1)));
    }

    static byte[] gzip(String s) {
        try {
            java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
            o.write(0);
            try (java.util.zip.GZIPOutputStream g = new java.util.zip.GZIPOutputStream(o)) {
                g.write(s.getBytes(StandardCharsets.ISO_8859_1));
            }
            return o.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
