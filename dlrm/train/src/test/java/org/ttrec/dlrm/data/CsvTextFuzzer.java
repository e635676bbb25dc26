package org.ttrec.dlrm.data;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzz target: the Kaggle CSV variant ({@code Id,Label,I1..I13,C1..C26}, commas, CRLF). The
 * input follows a real CSV header line, so the reader is always in CSV mode with an id column;
 * the first byte picks the bad-row policy and the chunk size. Same invariants as
 * {@link RawTextFuzzer}.
 */
public final class CsvTextFuzzer {
    static final String NAME = "fuzz-input.csv";
    static final byte[] HEADER;

    static {
        List<String> h = new ArrayList<>(List.of("Id", "Label"));
        for (int i = 1; i <= 13; i++) {
            h.add("I" + i);
        }
        for (int i = 1; i <= 26; i++) {
            h.add("C" + i);
        }
        HEADER = (String.join(",", h) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    private CsvTextFuzzer() {}

    /** @param data the fuzzer's input */
    public static void fuzzerTestOneInput(byte[] data) {
        if (data.length == 0) {
            return;
        }
        int ctl = data[0] & 0xff;
        byte[] body = Arrays.copyOf(HEADER, HEADER.length + data.length - 1);
        System.arraycopy(data, 1, body, HEADER.length, data.length - 1);
        RawTextFuzzer.read(NAME, body, (ctl & 1) == 0 ? BadRowPolicy.FAIL : BadRowPolicy.SKIP, 16 << ((ctl >> 1) & 7));
    }

    /** @return seed inputs: CSV rows good and broken */
    public static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>();
        for (byte[] tsv : RawTextFuzzer.seeds()) {
            if (tsv.length > 1 && (tsv[1] & 0xff) != 0x1f) {
                String t = new String(tsv, 1, tsv.length - 1, StandardCharsets.ISO_8859_1);
                String csv = "\0" + ("10000743," + t.replace('\t', ',')).replace("\n", "\r\n");
                s.add(csv.getBytes(StandardCharsets.ISO_8859_1));
            }
        }
        return s;
    }
}
