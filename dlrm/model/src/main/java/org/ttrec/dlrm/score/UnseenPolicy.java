package org.ttrec.dlrm.score;

/**
 * What a raw categorical value that the dictionaries never saw becomes. Training never meets one:
 * its dictionaries are built over all of its data, and with {@code --min-count} every value seen
 * fewer times shares the rare bucket (index 0).
 */
public enum UnseenPolicy {
    /**
     * The feature's rare bucket where it has one (exactly as training mapped rare values); else an
     * empty bag, whose pooled embedding is zero: the value then contributes nothing, rather than
     * borrowing the row of some unrelated value.
     */
    RARE_BUCKET_OR_EMPTY_BAG,
    /**
     * An {@link IllegalArgumentException} naming the row, the feature and the value, for features
     * without a rare bucket. A feature with one still maps unseen values to it: its dictionary keeps
     * only the frequent values, so an unseen value cannot be told from a rare one, and training
     * mapped rare ones there.
     */
    REJECT
}
