package org.ttrec.dlrm.data;

/** Which part of a data set: dlrm's train, validation and test splits. */
public enum Split {
    /** Training rows. */
    TRAIN,
    /** Validation rows (dlrm: the second half of the last day). */
    VALIDATION,
    /** Test rows (dlrm: the first half of the last day). */
    TEST
}
