package org.ttrec.dlrm.data;

/**
 * Parses one raw Criteo text row straight from a byte buffer into ints, without creating
 * strings (a Terabyte day is ~200M rows, so per-field objects would dominate the cost).
 *
 * <p>Output layout, shared with the binary shards and MLPerf .bin rows: {@link #ROW_INTS} ints per
 * row, {@code [label, I1..I13, C1..C26]}. Empty dense fields become 0, negative dense values are
 * clipped to 0, and categorical fields are 32-bit unsigned hex hashes stored as their int bit
 * pattern (empty -> 0). Not thread-safe: use one parser per thread.
 */
public final class CriteoRowParser {
    /** Dense (integer) features per row. */
    public static final int DENSE = 13;
    /** Categorical features per row. */
    public static final int SPARSE = 26;
    /** Ints per parsed row: label, dense, categorical. */
    public static final int ROW_INTS = 1 + DENSE + SPARSE;
    /** Fields in a raw TSV row. */
    public static final int FIELDS = ROW_INTS;

    private static final byte[] HEX = new byte[256];

    static {
        java.util.Arrays.fill(HEX, (byte) -1);
        for (int c = '0'; c <= '9'; c++) {
            HEX[c] = (byte) (c - '0');
        }
        for (int c = 'a'; c <= 'f'; c++) {
            HEX[c] = (byte) (c - 'a' + 10);
            HEX[c - 'a' + 'A'] = (byte) (c - 'a' + 10);
        }
    }

    private final byte sep;
    private final boolean hasId;

    // Details of the last failure, read by the caller to build the exception.
    BadRowReason errReason;
    int errField;
    int errFrom;
    int errTo;
    String errDetail;

    /**
     * @param sep   field separator: '\t' for raw Criteo, ',' for the Kaggle CSV
     * @param hasId whether each row starts with an id column to ignore (Kaggle CSV)
     */
    public CriteoRowParser(byte sep, boolean hasId) {
        this.sep = sep;
        this.hasId = hasId;
    }

