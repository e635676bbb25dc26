package org.ttrec.dlrm.data;

/** What to do with a malformed row. */
public enum BadRowPolicy {
    /** Stop with a {@link CriteoFormatException} naming the file, line, field and value (the default). */
    FAIL,
    /** Drop the row, count it by {@link BadRowReason}, and report the counts at the end. */
    SKIP;

    /**
     * @param name "fail" or "skip", any case (the commands' {@code --on-bad-row})
     * @return the policy
     * @throws IllegalArgumentException naming the option and its values
     */
    public static BadRowPolicy parse(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "fail" -> FAIL;
            case "skip" -> SKIP;
            default -> throw new IllegalArgumentException("--on-bad-row must be fail or skip, got '" + name + "'");
        };
    }
}
