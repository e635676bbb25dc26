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
