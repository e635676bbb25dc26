package org.ttrec.dlrm.data;

import java.io.IOException;

/** A one-pass stream of mini-batches. */
public interface BatchStream extends AutoCloseable {
    /**
     * @return the next batch, or null at the end (the last batch may be smaller)
     * @throws IOException if reading fails; malformed input names the file and position
     */
    Batch next() throws IOException;

    @Override
    void close() throws IOException;
}
