package org.ttrec.spark.preprocess;

import org.ttrec.dlrm.data.BadRowReason;
import org.ttrec.dlrm.data.CriteoFormatException;

import java.io.Serial;
import java.io.Serializable;

/**
 * The first malformed line of one partition, as a task reports it to the driver instead of
 * throwing: only the driver knows how many lines the partitions before it hold, so only it can
 * name the line, and only it knows which failing partition comes first in file order.
 * (A plain class, not a record: Kryo, if the job uses it, cannot set a record's fields.)
 */
final class ScanFailure implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** What is wrong. */
    final BadRowReason reason;
    /** 0-based index of the line among the partition's data lines, or -1 where lines were not counted. */
    final long localLine;
    /** Byte offset of the line in the (decompressed) file. */
    final long byteOffset;
    /** Field of the failure, -1 for the whole row. */
    final int field;
    /** Printable excerpt of the offending value, or null. */
    final String value;
    /** More detail, or null. */
    final String detail;

    ScanFailure(BadRowReason reason, long localLine, long byteOffset, int field, String value, String detail) {
        this.reason = reason;
        this.localLine = localLine;
        this.byteOffset = byteOffset;
        this.field = field;
        this.value = value;
        this.detail = detail;
    }

    /** @return the failure of an exception met while reading (a line without a line break) */
    static ScanFailure of(CriteoFormatException e) {
        return new ScanFailure(e.reason(), -1, e.byteOffset(), e.field(), e.value(), e.detail());
    }

    /**
     * @param file      the file as the user named it
     * @param firstLine line number of the partition's first data line, or -1 if not counted
     * @return the exception the single-machine reader throws for the same line
     */
    CriteoFormatException toException(String file, long firstLine) {
        long line = localLine < 0 || firstLine < 0 ? -1 : firstLine + localLine;
        return new CriteoFormatException(reason, file, line, byteOffset, field, value, detail);
    }
}
