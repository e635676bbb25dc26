package org.ttrec.dlrm.data;

import org.ttrec.dlrm.fuzz.Findings;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzz target: one line through {@link CriteoRowParser} (TSV, or CSV with an id column when the
 * first byte is odd), compared with the slow, obviously correct reference parser of the tests
 * ({@link TestData#reference}): both must accept the same lines with the same 40 ints, and a
 * rejection must name a field in range and a reason.
 */
public final class RowParserFuzzer {
    private static final CriteoRowParser TSV = new CriteoRowParser((byte) '\t', false);
    private static final CriteoRowParser CSV = new CriteoRowParser((byte) ',', true);

    private RowParserFuzzer() {}

    /** @param data the fuzzer's input */
    public static void fuzzerTestOneInput(byte[] data) {
        if (data.length == 0) {
            return;
        }
        boolean csv = (data[0] & 1) == 1;
        int end = data.length;
        for (int i = 1; i < data.length; i++) {
            if (data[i] == '\n') {
                end = i; // the reader cuts lines at '\n': a line never holds one
                break;
            }
        }
        CriteoRowParser p = csv ? CSV : TSV;
        int[] out = new int[CriteoRowParser.ROW_INTS];
        boolean ok = p.parse(data, 1, end, out, 0);
        int[] ref = TestData.reference(new String(data, 1, end - 1, StandardCharsets.ISO_8859_1), csv ? ',' : '\t', csv);
        Findings.check(ok == (ref != null), "parser " + (ok ? "accepted" : "rejected (" + p.errorReason() + ")")
                + " a line the reference " + (ref != null ? "accepts" : "rejects"));
        if (ok) {
            Findings.check(Arrays.equals(out, ref), "parsed " + Arrays.toString(out) + ", reference " + Arrays.toString(ref));
        } else {
            Findings.check(p.errorReason() != null && p.errorField() >= -1 && p.errorField() < CriteoRowParser.FIELDS,
                    "rejection without a reason or with field " + p.errorField());
            Findings.check(p.errorValue(data) != null && p.errorDetail() != null, "rejection without value or detail");
        }
    }

    /** @return seed inputs: the text seeds' first lines, both separators */
    public static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>();
        for (byte[] b : RawTextFuzzer.seeds()) {
            byte[] t = b.clone();
            t[0] = 0;
            s.add(t);
        }
        for (byte[] b : CsvTextFuzzer.seeds()) {
            byte[] t = b.clone();
            t[0] = 1;
            s.add(t);
        }
        return s;
    }
}
