package org.ttrec.dlrm.data;

/** What to do with a malformed row. */
public enum BadRowPolicy {
    /** Stop with a {@link CriteoFormatException} naming the file, line, field and value (the default). */
    FAIL,
    /** Drop the row, count it by {@link BadRowReason}, and report the counts at the end. */
    SKIP
}
