package org.ttrec.engine.tornado;

import org.ttrec.engine.IntBuf;

import java.util.Objects;

/**
 * An int buffer of the tornado backend: a region of its device's int heap, with a host copy.
 * No kernel writes an IntBuf (they hold lookups, offsets and gather lists), so the host copy is
 * always current: reads never wait for the device, and argument checks and lookup sorting read
 * it directly.
 */
final class TornadoIntBuf implements IntBuf {
    final Region region;
    private final int[] host;
    private long version;

    TornadoIntBuf(Region region) {
        this.region = region;
        this.host = new int[region.length];
    }

    @Override
    public int length() {
        return region.length;
    }

    @Override
    public void write(int off, int[] src, int srcOff, int n) {
        open();
        Objects.checkFromIndexSize(off, n, region.length);
        Objects.checkFromIndexSize(srcOff, n, src.length);
        if (n > 0) {
            System.arraycopy(src, srcOff, host, off, n);
            version++;
            region.device.bound();
            region.device.writeInts(region, off, src, srcOff, n);
        }
    }

    @Override
    public void read(int off, int[] dst, int dstOff, int n) {
        open();
        Objects.checkFromIndexSize(off, n, region.length);
        Objects.checkFromIndexSize(dstOff, n, dst.length);
        System.arraycopy(host, off, dst, dstOff, n);
    }

    /** Writes the whole buffer from inside a backend call (no bound check: see Device#reclaim). */
    void writeInternal(int[] src) {
        System.arraycopy(src, 0, host, 0, src.length);
        version++;
        region.device.writeInts(region, 0, src, 0, src.length);
    }

    /** @return the host copy (read only) */
    int[] host() {
        open();
        return host;
    }

    /** @return a number that changes with every write (for values derived from the contents) */
    long version() {
        return version;
    }

    private void open() {
        if (region.released()) {
            throw new IllegalStateException("tornado int buffer of " + region.length + " used after close()");
        }
    }

    @Override
    public void close() {
        region.run();
    }
}
