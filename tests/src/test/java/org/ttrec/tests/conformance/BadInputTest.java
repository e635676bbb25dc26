package org.ttrec.tests.conformance;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.scalar.ScalarBackend;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input gives IllegalArgumentException naming the operand (and its sizes) before any
 * kernel runs: outputs are left untouched. Run against the reference and every available backend.
 */
class BadInputTest {
    static final List<ComputeBackend> ALL = all();

    static List<ComputeBackend> all() {
        List<ComputeBackend> l = new ArrayList<>(Subjects.all());
        l.add(new ScalarBackend());
        return l;
    }

    static List<ComputeBackend> backends() {
        return ALL;
    }

    @AfterAll
    static void close() {
        ALL.forEach(ComputeBackend::close);
    }

    static void rejects(String mustMention, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(mustMention), "message '" + e.getMessage() + "' should mention '" + mustMention + "'");
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void gemm(ComputeBackend be) {
        FloatBuf a = be.allocFloats(6), b = be.allocFloats(6);
        float[] cData = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        FloatBuf c = be.upload(cData.clone());
        rejects("gemm m", () -> be.gemm(false, false, -1, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        rejects("gemm A (m x k = 2 x 3)", () -> be.gemm(false, false, 2, 2, 3, 1f, a, 1, 3, b, 0, 2, 0f, c, 0, 2));
        rejects("gemm B (k x n = 3 x 2)", () -> be.gemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 1, 0f, c, 0, 2));
        rejects("gemm B (transposed, n x k = 2 x 3)", () -> be.gemm(false, true, 2, 2, 3, 1f, a, 0, 3, b, 1, 3, 0f, c, 0, 2));
        rejects("gemm C (m x n = 2 x 3)", () -> be.gemm(false, false, 2, 3, 2, 1f, a, 0, 2, b, 0, 3, 0f, c, 4, 3));
        rejects("gemm A", () -> be.gemm(true, false, 3, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2));
        assertArrayEquals(cData, c.toArray(), "C written although the call was rejected");
        IntBuf offs = be.upload(new int[] {0, 0});
        rejects("gemm cOffsets", () -> be.gemmBatched(false, false, 1, 1, 1, 1f, a, offs, 1, b, offs, 1, 0f, c,
                be.upload(new int[] {0}), 1, 0, 2));
        rejects("gemm C", () -> be.gemmBatched(false, false, 1, 1, 1, 1f, a, offs, 1, b, offs, 1, 0f, c,
                be.upload(new int[] {0, 9}), 1, 0, 2));
        rejects("strideC", () -> be.gemmStridedBatched(false, false, 1, 1, 1, 1f, a, 0, 1, 1, b, 0, 1, 1, 0f, c, 0, 1, 0, 2));
        rejects("gemm A", () -> be.gemmStridedBatched(false, false, 1, 1, 1, 1f, a, 0, 1, 3, b, 0, 1, 1, 0f, c, 0, 1, 1, 3));
        assertArrayEquals(cData, c.toArray(), "C written although the call was rejected");
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void elementwise(ComputeBackend be) {
        FloatBuf x = be.allocFloats(10), y = be.allocFloats(5);
        rejects("axpy y", () -> be.axpy(8, 1f, x, 0, y, 0));
        rejects("axpy x", () -> be.axpy(8, 1f, x, 3, x, 0));
        rejects("fill x", () -> be.fill(-1, 0f, x, 0));
        rejects("fill x", () -> be.fill(3, 0f, x, -1));
        rejects("relu y", () -> be.relu(6, x, 0, y, 0));
        rejects("sigmoid y", () -> be.sigmoid(6, x, 0, y, 0));
        rejects("reluBackward dx", () -> be.reluBackward(6, x, 0, x, 0, y, 0));
        rejects("bceLoss labels", () -> be.bceLoss(6, x, 0, y, 0, x, 0));
        rejects("bceLoss out", () -> be.bceLoss(5, x, 0, y, 0, y, 5));
        rejects("bceSigmoidBackward dz", () -> be.bceSigmoidBackward(6, 1f, x, 0, x, 0, y, 1));
        rejects("sum x", () -> be.sum(11, x, 0, y, 0));
        rejects("sum out", () -> be.sum(3, x, 0, y, 5));
        rejects("dot y", () -> be.dot(6, x, 0, y, 0, x, 0));
        rejects("dot out", () -> be.dot(3, x, 0, y, 0, y, -1));
        rejects("checkFinite x", () -> be.checkFinite(11, x, 0, 1));
        rejects("scale x", () -> be.scale(11, 1f, x, 0));
        rejects("addBias bias", () -> be.addBias(2, 6, y, 0, x, 0, 6));
        rejects("addBias x", () -> be.addBias(2, 5, y, 0, x, 0, 6));
        rejects("sumRows y", () -> be.sumRows(2, 5, x, 0, 5, 0f, y, 1));
        rejects("copy2d dst", () -> be.copy2d(2, 5, x, 0, 5, y, 0, 5));
        rejects("adagrad state", () -> be.adagradUpdate(6, 0.1f, 1e-8f, x, 0, y, 0, x, 0));
        rejects("gatherColumns: column 7", () -> be.gatherColumns(2, 2, be.upload(new int[] {0, 7}), x, 0, 5, x, 0, 2));
        rejects("scatterAddColumns: column -1", () -> be.scatterAddColumns(2, 2, be.upload(new int[] {-1, 0}), x, 0, 2, x, 0, 5));
        rejects("gatherColumns dst", () -> be.gatherColumns(2, 2, be.upload(new int[] {0, 1}), x, 0, 5, y, 0, 4));
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void embeddingBag(ComputeBackend be) {
        int rows = 4, dim = 3;
        float[] tData = new float[rows * dim];
        for (int j = 0; j < tData.length; j++) {
            tData[j] = j;
        }
        FloatBuf table = be.upload(tData.clone()), out = be.allocFloats(2 * dim), grad = be.upload(new float[] {1, 1, 1, 1, 1, 1});
        IntBuf good = be.upload(new int[] {0, 1, 3}), off = be.upload(new int[] {0, 2, 3});
        IntBuf badIdx = be.upload(new int[] {0, 1, 4});
        rejects("index 4 at position 2", () -> be.embeddingBagForward(rows, dim, table, badIdx, off, 2, null, Pooling.SUM, false, out, 0, dim));
        rejects("index 4 at position 2", () -> be.embeddingBagBackward(rows, dim, table, null, badIdx, off, 2, null, Pooling.SUM,
                grad, 0, dim, SparseOptimizer.sgd(0.1f)));
        assertArrayEquals(tData, table.toArray(), "table updated although the call was rejected");
        rejects("not non-decreasing", () -> be.embeddingBagForward(rows, dim, table, good, be.upload(new int[] {0, 2, 1}), 2, null,
                Pooling.SUM, false, out, 0, dim));
        rejects("offsets[2] = 4", () -> be.embeddingBagForward(rows, dim, table, good, be.upload(new int[] {0, 2, 4}), 2, null,
                Pooling.SUM, false, out, 0, dim));
        rejects("offsets needs bags+1", () -> be.embeddingBagForward(rows, dim, table, good, off, 3, null, Pooling.SUM, false, out, 0, dim));
        rejects("embeddingBag out", () -> be.embeddingBagForward(rows, dim, table, good, off, 2, null, Pooling.SUM, false, out, 1, dim));
        rejects("embeddingBag table", () -> be.embeddingBagForward(rows + 1, dim, table, good, off, 2, null, Pooling.SUM, false, out, 0, dim));
        rejects("per-sample weights", () -> be.embeddingBagForward(rows, dim, table, good, off, 2, be.allocFloats(2), Pooling.SUM, false, out, 0, dim));
        rejects("optimizer state", () -> be.embeddingBagBackward(rows, dim, table, be.allocFloats(3), good, off, 2, null, Pooling.SUM,
                grad, 0, dim, SparseOptimizer.rowwiseAdagrad(0.1f, 1e-8f)));
        rejects("gradOut", () -> be.embeddingBagBackward(rows, dim, table, null, good, off, 2, null, Pooling.SUM,
                grad, 1, dim, SparseOptimizer.sgd(0.1f)));
        assertArrayEquals(tData, table.toArray(), "table updated although the call was rejected");
    }
}
