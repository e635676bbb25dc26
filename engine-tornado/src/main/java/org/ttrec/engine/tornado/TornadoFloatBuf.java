package org.ttrec.engine.tornado;

import org.ttrec.engine.FloatBuf;

import java.util.Objects;

/**
 * A float buffer of the tornado backend: a region of its device's float heap. Writes are staged
 * and copied to the device with the next execution; reads copy just the range read back (after
 * running pending work that touches the buffer).
 */
final class TornadoFloatBuf implements FloatBuf {
    final Region region;

    TornadoFloatBuf(Region region) {
        this.region = region;
    }

    @Override
    public int length() {
        return region.length;
    }

    @Override
    public void write(int off, float[] src, int srcOff, int n) {
        open();
        Objects.checkFromIndexSize(off, n, region.length);
        Objects.checkFromIndexSize(srcOff, n, src.length);
        if (n > 0) {
            region.device.bound();
            region.device.writeFloats(region, off, src, srcOff, n);
        }
    }

    @Override
    public void read(int off, float[] dst, int dstOff, int n) {
        open();
        Objects.checkFromIndexSize(off, n, region.length);
        Objects.checkFromIndexSize(dstOff, n, dst.length);
        if (n > 0) {
            region.device.readFloats(region, off, dst, dstOff, n);
        }
    }

    private void open() {
        if (region.released()) {
            throw new IllegalStateException("tornado float buffer of " + region.length + " used after close()");
        }
    }

    @Override
    public void close() {
        region.run();
    }
}
