package org.ttrec.dlrm.data;

import java.io.IOException;

/** A one-pass stream of mini-batches. */
public interface BatchStream extends AutoCloseable {
    /**
     * @return the next batch, or null at the end (the last batch may be smaller)
     * @throws IOException if reading fails; malformed input names the file and position
     */
    Batch next() throws IOException;

    /**
     * Moves past the next {@code batches} batches without handing them out, so that a resumed run
     * or a data-parallel replica starts mid-epoch without assembling what it will not train on.
     * What {@link #next} returns afterwards is what it would have returned after that many calls.
     * The default calls {@link #next}; streams that can jump override it.
     *
     * @param batches how many batches to pass, >= 0
     * @return how many were passed (fewer at the end of the stream)
     * @throws IOException if reading fails
     */
    default long skip(long batches) throws IOException {
        if (batches < 0) {
            throw new IllegalArgumentException("cannot skip " + batches + " batches");
        }
        long n = 0;
        while (n < batches && next() != null) {
            n++;
        }
        return n;
    }

    @Override
    void close() throws IOException;
}
