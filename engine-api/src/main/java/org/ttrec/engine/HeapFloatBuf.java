package org.ttrec.engine;

import java.util.Objects;

/**
 * A {@link FloatBuf} backed by a Java array, shared by every host backend (scalar and Vector
 * API), so host backends can exchange buffers freely and kernels read the array directly.
 */
public final class HeapFloatBuf implements FloatBuf {
    /** The backing array; host kernels read and write it directly. */
    public final float[] data;

    /** @param data the array to wrap (not copied) */
    public HeapFloatBuf(float[] data) {
        this.data = Objects.requireNonNull(data, "data");
    }

    @Override
    public int length() {
        return data.length;
    }

    @Override
    public void write(int off, float[] src, int srcOff, int n) {
        System.arraycopy(src, srcOff, data, off, n);
    }

    @Override
    public void read(int off, float[] dst, int dstOff, int n) {
        System.arraycopy(data, off, dst, dstOff, n);
    }

    /**
     * The backing array of a buffer that a host backend was given.
     *
     * @param b    the buffer
     * @param name operand name used in the error message
     * @return the backing array
     * @throws IllegalArgumentException if {@code b} is not a heap buffer (it belongs to a device backend)
     */
    public static float[] array(FloatBuf b, String name) {
        if (b instanceof HeapFloatBuf h) {
            return h.data;
        }
        if (b == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        throw new IllegalArgumentException(name + " is a " + b.getClass().getSimpleName()
                + ", not a host buffer: pass buffers allocated by this backend");
    }
}
