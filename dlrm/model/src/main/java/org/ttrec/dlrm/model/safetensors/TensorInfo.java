package org.ttrec.dlrm.model.safetensors;

import java.util.Arrays;

/**
 * One tensor of a safetensors file as its header describes it.
 *
 * @param name  the tensor's name
 * @param dtype element type
 * @param shape dimensions, outermost first (row-major); empty for a scalar
 * @param begin first byte of its data, relative to the start of the data buffer
 * @param end   one past its last byte, relative to the start of the data buffer
 */
public record TensorInfo(String name, Dtype dtype, long[] shape, long begin, long end) {

    /** Copies the shape, so the record cannot be changed through the caller's array. */
    public TensorInfo {
        shape = shape.clone();
    }

    /** @return a copy of the dimensions */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** @return the number of elements: the product of the shape (1 for a scalar) */
    public long elements() {
        return elements(shape);
    }

    /** @return the byte length, end - begin */
    public long byteLength() {
        return end - begin;
    }

    /**
     * @param shape dimensions, each >= 0
     * @return their product, or -1 when it overflows a long
     */
    static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return n;
    }

    /**
     * @param shape dimensions
     * @return the shape as the format and PyTorch print it, e.g. [4, 8]
     */
    public static String format(long[] shape) {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape)
                && t.begin == begin && t.end == end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + format(shape) + " bytes [" + begin + ", " + end + ")";
    }
}
