package org.ttrec.engine;

/** How the rows of one bag are combined into one vector. */
public enum Pooling {
    /** Sum of the (weighted) rows; an empty bag gives zeros. */
    SUM,
    /** Sum of the (weighted) rows divided by the number of lookups in the bag; an empty bag gives zeros. */
    MEAN
}
