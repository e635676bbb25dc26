package org.ttrec.engine;

import java.util.Objects;

/** An {@link IntBuf} backed by a Java array, shared by every host backend. */
public final class HeapIntBuf implements IntBuf {
    /** The backing array; host kernels read it directly. */
    public final int[] data;

    /** @param data the array to wrap (not copied) */
    public HeapIntBuf(int[] data) {
        this.data = Objects.requireNonNull(data, "data");
    }

    @Override
    public int length() {
        return data.length;
    }

    @Override
    public void write(int off, int[] src, int srcOff, int n) {
        System.arraycopy(src, srcOff, data, off, n);
    }

    @Override
    public void read(int off, int[] dst, int dstOff, int n) {
        System.arraycopy(data, off, dst, dstOff, n);
    }

    /**
     * The backing array of a buffer that a host backend was given.
     *
     * @param b    the buffer
     * @param name operand name used in the error message
     * @return the backing array
     * @throws IllegalArgumentException if {@code b} is not a heap buffer
     */
    public static int[] array(IntBuf b, String name) {
        if (b instanceof HeapIntBuf h) {
            return h.data;
        }
        if (b == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        throw new IllegalArgumentException(name + " is a " + b.getClass().getSimpleName()
                + ", not a host buffer: pass buffers allocated by this backend");
    }
}
