package org.ttrec.dlrm.data;

/** Why a row or file of Criteo data was rejected. Used in {@link CriteoFormatException} and skip reports. */
public enum BadRowReason {
    /** A text row without the expected number of fields (40 for TSV, 41 for the Kaggle CSV). */
    FIELD_COUNT,
    /** The label is not 0 or 1. */
    BAD_LABEL,
    /** A dense field is not an optionally signed decimal integer. */
    BAD_INTEGER,
    /** A dense field does not fit a signed 32-bit integer. */
    INTEGER_OVERFLOW,
    /** A categorical field holds a character that is not a hex digit. */
    BAD_HEX,
    /** A categorical field has more than 8 significant hex digits (does not fit 32 bits). */
    HEX_OVERFLOW,
    /** A binary file (MLPerf .bin or shard) whose length is not a whole number of rows, or is cut short. */
    TRUNCATED,
    /** A shard or dictionary file whose stored checksum does not match its contents. */
    CHECKSUM,
    /** A shard or dictionary file with a wrong magic number, version or impossible header. */
    BAD_HEADER,
    /** A stored categorical index outside its table, or a negative one. */
    INDEX_OUT_OF_RANGE
}
