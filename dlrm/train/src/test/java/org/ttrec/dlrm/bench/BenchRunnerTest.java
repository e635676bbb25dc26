package org.ttrec.dlrm.bench;

import org.junit.jupiter.api.Test;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.ForwardingBackend;
import org.ttrec.engine.IntBuf;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runner's timing against a stand-in device backend; no real speed is asserted. */
class BenchRunnerTest {
    /** Each batched GEMM queues 20 ms of "device" work that only {@link #sync()} waits for, as a device backend's calls do. */
    static final class QueuedBackend extends ForwardingBackend {
        static final long WORK_NANOS = 20_000_000;
        long pendingNanos;

        QueuedBackend(ComputeBackend delegate) {
            super(delegate);
        }

        @Override
        public void gemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, FloatBuf a, IntBuf aOffsets,
                                int lda, FloatBuf b, IntBuf bOffsets, int ldb, float beta, FloatBuf c, IntBuf cOffsets, int ldc,
                                int listOff, int batch) {
            super.gemmBatched(transA, transB, m, n, k, alpha, a, aOffsets, lda, b, bOffsets, ldb, beta, c, cOffsets, ldc, listOff, batch);
            pendingNanos += WORK_NANOS;
        }

        @Override
        public void sync() {
            long until = System.nanoTime() + pendingNanos;
            while (System.nanoTime() < until) {
                LockSupport.parkNanos(until - System.nanoTime());
            }
            pendingNanos = 0;
        }
    }

    @Test
    void everyWindowWaitsForTheQueuedWork() {
        BenchRunner.Settings s = new BenchRunner.Settings(List.of(Workload.BGEMM_4X32X4), List.of("cpu"), List.of(1),
                0.3, 3, 0.05, false);
        List<String> progress = new ArrayList<>();
        List<Measurement> ms = BenchRunner.run(s, progress::add, (name, threads) -> new QueuedBackend(Backends.create(name, threads)));
        assertEquals(1, ms.size());
        Measurement m = ms.get(0);
        assertEquals(Measurement.Status.OK, m.status(), m.reason());
        assertEquals(3, m.windows().size());
        for (Measurement.Window w : m.windows()) {
            // without the sync a window would end before its queued work: far less than ops x 20 ms
            assertTrue(w.seconds() >= w.ops() * QueuedBackend.WORK_NANOS / 1e9, w.toString());
        }
        assertEquals(List.of("[1/1] bgemm-4x32x4 on cpu x1 ...", "[1/1] bgemm-4x32x4 on cpu x1: " + BenchReport.si(m.median()) + " GFLOP/s"),
                progress);
    }

    @Test
    void warmUpEndsWhenTheJitIsQuietAndTheOpNoLongerGetsFaster() {
        // a real op's JIT and speed cannot be steered from a test, so the rule is checked on numbers
        assertFalse(BenchRunner.settled(Double.NaN, 1e-3, 0, 500), "the first chunk has nothing to compare with");
        assertFalse(BenchRunner.settled(1e-3, 0.90e-3, 0, 500), "10% faster than the chunk before");
        assertTrue(BenchRunner.settled(1e-3, 0.97e-3, 0, 500), "3% faster: noise");
        assertTrue(BenchRunner.settled(1e-3, 1.2e-3, 9, 500), "slower, JIT 1.8% busy");
        assertFalse(BenchRunner.settled(1e-3, 1e-3, 11, 500), "JIT 2.2% busy: C2 may still be compiling the kernel");
        assertFalse(BenchRunner.warmedUp(1.9, 2, true), "not before --warmup");
        assertTrue(BenchRunner.warmedUp(2.1, 2, true));
        assertFalse(BenchRunner.warmedUp(7.9, 2, false));
        assertTrue(BenchRunner.warmedUp(8.0, 2, false), "at most 4x --warmup");
    }

    @Test
    void aFailingCellIsRecordedAndTheOthersStillRun() {
        BenchRunner.Settings s = new BenchRunner.Settings(List.of(Workload.BGEMM_4X32X4, Workload.TT2K), List.of("cpu"), List.of(1),
                0.02, 1, 0, false);
        List<Measurement> ms = BenchRunner.run(s, line -> { }, (name, threads) -> new ForwardingBackend(Backends.create(name, threads)) {
            @Override
            public void gemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, FloatBuf a, IntBuf aOffsets,
                                    int lda, FloatBuf b, IntBuf bOffsets, int ldb, float beta, FloatBuf c, IntBuf cOffsets, int ldc,
                                    int listOff, int batch) {
                throw new IllegalStateException("kernel refused");
            }
        });
        assertEquals(Measurement.Status.FAILED, ms.get(0).status());
        assertTrue(ms.get(0).reason().contains("kernel refused"), ms.get(0).reason());
        assertEquals(Measurement.Status.OK, ms.get(1).status(), ms.get(1).reason());
    }
}
