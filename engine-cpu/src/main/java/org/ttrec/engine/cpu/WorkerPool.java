package org.ttrec.engine.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The kernel threads of one cpu backend: {@code threads - 1} persistent workers that run the
 * tasks of one parallel region at a time beside the calling thread.
 *
 * <p>Why not a ForkJoinPool: a training step of the Kaggle model at batch 128 is about 2 ms made
 * of about twenty parallel regions whose tasks take tens of microseconds (GEMM halves, the
 * interaction, the tables, elementwise updates). ForkJoinPool parks idle workers at once, and
 * waking a parked thread costs tens of microseconds, about as much as the work it was woken for. These workers spin for
 * {@link #SPIN_NANOS} after each region before they park, so the next region of the same step
 * finds them awake; a pool left idle longer (between steps, while data is read) parks and costs
 * nothing.
 *
 * <p>Determinism: task t of a region is fixed work whichever thread runs it (threads claim task
 * numbers from a counter; each task uses the running thread's scratch only), so results depend on
 * the number of tasks, which callers derive from the thread count, not on scheduling.
 *
 * <p>One region at a time: a region started while another runs (a task that itself calls
 * {@link #run}, or a second thread using the same backend, as the scoring server does) runs its
 * tasks in order on its own thread, with the same results.
 */
public final class WorkerPool implements AutoCloseable {
    /** How long an idle worker spins before it parks ({@code ttrec.cpu.spinMicros}, default 200). */
    static final long SPIN_NANOS = 1000L * Long.getLong("ttrec.cpu.spinMicros", 200L);

    /** One parallel region: its body, task count, next unclaimed task, finished tasks and first failure. */
    private static final class Region {
        final IntConsumer body;
        final int tasks;
        /** The region's number (from 1), by which workers tell a new region from one they ran. */
        final long seq;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Region(IntConsumer body, int tasks, long seq) {
            this.body = body;
            this.tasks = tasks;
            this.seq = seq;
        }

        /** Claims and runs tasks until none are left. */
        void work() {
            for (int t = next.getAndIncrement(); t < tasks; t = next.getAndIncrement()) {
                try {
                    body.accept(t);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private final Worker[] workers;
    /**
     * The region being run, or null between regions: nothing here keeps a finished region's
     * body (and what it captured, such as the backend) reachable, so an unclosed backend can be
     * collected and its cleaner can close this pool.
     */
    private volatile Region current;
    /** Number of the last region started (read and written only by the thread holding busy). */
    private long lastSeq;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean closed;

    /**
     * @param threads threads of a region, the caller included (at least 2)
     * @param name    prefix of the workers' thread names
     */
    public WorkerPool(int threads, String name) {
        if (threads < 2) {
            throw new IllegalArgumentException("a worker pool needs at least 2 threads, got " + threads);
        }
        workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker();
            Thread t = Thread.ofPlatform().daemon().name(name + "-" + (i + 1)).unstarted(workers[i]);
            workers[i].thread = t;
            t.start();
        }
    }

    /**
     * Runs body(0), ..., body(tasks - 1) on the caller and the workers and returns when all have
     * finished; rethrows the first failure (an unchecked exception or error as is).
     */
    public void run(int tasks, IntConsumer body) {
        if (tasks <= 1 || closed || !busy.compareAndSet(false, true)) {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
            return;
        }
        Region r = new Region(body, tasks, ++lastSeq);
        try {
            current = r;
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w.thread);
                }
            }
            r.work();
            // the last tasks may still run on workers: they are short, so spin, but let a
            // descheduled worker have the core if this machine is oversubscribed
            for (int spins = 0; r.done.get() < tasks; spins++) {
                if ((spins & 1023) == 1023) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            }
        } finally {
            current = null;
            busy.set(false);
        }
        Throwable e = r.failure.get();
        if (e instanceof RuntimeException re) {
            throw re;
        }
        if (e instanceof Error err) {
            throw err;
        }
        if (e != null) {
            throw new IllegalStateException(e);
        }
    }

    /** Stops the workers (they are daemons, so an unclosed pool does not keep the JVM alive). */
    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
    }

    private final class Worker implements Runnable {
        Thread thread;
        /** Set before parking, so that a caller publishing a region knows to unpark this worker. */
        volatile boolean parked;

        @Override
        public void run() {
            long seen = 0;
            while (!closed) {
                Region r = current;
                if (r != null && r.seq != seen) {
                    seen = r.seq;
                    r.work();
                    continue;
                }
                // not held while idle: an interpreted frame would keep the finished region, and
                // the backend its body captured, reachable for as long as this worker parks
                r = null;
                long until = System.nanoTime() + SPIN_NANOS;
                while (idle(seen) && System.nanoTime() - until < 0) {
                    Thread.onSpinWait();
                }
                if (idle(seen)) {
                    parked = true;
                    // re-read after announcing: a caller that published before seeing parked
                    // set did not unpark, so this read must see its region
                    if (idle(seen)) {
                        LockSupport.park(this);
                    }
                    parked = false;
                }
            }
        }

        /** Whether there is no region this worker has not taken part in (and the pool is open). */
        private boolean idle(long seen) {
            Region r = current;
            return !closed && (r == null || r.seq == seen);
        }
    }
}
