package org.ttrec.engine;

/**
 * A float array owned by a {@link ComputeBackend}. Host backends keep it on the Java heap;
 * device backends keep it in device memory, so weights stay where they are computed across
 * training steps and only batches and results cross with {@link #write} and {@link #read}.
 *
 * <p>Buffers are created by {@link ComputeBackend#allocFloats(int)} and may only be passed to
 * the backend that created them (or to backends that share its memory, such as the scalar and
 * Vector API backends, which both use {@link HeapFloatBuf}).
 */
public interface FloatBuf extends AutoCloseable {
    /** @return the number of floats in this buffer */
    int length();

    /**
     * Copies {@code n} floats from a host array into this buffer.
     *
     * @param off    first element of this buffer to write
     * @param src    host array
     * @param srcOff first element of {@code src} to read
     * @param n      number of floats
     */
    void write(int off, float[] src, int srcOff, int n);

    /**
     * Copies {@code n} floats from this buffer into a host array.
     *
     * @param off    first element of this buffer to read
     * @param dst    host array
     * @param dstOff first element of {@code dst} to write
     * @param n      number of floats
     */
    void read(int off, float[] dst, int dstOff, int n);

    /** @return a new host array holding a copy of the whole buffer */
    default float[] toArray() {
        float[] a = new float[length()];
        read(0, a, 0, a.length);
        return a;
    }

    /** Copies a whole host array into the start of this buffer. */
    default void write(float[] src) {
        write(0, src, 0, src.length);
    }

    /** Releases device memory; a no-op for heap buffers. */
    @Override
    default void close() {}
}
