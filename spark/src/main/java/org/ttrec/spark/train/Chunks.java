package org.ttrec.spark.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a state's arrays ({@link ModelState#arrays()}) into chunks of at most {@value #MAX_FLOATS}
 * floats, numbered in layout order: the keys of the round's shuffle, so that the averaging of a
 * large model is spread over many reduce tasks and no single record is huge.
 */
final class Chunks {
    /** Floats per chunk at most (4 MiB). */
    static final int MAX_FLOATS = 1 << 20;
    /** The shuffle key of the replicas' outcomes. */
    static final int OUTCOMES = -1;

    /**
     * One chunk: floats [offset, offset + length) of array {@code array}.
     *
     * @param array  index into the layout's arrays
     * @param offset first float
     * @param length floats
     */
    record Chunk(int array, int offset, int length) {}

    private Chunks() {}

    /**
     * @param lengths the arrays' lengths, in layout order
     * @return the chunks, in key order
     */
    static List<Chunk> of(int[] lengths) {
        List<Chunk> out = new ArrayList<>();
        for (int a = 0; a < lengths.length; a++) {
            int off = 0;
            do {
                int n = Math.min(MAX_FLOATS, lengths[a] - off);
                out.add(new Chunk(a, off, n));
                off += n;
            } while (off < lengths[a]);
        }
        return out;
    }
}
