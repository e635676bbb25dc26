package org.ttrec.dlrm.score;

/** How the categorical values given to {@link ScoringModel#predict} are encoded. */
public enum CategoricalEncoding {
    /**
     * Raw 32-bit values as in Criteo's categorical fields (8 hex digits parsed as unsigned and kept
     * as the int with those bits; an empty field is 0). The model's saved dictionaries map them to
     * table indices exactly as training did, including the {@code max-ind-range} modulo and the
     * rare bucket of {@code --min-count}; values the dictionaries never saw are handled by
     * {@link ScoringOptions#unseen()}.
     */
    RAW_HASH,
    /** Table indices, already mapped: value v of feature t must lie in [0, rows of table t). */
    INDEX
}
