package org.ttrec.dlrm.data;

import java.util.Arrays;

/** Counts of skipped rows per {@link BadRowReason}; thread-safe through synchronisation. */
public final class BadRowCounts {
    private final long[] counts = new long[BadRowReason.values().length];

    /** Adds {@code n} rows skipped for {@code reason}. */
    public synchronized void add(BadRowReason reason, long n) {
        counts[reason.ordinal()] += n;
    }

    synchronized void addAll(long[] perReason) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += perReason[i];
        }
    }

    /** @return rows skipped for {@code reason} */
    public synchronized long get(BadRowReason reason) {
        return counts[reason.ordinal()];
    }

    /** @return all rows skipped */
    public synchronized long total() {
        return Arrays.stream(counts).sum();
    }

    /** @return e.g. "3 rows skipped: field count 2, bad hex 1", or "no rows skipped" */
    @Override
    public synchronized String toString() {
        long total = total();
        if (total == 0) {
            return "no rows skipped";
        }
        StringBuilder sb = new StringBuilder().append(total).append(" rows skipped:");
        String sep = " ";
        for (BadRowReason r : BadRowReason.values()) {
            if (counts[r.ordinal()] > 0) {
                sb.append(sep).append(r.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '))
                        .append(' ').append(counts[r.ordinal()]);
                sep = ", ";
            }
        }
        return sb.toString();
    }
}
