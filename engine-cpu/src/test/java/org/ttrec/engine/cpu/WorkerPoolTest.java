package org.ttrec.engine.cpu;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cpu backend's worker pool: every task of a region runs exactly once, failures reach the
 * caller, regions started inside a region or from a second thread complete, the workers really
 * run tasks beside the caller, and idle workers park rather than spin forever.
 */
class WorkerPoolTest {

    @Test
    void everyTaskRunsExactlyOnce() {
        try (WorkerPool pool = new WorkerPool(3, "wp-once")) {
            for (int tasks : new int[] {0, 1, 2, 3, 7, 64, 1000}) {
                for (int rep = 0; rep < 50; rep++) {
                    AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
                    pool.run(tasks, runs::incrementAndGet);
                    for (int t = 0; t < tasks; t++) {
                        assertEquals(1, runs.get(t), "task " + t + " of " + tasks + ", repetition " + rep);
                    }
                }
            }
        }
    }

    @Test
    void tasksRunOnTheWorkersBesideTheCaller() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(3, "wp-beside")) {
            // three tasks that each wait for all three to have started: only three threads
            // running at once can finish them (a timeout fails instead of hanging)
            CountDownLatch started = new CountDownLatch(3);
            Set<Thread> ran = ConcurrentHashMap.newKeySet();
            AtomicInteger timedOut = new AtomicInteger();
            pool.run(3, t -> {
                ran.add(Thread.currentThread());
                started.countDown();
                try {
                    if (!started.await(10, TimeUnit.SECONDS)) {
                        timedOut.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(0, timedOut.get(), "tasks did not run concurrently");
            assertEquals(3, ran.size());
            assertTrue(ran.contains(Thread.currentThread()), "the caller runs tasks too");
        }
    }

    @Test
    void aFailureReachesTheCallerAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2, "wp-fail")) {
            IllegalArgumentException boom = new IllegalArgumentException("task 5 failed");
            AtomicIntegerArray runs = new AtomicIntegerArray(16);
            IllegalArgumentException got = assertThrows(IllegalArgumentException.class, () -> pool.run(16, t -> {
                runs.incrementAndGet(t);
                if (t == 5) {
                    throw boom;
                }
            }));
            assertSame(boom, got);
            for (int t = 0; t < 16; t++) {
                assertEquals(1, runs.get(t), "the other tasks still ran, once: task " + t);
            }
            assertThrows(AssertionError.class, () -> pool.run(4, t -> {
                if (t == 3) {
                    throw new AssertionError("an error, not an exception");
                }
            }));
            AtomicInteger sum = new AtomicInteger();
            pool.run(10, sum::addAndGet);
            assertEquals(45, sum.get());
        }
    }

    @Test
    void nestedAndConcurrentRegionsComplete() throws Exception {
        try (WorkerPool pool = new WorkerPool(2, "wp-nested")) {
            AtomicIntegerArray inner = new AtomicIntegerArray(8 * 8);
            pool.run(8, o -> pool.run(8, i -> inner.incrementAndGet(o * 8 + i)));
            for (int i = 0; i < 64; i++) {
                assertEquals(1, inner.get(i), "nested task " + i);
            }
            // two threads driving the same pool: whichever finds it busy runs its tasks itself
            AtomicIntegerArray a = new AtomicIntegerArray(20_000), b = new AtomicIntegerArray(20_000);
            AtomicReference<Throwable> otherFailure = new AtomicReference<>();
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    for (int rep = 0; rep < 2000; rep++) {
                        int base = rep * 10;
                        pool.run(10, t -> b.incrementAndGet(base + t));
                    }
                } catch (Throwable e) {
                    otherFailure.set(e);
                }
            });
            for (int rep = 0; rep < 2000; rep++) {
                int base = rep * 10;
                pool.run(10, t -> a.incrementAndGet(base + t));
            }
            other.join(30_000);
            assertFalse(other.isAlive(), "the second caller did not finish");
            assertEquals(null, otherFailure.get());
            for (int i = 0; i < 20_000; i++) {
                assertEquals(1, a.get(i), "first caller's task " + i);
                assertEquals(1, b.get(i), "second caller's task " + i);
            }
        }
    }

    @Test
    void idleWorkersParkAndClosedWorkersEnd() throws InterruptedException {
        WorkerPool pool = new WorkerPool(3, "wp-idle");
        pool.run(4, t -> { });
        Set<Thread> workers = workerThreads("wp-idle-");
        assertEquals(2, workers.size(), "threads - 1 workers");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!workers.stream().allMatch(t -> t.getState() == Thread.State.WAITING) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        for (Thread t : workers) {
            assertEquals(Thread.State.WAITING, t.getState(), t.getName() + " still spins long after its last task");
        }
        pool.close();
        for (Thread t : workers) {
            t.join(10_000);
            assertFalse(t.isAlive(), t.getName() + " outlived close()");
        }
        AtomicInteger sum = new AtomicInteger();
        pool.run(5, sum::addAndGet); // a closed pool runs regions on the caller
        assertEquals(10, sum.get());
    }

    @Test
    void anUnclosedBackendsWorkersEndOnceItIsCollected() throws InterruptedException {
        int before = workerThreads("ttrec-cpu-").size();
        useAndDropABackend();
        assertEquals(before + 2, workerThreads("ttrec-cpu-").size(), "a 3-thread backend starts 2 workers");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (workerThreads("ttrec-cpu-").size() > before && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(before, workerThreads("ttrec-cpu-").size(),
                "the workers of a backend dropped without close() still run: something keeps it reachable");
    }

    /**
     * A 3-thread backend that runs split calls and is then dropped without close(): a GEMM, whose
     * tasks use the backend's per-thread scratch (so they hold the backend), and an axpy.
     */
    private static void useAndDropABackend() {
        CpuBackend be = new CpuBackend(3);
        int n = 128;
        float[] ones = new float[n * n];
        java.util.Arrays.fill(ones, 1f);
        org.ttrec.engine.FloatBuf a = be.upload(ones), b = be.upload(ones), c = be.upload(new float[n * n]);
        be.gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
        assertEquals(n, c.toArray()[n * n - 1]);
        be.axpy(n * n, 2f, a, 0, b, 0);
        assertEquals(3f, b.toArray()[n * n - 1]);
    }

    @Test
    void refusesFewerThanTwoThreads() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WorkerPool(1, "wp-one"));
        assertTrue(e.getMessage().contains("at least 2"), e.getMessage());
    }

    private static Set<Thread> workerThreads(String prefix) {
        Set<Thread> found = ConcurrentHashMap.newKeySet();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix) && t.isAlive()) {
                found.add(t);
            }
        }
        return found;
    }
}
