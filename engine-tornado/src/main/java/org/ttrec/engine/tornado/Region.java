package org.ttrec.engine.tornado;

/**
 * A buffer's place in one of a {@link Device}'s heaps. Recorded launches name the regions they
 * touch, so the engine knows which host writes and reads must wait for the pending trace, and
 * a region released while the trace still uses it is handed back only after the trace ran.
 * {@link #run()} releases it; it runs once, whoever calls it first (close, the backend's close,
 * or the cleaner when the buffer became unreachable).
 */
final class Region implements Runnable {
    final Device device;
    /** Whether this is a region of the int heap. */
    final boolean ints;
    final long off;
    final int length;
    private final TornadoBackend owner;
    private boolean released;

    Region(Device device, boolean ints, long off, int length, TornadoBackend owner) {
        this.device = device;
        this.ints = ints;
        this.off = off;
        this.length = length;
        this.owner = owner;
    }

    /** @return whether the region was released */
    synchronized boolean released() {
        return released;
    }

    @Override
    public void run() {
        synchronized (this) {
            if (released) {
                return;
            }
            released = true;
        }
        owner.forget(this);
        device.release(this);
    }
}
