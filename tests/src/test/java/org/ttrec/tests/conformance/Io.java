package org.ttrec.tests.conformance;

import org.ttrec.engine.FloatBuf;

/**
 * Host-side helpers for tests that must run on any backend: data goes to a backend only by
 * upload and comes back only by reading its buffers, so the same test serves device backends.
 */
final class Io {
    private Io() {
    }

    /**
     * Copies a whole buffer back into the array it was uploaded from.
     *
     * @param b the buffer
     * @param a the array, b.length() floats or more
     */
    static void down(FloatBuf b, float[] a) {
        b.read(0, a, 0, b.length());
    }
}
