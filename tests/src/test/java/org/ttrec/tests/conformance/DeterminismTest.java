package org.ttrec.tests.conformance;

import org.junit.jupiter.api.Test;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;

import java.util.SplittableRandom;
import java.util.function.Function;

import static org.ttrec.engine.testing.TestData.assertBitEqual;
import static org.ttrec.engine.testing.TestData.ints;
import static org.ttrec.engine.testing.TestData.uniform;

/**
 * Same inputs, same thread count: bit-identical results, run after run, for the multi-threaded
 * kernels (sizes above the threading thresholds). The cpu backend also promises the same bits
 * for 1 and 2 threads (static splits, no cross-task sums); that is checked too.
 */
class DeterminismTest {

    static float[] gemm(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(5);
        int m = 301, n = 257, k = 299;
        float[] a = uniform(r, m * k, -1f, 1f), b = uniform(r, k * n, -1f, 1f), c = uniform(r, m * n, -1f, 1f);
        FloatBuf cb = be.upload(c);
        be.gemm(false, true, m, n, k, 0.9f, be.upload(a), 0, k, be.upload(b), 0, k, 0.5f, cb, 0, n);
        Io.down(cb, c);
        return c;
    }

    static float[] batched(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(6);
        int batch = 4000, m = 2, n = 64, k = 32;
        float[] a = uniform(r, batch * m * k, -1f, 1f), b = uniform(r, batch * k * n, -1f, 1f), c = new float[batch * m * n];
        FloatBuf cb = be.upload(c);
        be.gemmStridedBatched(false, false, m, n, k, 1f, be.upload(a), 0, k, m * k, be.upload(b), 0, n, k * n,
                0f, cb, 0, n, m * n, batch);
        Io.down(cb, c);
        return c;
    }

    static float[] embedding(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(7);
        int rows = 1000, dim = 24, bags = 2048, per = 20;
        int[] off = new int[bags + 1];
        for (int b = 0; b < bags; b++) {
            off[b + 1] = off[b] + per;
        }
        int[] idx = ints(r, bags * per, rows);
        float[] table = uniform(r, rows * dim, -1f, 1f), state = new float[rows * dim];
        float[] out = new float[bags * dim];
        FloatBuf tb = be.upload(table), sb = be.upload(state), ob = be.upload(out);
        IntBuf ib = be.upload(idx), offb = be.upload(off);
        be.embeddingBagForward(rows, dim, tb, ib, offb, bags, null, Pooling.MEAN, false, ob, 0, dim);
        be.embeddingBagBackward(rows, dim, tb, sb, ib, offb, bags, null,
                Pooling.SUM, ob, 0, dim, SparseOptimizer.adagrad(0.1f, 1e-8f));
        Io.down(ob, out);
        Io.down(tb, table);
        Io.down(sb, state);
        float[] all = new float[out.length + table.length + state.length];
        System.arraycopy(out, 0, all, 0, out.length);
        System.arraycopy(table, 0, all, out.length, table.length);
        System.arraycopy(state, 0, all, out.length + table.length, state.length);
        return all;
    }

    static void check(String what, Function<ComputeBackend, float[]> op) {
        BackendSelectionTest.cpuProvider(); // registered
        for (var p : org.ttrec.engine.Backends.providers()) {
            if (p.unavailableReason() != null) {
                System.out.println("DeterminismTest: skipping " + p.name() + ": " + p.unavailableReason());
                continue;
            }
            float[] one, twoA, twoB;
            try (ComputeBackend b1 = p.create(1); ComputeBackend b2 = p.create(2)) {
                one = op.apply(b1);
                twoA = op.apply(b2);
                twoB = op.apply(b2);
            }
            assertBitEqual(p.name() + " " + what + ": two runs with 2 threads", twoA, twoB);
            if (p.name().equals("cpu") || p.name().equals("scalar")) {
                assertBitEqual(p.name() + " " + what + ": 1 thread vs 2 threads", one, twoA);
            }
        }
    }

    @Test
    void gemmIsReproducible() {
        check("gemm", DeterminismTest::gemm);
    }

    @Test
    void batchedGemmIsReproducible() {
        check("gemmStridedBatched", DeterminismTest::batched);
    }

    @Test
    void embeddingBagIsReproducible() {
        check("embeddingBag", DeterminismTest::embedding);
    }
}
