package org.ttrec.dlrm.io;

import org.ttrec.engine.FloatBuf;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * Bulk float I/O for checkpoints: buffers are moved in 64K-float chunks as little-endian bytes
 * (per-element {@code writeFloat} would take minutes for a multi-GB table).
 */
public final class FloatIO {
    private static final int CHUNK = 1 << 16;

    private FloatIO() {}

    /**
     * Writes {@code n} floats of {@code buf} starting at {@code off}.
     *
     * @param out destination
     * @param buf source buffer
     * @param off first float
     * @param n   number of floats
     * @throws IOException if writing fails
     */
    public static void write(DataOutputStream out, FloatBuf buf, long off, long n) throws IOException {
        float[] f = new float[(int) Math.min(CHUNK, Math.max(n, 1))];
        ByteBuffer bb = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (long done = 0; done < n; ) {
            int len = (int) Math.min(f.length, n - done);
            buf.read((int) (off + done), f, 0, len);
            bb.clear();
            bb.asFloatBuffer().put(f, 0, len);
            out.write(bb.array(), 0, len * 4);
            done += len;
        }
    }

    /**
     * Reads {@code n} floats into {@code buf} starting at {@code off}.
     *
     * @param in  source
     * @param buf destination buffer
     * @param off first float
     * @param n   number of floats
     * @throws IOException if reading fails or the stream ends early
     */
    public static void read(DataInputStream in, FloatBuf buf, long off, long n) throws IOException {
        float[] f = new float[(int) Math.min(CHUNK, Math.max(n, 1))];
        byte[] b = new byte[f.length * 4];
        for (long done = 0; done < n; ) {
            int len = (int) Math.min(f.length, n - done);
            try {
                in.readFully(b, 0, len * 4);
            } catch (EOFException e) {
                throw new EOFException("stream ended after " + done + " of " + n + " floats");
            }
            ByteBuffer.wrap(b, 0, len * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f, 0, len);
            buf.write((int) (off + done), f, 0, len);
            done += len;
        }
    }

    /**
     * Writes the first {@code n} floats of a host array.
     *
     * @param out destination
     * @param a   source
     * @param n   number of floats
     * @throws IOException if writing fails
     */
    public static void write(DataOutputStream out, float[] a, int n) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(4 * Math.min(CHUNK, Math.max(n, 1))).order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < n; ) {
            int len = Math.min(CHUNK, n - done);
            bb.clear();
            bb.asFloatBuffer().put(a, done, len);
            out.write(bb.array(), 0, len * 4);
            done += len;
        }
    }

    /**
     * Reads {@code n} floats into the start of a host array.
     *
     * @param in source
     * @param a  destination
     * @param n  number of floats
     * @throws IOException if reading fails or the stream ends early
     */
    public static void read(DataInputStream in, float[] a, int n) throws IOException {
        byte[] b = new byte[4 * Math.min(CHUNK, Math.max(n, 1))];
        for (int done = 0; done < n; ) {
            int len = Math.min(CHUNK, n - done);
            try {
                in.readFully(b, 0, len * 4);
            } catch (EOFException e) {
                throw new EOFException("stream ended after " + done + " of " + n + " floats");
            }
            ByteBuffer.wrap(b, 0, len * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a, done, len);
            done += len;
        }
    }

    /**
     * @param bytes a byte count
     * @return it in human units, e.g. "2.16 GB" (powers of 1000, as docs/dlrm.md quotes table sizes)
     */
    public static String bytes(long bytes) {
        if (bytes < 1000) {
            return bytes + " B";
        }
        String[] u = {"kB", "MB", "GB", "TB", "PB"};
        double v = bytes;
        int i = -1;
        while (v >= 1000 && i < u.length - 1) {
            v /= 1000;
            i++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, u[i]);
    }
}
