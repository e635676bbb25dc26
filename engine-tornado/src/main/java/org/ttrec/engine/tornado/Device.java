package org.ttrec.engine.tornado;

import org.ttrec.engine.tornado.kernels.Scatter;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The trace-and-replay engine of one TornadoVM device, shared by every tornado backend of the
 * JVM on that device.
 *
 * <p>Backend calls are recorded, not run: each becomes one or more {@link Op}s in the current
 * {@link Trace}. The trace runs at a sync point (a read of something it touches, a host write
 * into something it touches, {@code sync()}, a backend's close, or when it grows past
 * {@link #MAX_OPS}): first one upload program zeroes new buffers and copies the staged host
 * writes into the heaps, then the trace's launches run as a few programs (the trace is cut
 * where its kernels change, see {@link #cut}). Programs are keyed by their launches' kernels
 * and compiled-in constants only (sizes, offsets and scalars travel in per-execution arrays), so
 * a training step, whose calls repeat, compiles once and then replays the same few executions;
 * the key does not depend on which buffers the launches use.
 *
 * <p>Residency: every buffer is a region of one float or one int heap ({@link Heaps}) that
 * stays on the device; only staged writes go in, and a read copies back just the range read.
 * A full heap grows by copying it home, building larger heaps and dropping the compiled
 * programs (they name the old arrays), which then compile again when next used.
 */
final class Device {
    /** Launches after which a trace runs even without a sync point. */
    static final int MAX_OPS = 400;
    /**
     * Most launches in one program. TornadoVM 5.2.0 describes a graph in a fixed 8 KB buffer
     * (60 to 90 bytes per task here) and its bytecode in {@code tornado.tvm.maxbytecodesize}
     * bytes (4096 by default), which grows about quadratically with the tasks (each waits on the
     * earlier ones); ttrec's launch flags raise that to 64 KB.
     */
    static final int MAX_PROGRAM_OPS = Integer.getInteger("tornado.tvm.maxbytecodesize", 4096) >= 65536 ? 64 : 20;
    /**
     * A trace is cut into programs between two launches of different kernels where a hash of the
     * pair is 0 modulo this: see {@link #cut}. Larger means longer programs and fewer executions
     * per step; smaller, fewer launches compiled again in a trace that differs from another in a
     * few launches.
     */
    static final int CUT_PERIOD = Integer.getInteger("ttrec.tornado.cutPeriod", 4);

    private static final Map<String, Device> DEVICES = new HashMap<>();

    private final TornadoDevice device;
    private final String id;
    private final Arena floats;
    private final Arena ints;
    private Heaps heaps;
    private final Trace trace = new Trace();
    private final Map<String, Program> programs = new HashMap<>();
    private final Map<String, Program> uploads = new HashMap<>();
    private final Map<Integer, Kernel[]> scatterKernels = new HashMap<>();
    private final java.util.Queue<Region> reclaimed = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private int graphs;
    private int token;
    private long programsBuilt;
    private long executions;
    private long firstRunNanos;
    private long runNanos;

    private Device(TornadoDevice device, String id) {
        this.device = device;
        this.id = id;
        long f = Long.getLong("ttrec.tornado.heap.floats", 1L << 24);
        long i = Long.getLong("ttrec.tornado.heap.ints", 1L << 23);
        floats = new Arena(f);
        ints = new Arena(i);
        heaps = new Heaps(device, nextGraphName("heaps"), f, i, null, null);
    }

    /**
     * @param backendIndex TornadoVM backend index
     * @param deviceIndex  device index within that backend
     * @return the engine of that device, created on first use
     */
    static synchronized Device of(int backendIndex, int deviceIndex) {
        String key = backendIndex + ":" + deviceIndex;
        Device d = DEVICES.get(key);
        if (d == null) {
            d = new Device(TornadoExecutionPlan.getDevice(backendIndex, deviceIndex), key);
            DEVICES.put(key, d);
        }
        return d;
    }

    /** @return "b:d" */
    String id() {
        return id;
    }

    /** @return the TornadoVM device */
    TornadoDevice tornadoDevice() {
        return device;
    }

    /** @return programs compiled so far (upload programs included) */
    synchronized long programsBuilt() {
        return programsBuilt;
    }

    /** @return executions so far */
    synchronized long executions() {
        return executions;
    }

    /** @return programs, executions, and the time in first runs (compilation included) and in later runs */
    synchronized String stats() {
        return String.format(java.util.Locale.ROOT, "%d programs (%.1f s in their first runs), %d executions (%.1f s in"
                + " the others)", programsBuilt, firstRunNanos * 1e-9, executions, runNanos * 1e-9);
    }

    /** @return bytes of device memory not yet handed to buffers (an estimate) */
    synchronized long memoryAvailable() {
        long cap = Math.min(device.getMaxGlobalMemory(), tornadoMemoryCap());
        return Math.max(0, cap - 4 * (floats.used() + ints.used()));
    }

    private static long tornadoMemoryCap() {
        String s = System.getProperty("tornado.device.memory", "4GB").trim().toUpperCase(java.util.Locale.ROOT);
        long unit = 1;
        if (s.endsWith("GB")) {
            unit = 1L << 30;
        } else if (s.endsWith("MB")) {
            unit = 1L << 20;
        }
        try {
            return Long.parseLong(s.replaceAll("[A-Z]", "")) * unit;
        } catch (NumberFormatException e) {
            return 4L << 30;
        }
    }

    // ------------------------------------------------------------------ regions

    synchronized Region allocate(boolean isInt, int n, TornadoBackend owner) {
        Arena a = isInt ? ints : floats;
        long off = a.allocate(n);
        if (off < 0) {
            grow(isInt, n);
            off = a.allocate(n);
        }
        return new Region(this, isInt, off, n, owner);
    }

    synchronized void release(Region r) {
        if (trace.touched.contains(r)) {
            trace.releaseAfter.add(r);
        } else {
            (r.ints ? ints : floats).release(r.off, r.length);
        }
    }

    /**
     * Replaces the heaps by larger ones. The pending trace is not run: its launches and staged
     * writes name offsets, which stay, and run later on the new heaps (a flush here could run in
     * the middle of a backend call, between taking a buffer's region and recording its use).
     */
    private void grow(boolean isInt, long need) {
        Arena a = isInt ? ints : floats;
        long cap = Math.min((long) Integer.MAX_VALUE - 64, Math.max(2 * a.capacity(), a.capacity() + 2 * need));
        if (cap - a.capacity() < need) {
            throw new IllegalStateException("TornadoVM backend: the " + (isInt ? "int" : "float") + " heap cannot grow past "
                    + a.capacity() + " elements (one TornadoVM array); " + need + " more were asked for");
        }
        heaps.readAll(floats.highWater(), ints.highWater());
        closePrograms();
        Heaps old = heaps;
        long newF = isInt ? floats.capacity() : cap;
        long newI = isInt ? cap : ints.capacity();
        heaps = new Heaps(device, nextGraphName("heaps"), newF, newI, old.f, old.i);
        old.close();
        a.grow(cap);
    }

    private void closePrograms() {
        for (Program p : programs.values()) {
            p.close();
        }
        for (Program p : uploads.values()) {
            p.close();
        }
        programs.clear();
        uploads.clear();
    }

    private String nextGraphName(String what) {
        return what + (graphs++);
    }

    // ------------------------------------------------------------------ recording

    /**
     * Records a launch touching the given regions (nulls are skipped).
     *
     * @param op      the launch
     * @param regions every region it reads or writes
     */
    synchronized void record(Op op, Region... regions) {
        for (Region r : regions) {
            if (r != null) {
                trace.touched.add(r);
                trace.written.add(r);
            }
        }
        trace.ops.add(op);
    }

    /**
     * Runs the trace if it grew past {@link #MAX_OPS}. Called only where a backend call starts
     * (an allocation, a host write), never in the middle of one: see {@link #reclaim}.
     */
    synchronized void bound() {
        if (trace.ops.size() >= MAX_OPS) {
            flush();
        }
    }

    /**
     * Hands back the region of a buffer that became unreachable (called by the cleaner). It is
     * released at the next execution, after the launches that use it: a backend call may have
     * taken the region out of its buffer argument just before the buffer became unreachable and
     * record its use a moment later, and executions happen only between backend calls.
     */
    void reclaim(Region r) {
        reclaimed.add(r);
    }

    /** Stages a host write of floats into {@code r} at element {@code off} of the region. */
    synchronized void writeFloats(Region r, int off, float[] src, int srcOff, int n) {
        if (trace.written.contains(r)) {
            flush();
        }
        trace.touched.add(r);
        trace.written.add(r);
        trace.stageFloats(r.off + off, src, srcOff, n);
    }

    /** Stages a host write of ints into {@code r} at element {@code off} of the region. */
    synchronized void writeInts(Region r, int off, int[] src, int srcOff, int n) {
        if (trace.written.contains(r)) {
            flush();
        }
        trace.touched.add(r);
        trace.written.add(r);
        trace.stageInts(r.off + off, src, srcOff, n);
    }

    /** Zeroes a new buffer's region with the next execution, before any staged write into it. */
    synchronized void zero(Region r) {
        if (r.length > 0) {
            trace.touched.add(r);
            trace.zero(r.ints, r.off, r.length);
        }
    }

    /** Copies floats of a region to the host, after running the trace if it touches the region. */
    synchronized void readFloats(Region r, int off, float[] dst, int dstOff, int n) {
        if (trace.touched.contains(r)) {
            flush();
        }
        heaps.readFloats(r.off + off, n);
        Heaps.floats(heaps.f, r.off + off, n, dst, dstOff);
    }

    /** Copies ints of a kernel-written int region to the host, after running the trace if it touches it. */
    synchronized void readDeviceInts(Region r, int off, int[] dst, int dstOff, int n) {
        if (trace.touched.contains(r)) {
            flush();
        }
        heaps.readInts(r.off + off, n);
        Heaps.ints(heaps.i, r.off + off, n, dst, dstOff);
    }

    /** Runs the pending trace, if any: staged writes first, then the launches. */
    synchronized void flush() {
        for (Region r = reclaimed.poll(); r != null; r = reclaimed.poll()) {
            r.run();
        }
        if (trace.isEmpty()) {
            releaseDeferred();
            return;
        }
        try {
            if (trace.hasWrites()) {
                upload();
            }
            for (int from = 0; from < trace.ops.size(); ) {
                int to = cut(trace.ops, from);
                List<Op> part = trace.ops.subList(from, to);
                from = to;
                String key = Trace.key(part);
                Program p = programs.get(key);
                boolean first = p == null;
                long t0 = System.nanoTime();
                if (first) {
                    if (Boolean.getBoolean("ttrec.tornado.stats")) {
                        System.err.println("[tornado] compiling " + part.size() + " launches: " + key);
                    }
                    p = new Program(heaps, nextGraphName("p"), part, null, null);
                    programs.put(key, p);
                    programsBuilt++;
                }
                p.run(part, ++token);
                executions++;
                if (first) {
                    firstRunNanos += System.nanoTime() - t0;
                } else {
                    runNanos += System.nanoTime() - t0;
                }
            }
        } finally {
            trace.clear();
            releaseDeferred();
        }
    }

    /**
     * Where the program starting at {@code from} ends. Cuts depend only on the two launches
     * around them, not on where the trace started, so traces that differ in a few launches (a
     * step after a log point, an evaluation batch) share their other programs, and each program
     * is compiled once. Runs of one kernel (the tables' lookups) are never cut.
     */
    private static int cut(List<Op> ops, int from) {
        int end = Math.min(ops.size(), from + MAX_PROGRAM_OPS);
        for (int i = from; i < end - 1; i++) {
            String a = ops.get(i).key();
            String b = ops.get(i + 1).key();
            if (!a.equals(b) && Math.floorMod((a.hashCode() * 31 + b.hashCode()) * 0x9E3779B9, CUT_PERIOD) == 0) {
                return i + 1;
            }
        }
        return end;
    }

    private void releaseDeferred() {
        for (Region r : trace.releaseAfter) {
            (r.ints ? ints : floats).release(r.off, r.length);
        }
        trace.releaseAfter.clear();
    }

    /**
     * Runs the upload program of the staged sizes: capacities are powers of two, so that batch
     * after batch of one size reuses one program.
     */
    private void upload() {
        int fCap = pow2(trace.floatCount, 1024);
        int iCap = pow2(trace.intCount, 1024);
        int segCap = pow2(Math.max(Math.max(trace.floatChunkCount, trace.intChunkCount),
                Math.max(trace.floatZeroCount, trace.intZeroCount)), 16);
        String key = fCap + "/" + iCap + "/" + segCap;
        Kernel[] k = scatterKernels.computeIfAbsent(segCap, Device::scatterKernels);
        List<Op> ops = new ArrayList<>(4);
        ops.add(Op.of(k[2], (long) Math.max(1, trace.floatZeroCount) * k[2].localX(),
                chunks(trace.floatZeroCount, trace.floatZeros, segCap)));
        ops.add(Op.of(k[3], (long) Math.max(1, trace.intZeroCount) * k[3].localX(),
                chunks(trace.intZeroCount, trace.intZeros, segCap)));
        ops.add(Op.of(k[0], (long) Math.max(1, trace.floatChunkCount) * k[0].localX(),
                chunks(trace.floatChunkCount, trace.floatChunks, segCap)));
        ops.add(Op.of(k[1], (long) Math.max(1, trace.intChunkCount) * k[1].localX(),
                chunks(trace.intChunkCount, trace.intChunks, segCap)));
        Program p = uploads.get(key);
        if (p == null) {
            p = new Program(heaps, nextGraphName("up"), ops, new FloatArray(fCap), new IntArray(iCap));
            uploads.put(key, p);
            programsBuilt++;
        }
        MemorySegment.copy(trace.floats, 0, p.stagingFloats().getSegment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0,
                trace.floatCount);
        MemorySegment.copy(trace.ints, 0, p.stagingInts().getSegment(), ValueLayout.JAVA_INT_UNALIGNED, 0,
                trace.intCount);
        p.run(ops, ++token);
        executions++;
    }

    private static int[] chunks(int count, int[] chunks, int segCap) {
        int[] a = new int[1 + 3 * segCap];
        a[0] = count;
        System.arraycopy(chunks, 0, a, 1, 3 * count);
        return a;
    }

    private static Kernel[] scatterKernels(int segCap) {
        int n = 1 + 3 * segCap;
        return new Kernel[] {
            Kernel.of("scatterF" + segCap, 256, n, 0,
                    (g, id, c, slot, base, fbase, k) -> g.task(id, Scatter::floats, c.kc, c.f, c.fs, c.a, c.done, slot, base)),
            Kernel.of("scatterI" + segCap, 256, n, 0,
                    (g, id, c, slot, base, fbase, k) -> g.task(id, Scatter::ints, c.kc, c.i, c.is, c.a, c.done, slot, base)),
            Kernel.of("zeroF" + segCap, 256, n, 0,
                    (g, id, c, slot, base, fbase, k) -> g.task(id, Scatter::zeroFloats, c.kc, c.f, c.a, c.done, slot, base)),
            Kernel.of("zeroI" + segCap, 256, n, 0,
                    (g, id, c, slot, base, fbase, k) -> g.task(id, Scatter::zeroInts, c.kc, c.i, c.a, c.done, slot, base))
        };
    }

    /** @return the smallest power of two >= max(n, min) (min a power of two) */
    private static int pow2(int n, int min) {
        return n <= min ? min : Integer.highestOneBit(n - 1) << 1;
    }
}
