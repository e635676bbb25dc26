package org.ttrec.engine;

/**
 * An int array owned by a {@link ComputeBackend}: lookup indices and CSR bag offsets, and
 * gather lists for batched GEMM. See {@link FloatBuf} for the ownership rules.
 */
public interface IntBuf extends AutoCloseable {
    /** @return the number of ints in this buffer */
    int length();

    /**
     * Copies {@code n} ints from a host array into this buffer.
     *
     * @param off    first element of this buffer to write
     * @param src    host array
     * @param srcOff first element of {@code src} to read
     * @param n      number of ints
     */
    void write(int off, int[] src, int srcOff, int n);

    /**
     * Copies {@code n} ints from this buffer into a host array.
     *
     * @param off    first element of this buffer to read
     * @param dst    host array
     * @param dstOff first element of {@code dst} to write
     * @param n      number of ints
     */
    void read(int off, int[] dst, int dstOff, int n);

    /** @return a new host array holding a copy of the whole buffer */
    default int[] toArray() {
        int[] a = new int[length()];
        read(0, a, 0, a.length);
        return a;
    }

    /** Copies a whole host array into the start of this buffer. */
    default void write(int[] src) {
        write(0, src, 0, src.length);
    }

    /** Releases device memory; a no-op for heap buffers. */
    @Override
    default void close() {}
}
