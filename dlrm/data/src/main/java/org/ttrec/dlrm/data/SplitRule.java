package org.ttrec.dlrm.data;

import java.util.EnumMap;
import java.util.Map;

/** How rows in file order are divided into train, validation and test, as facebookresearch/dlrm does. */
public enum SplitRule {
    /**
     * Kaggle: all rows form 7 equal 'days' in file order (the first {@code N mod 7} days get one
     * extra row); days 0-5 are train, the first half of day 6 is test (the larger half when odd),
     * the second half validation.
     */
    KAGGLE,
    /** Terabyte: every input file but the last is train; the last file's first half is test, second half validation. */
    TERABYTE,
    /** {@link #KAGGLE} for one input file, {@link #TERABYTE} for several. */
    AUTO;

    /**
     * @param fileRows rows of each input file, in order
     * @return row ranges {@code [start, end)} of each split in the concatenated row order
     */
    public Map<Split, long[]> ranges(long[] fileRows) {
        SplitRule r = this;
        if (r == AUTO) {
            r = fileRows.length > 1 ? TERABYTE : KAGGLE;
        }
        long n = 0;
        for (long x : fileRows) {
            n += x;
        }
        long trainEnd;
        long lastDay;
        if (r == KAGGLE) {
            long q = n / 7;
            long extra = n % 7;
            trainEnd = 6 * q + Math.min(extra, 6);
            lastDay = n - trainEnd;
        } else {
            if (fileRows.length < 2) {
                throw new IllegalArgumentException("the Terabyte split needs at least 2 input files (day_0 .. day_23), got "
                        + fileRows.length);
            }
            lastDay = fileRows[fileRows.length - 1];
            trainEnd = n - lastDay;
        }
        long testEnd = trainEnd + (lastDay + 1) / 2;
        Map<Split, long[]> m = new EnumMap<>(Split.class);
        m.put(Split.TRAIN, new long[] {0, trainEnd});
        m.put(Split.TEST, new long[] {trainEnd, testEnd});
        m.put(Split.VALIDATION, new long[] {testEnd, n});
        return m;
    }

    /**
     * @param name "kaggle", "terabyte" or "auto", any case (the commands' {@code --split})
     * @return the rule
     * @throws IllegalArgumentException naming the option and its values
     */
    public static SplitRule parse(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "kaggle" -> KAGGLE;
            case "terabyte" -> TERABYTE;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException("--split must be kaggle, terabyte or auto, got '" + name + "'");
        };
    }
}