    /**
     * Parses the line {@code buf[from, to)} (without its '\n'; a trailing '\r' is ignored).
     *
     * @return true if the row was good and written to {@code out[outOff, outOff + ROW_INTS)};
     *         false if it is malformed (then see {@link #errorReason()} etc.; {@code out} may be partly written)
     */
    public boolean parse(byte[] buf, int from, int to, int[] out, int outOff) {
        if (to > from && buf[to - 1] == '\r') {
            to--;
        }
        final byte sep = this.sep;
        int p = from;
        if (hasId) {
            while (p < to && buf[p] != sep) {
                p++;
            }
            if (p == to) {
                return fail(BadRowReason.FIELD_COUNT, -1, from, to, countDetail(buf, from, to));
            }
            p++;
        }
        // Label: exactly "0" or "1".
        int fs = p;
        while (p < to && buf[p] != sep) {
            p++;
        }
        if (p - fs != 1 || (buf[fs] != '0' && buf[fs] != '1')) {
            if (p == to) {
                return fail(BadRowReason.FIELD_COUNT, -1, from, to, countDetail(buf, from, to));
            }
            return fail(BadRowReason.BAD_LABEL, 0, fs, p, "expected 0 or 1");
        }
        out[outOff] = buf[fs] - '0';
        for (int f = 1; f <= DENSE; f++) {
            if (p >= to) {
                return fail(BadRowReason.FIELD_COUNT, -1, from, to, countDetail(buf, from, to));
            }
            p++;
            fs = p;
            long v = 0;
            boolean neg = false;
            if (p < to && (buf[p] == '-' || buf[p] == '+')) {
                neg = buf[p] == '-';
                p++;
                if (p >= to || buf[p] == sep) {
                    return fail(BadRowReason.BAD_INTEGER, f, fs, scanEnd(buf, p, to), "sign without digits");
                }
            }
            int digits = 0;
            while (p < to) {
                int c = buf[p];
                if (c == sep) {
                    break;
                }
                int d = c - '0';
                if (d < 0 || d > 9) {
                    return fail(BadRowReason.BAD_INTEGER, f, fs, scanEnd(buf, p, to), "not a decimal integer");
                }
                v = v * 10 + d;
                if (v > 0x80000000L) {
                    // Keep scanning would risk long overflow on absurd inputs; report now.
                    return fail(BadRowReason.INTEGER_OVERFLOW, f, fs, scanEnd(buf, p, to), "does not fit 32 bits");
                }
                digits++;
                p++;
            }
            if (neg) {
                out[outOff + f] = 0; // negative counts are clipped to 0 (Criteo's I2 has -1, -2, -3)
            } else {
                if (v > Integer.MAX_VALUE) {
                    return fail(BadRowReason.INTEGER_OVERFLOW, f, fs, p, "does not fit 32 bits");
                }
                out[outOff + f] = (int) v;
            }
            assert digits >= 0;
        }
        for (int f = DENSE + 1; f < FIELDS; f++) {
            if (p >= to) {
                return fail(BadRowReason.FIELD_COUNT, -1, from, to, countDetail(buf, from, to));
            }
            p++;
            fs = p;
            // Fast path: Criteo hashes are exactly 8 hex digits; decode them unrolled, without
            // per-byte separator tests. Anything else (or an invalid digit) takes the careful loop.
            if (p + 8 <= to && (p + 8 == to || buf[p + 8] == sep)) {
                int d0 = HEX[buf[p] & 0xff];
                int d1 = HEX[buf[p + 1] & 0xff];
                int d2 = HEX[buf[p + 2] & 0xff];
                int d3 = HEX[buf[p + 3] & 0xff];
                int d4 = HEX[buf[p + 4] & 0xff];
                int d5 = HEX[buf[p + 5] & 0xff];
                int d6 = HEX[buf[p + 6] & 0xff];
                int d7 = HEX[buf[p + 7] & 0xff];
                if ((d0 | d1 | d2 | d3 | d4 | d5 | d6 | d7) >= 0) {
                    out[outOff + f] = d0 << 28 | d1 << 24 | d2 << 20 | d3 << 16 | d4 << 12 | d5 << 8 | d6 << 4 | d7;
                    p += 8;
                    continue;
                }
            }
            int v = 0;
            int sig = 0;
            while (p < to) {
                int c = buf[p] & 0xff;
                if (c == sep) {
                    break;
                }
                int d = HEX[c];
                if (d < 0) {
                    return fail(BadRowReason.BAD_HEX, f, fs, scanEnd(buf, p, to), "not a hex digit");
                }
                if (sig > 0 || d != 0) {
                    if (++sig > 8) {
                        return fail(BadRowReason.HEX_OVERFLOW, f, fs, scanEnd(buf, p, to), "more than 32 bits");
                    }
                }
                v = (v << 4) | d;
                p++;
            }
            out[outOff + f] = v;
        }
        if (p < to) {
            return fail(BadRowReason.FIELD_COUNT, -1, from, to, countDetail(buf, from, to));
        }
        return true;
    }

    private int scanEnd(byte[] buf, int p, int to) {
        while (p < to && buf[p] != sep) {
            p++;
        }
        return p;
    }

    private String countDetail(byte[] buf, int from, int to) {
        int n = 1;
        for (int i = from; i < to; i++) {
            if (buf[i] == sep) {
                n++;
            }
        }
        return n + " fields, expected " + (FIELDS + (hasId ? 1 : 0));
    }

    private boolean fail(BadRowReason reason, int field, int from, int to, String detail) {
        errReason = reason;
        errField = field;
        errFrom = from;
        errTo = to;
        errDetail = detail;
        return false;
    }

    /** @return why the last {@link #parse} failed */
    public BadRowReason errorReason() {
        return errReason;
    }

    /** @return the field of the last failure (0 label, 1..13 dense, 14..39 categorical), -1 for the whole row */
    public int errorField() {
        return errField;
    }

    /** @return a printable excerpt of the offending value or row */
    public String errorValue(byte[] buf) {
        return CriteoFormatException.printable(buf, errFrom, errTo);
    }

    /** @return more detail about the last failure */
    public String errorDetail() {
        return errDetail;
    }
}
