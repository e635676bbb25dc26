package org.ttrec.spark.preprocess;

import org.ttrec.dlrm.data.CriteoTextFormat;

import java.io.Serial;
import java.io.Serializable;

/**
 * The inputs as the tasks see them: each file's name and detected format, and which file each
 * partition of the union of all files belongs to (the partitions of one file are consecutive and in
 * file order, and the files are in input order).
 */
final class InputPlan implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String[] names;
    private final CriteoTextFormat[] formats;
    private final int[] firstPartition;
    private final int[] fileOf;

    /**
     * @param names      the input files as the user named them
     * @param formats    their formats, detected from their first lines
     * @param partitions how many partitions (splits) each file has
     */
    InputPlan(String[] names, CriteoTextFormat[] formats, int[] partitions) {
        if (names.length != formats.length || names.length != partitions.length) {
            throw new IllegalArgumentException(names.length + " names, " + formats.length + " formats, "
                    + partitions.length + " partition counts");
        }
        this.names = names.clone();
        this.formats = formats.clone();
        this.firstPartition = new int[names.length + 1];
        for (int f = 0; f < names.length; f++) {
            firstPartition[f + 1] = firstPartition[f] + partitions[f];
        }
        this.fileOf = new int[firstPartition[names.length]];
        for (int f = 0; f < names.length; f++) {
            java.util.Arrays.fill(fileOf, firstPartition[f], firstPartition[f + 1], f);
        }
    }

    /** @return the number of input files */
    int files() {
        return names.length;
    }

    /** @return partitions of all files together */
    int partitions() {
        return fileOf.length;
    }

    /** @return the file that partition {@code p} belongs to */
    int fileOf(int p) {
        return fileOf[p];
    }

    /** @return the first partition of file {@code f} */
    int firstPartition(int f) {
        return firstPartition[f];
    }

    /** @return the files as the user named them, in order */
    java.util.List<String> names() {
        return java.util.List.of(names);
    }

    /** @return file {@code f} as the user named it */
    String name(int f) {
        return names[f];
    }

    /** @return the format of file {@code f} */
    CriteoTextFormat format(int f) {
        return formats[f];
    }
}
