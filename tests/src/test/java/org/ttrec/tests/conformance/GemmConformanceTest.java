package org.ttrec.tests.conformance;

import static org.ttrec.engine.tt.TtTestUtil.heap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.scalar.ScalarBackend;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.ttrec.engine.testing.TestData.assertClose;
import static org.ttrec.engine.testing.TestData.maxAbs;
import static org.ttrec.engine.testing.TestData.uniform;

/**
 * GEMM, strided batched GEMM and gather-list batched GEMM of every available backend against
 * the scalar reference: awkward sizes, all four transpose combinations, non-zero offsets,
 * padded leading dimensions, alpha/beta variants and beta = 0 over a NaN-filled C. The
 * tolerance is 1e-6 * (k + 1) * |alpha| max|A| max|B| + 1e-6 |beta| max|C|: rounding error of
 * a k-term float dot product grows at most linearly in k.
 */
class GemmConformanceTest {
    static final ScalarBackend REF = new ScalarBackend();
    static final List<ComputeBackend> SUBJECTS = Subjects.all();

    static List<ComputeBackend> subjects() {
        return SUBJECTS;
    }

    @AfterAll
    static void close() {
        SUBJECTS.forEach(ComputeBackend::close);
    }

    static final float[][] ALPHA_BETA = {{1f, 0f}, {1f, 1f}, {-0.7f, 0.3f}, {2f, 0f}};

    /** One product with padded leading dimensions and offsets, compared with the reference. */
    static void check(ComputeBackend be, SplittableRandom r, boolean tA, boolean tB, int m, int n, int k,
                      float alpha, float beta) {
        int pad = 3, aOff = 5, bOff = 7, cOff = 2;
        int aRows = tA ? k : m, aCols = tA ? m : k, bRows = tB ? n : k, bCols = tB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        float[] a = uniform(r, aOff + Math.max(0, aRows - 1) * lda + aCols + 1, -1f, 1f);
        float[] b = uniform(r, bOff + Math.max(0, bRows - 1) * ldb + bCols + 1, -1f, 1f);
        float[] c = uniform(r, cOff + Math.max(0, m - 1) * ldc + n + 2, -1f, 1f);
        if (beta == 0f) {
            Arrays.fill(c, Float.NaN); // beta == 0 must not read C
        }
        float[] c1 = c.clone(), c2 = c.clone();
        REF.gemm(tA, tB, m, n, k, alpha, heap(a), aOff, lda, heap(b), bOff, ldb, beta, heap(c1), cOff, ldc);
        FloatBuf cb = be.upload(c2);
        be.gemm(tA, tB, m, n, k, alpha, be.upload(a), aOff, lda, be.upload(b), bOff, ldb, beta, cb, cOff, ldc);
        Io.down(cb, c2);
        assertClose(be.name() + "/" + be.threads() + " gemm tA=" + tA + " tB=" + tB + " " + m + "x" + n + "x" + k
                + " alpha=" + alpha + " beta=" + beta, c1, c2, tol(k, alpha, beta, a, b, c));
    }

    static double tol(int k, float alpha, float beta, float[] a, float[] b, float[] c) {
        float mc = beta == 0f ? 0f : maxAbs(c);
        return 1e-6 * (k + 1) * Math.abs(alpha) * maxAbs(a) * maxAbs(b) + 1e-6 * Math.abs(beta) * mc + 1e-30;
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void awkwardSizes(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(11);
        int[] sizes = Subjects.sizes();
        int combo = 0;
        for (int m : sizes) {
            for (int n : sizes) {
                for (int k : new int[] {1, 13, 97}) {
                    boolean tA = (combo & 1) != 0, tB = (combo & 2) != 0;
                    float[] ab = ALPHA_BETA[(combo / 4) % ALPHA_BETA.length];
                    check(be, r, tA, tB, m, n, k, ab[0], ab[1]);
                    combo++;
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void everyTransposeAndScaling(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(12);
        for (boolean tA : new boolean[] {false, true}) {
            for (boolean tB : new boolean[] {false, true}) {
                for (float[] ab : ALPHA_BETA) {
                    check(be, r, tA, tB, 31, 33, 29, ab[0], ab[1]);  // small (unpacked) path
                    check(be, r, tA, tB, 97, 67, 61, ab[0], ab[1]);  // packed path, ragged tiles
                }
                check(be, r, tA, tB, 0, 5, 3, 1f, 0f);
                check(be, r, tA, tB, 4, 5, 0, 1.5f, 0.5f);
            }
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void largeSizes(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(13);
        check(be, r, false, false, 1031, 37, 29, 1f, 0f);     // tall: many row blocks, split by rows
        check(be, r, true, false, 33, 1031, 45, 1f, 0.5f);    // wide: split by columns
        check(be, r, false, true, 64, 70, 1031, -1f, 1f);     // deep: several k blocks
        check(be, r, true, true, 150, 131, 300, 0.5f, 0f);    // crosses MC and KC
        check(be, r, false, false, 20, 2100, 30, 1f, 0f);     // crosses NC
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("subjects")
    void batched(ComputeBackend be) {
        SplittableRandom r = new SplittableRandom(14);
        int[][] shapes = {{2, 64, 32}, {4, 4, 32}, {1, 128, 32}, {3, 5, 7}, {17, 33, 9}, {1, 1, 1}, {8, 16, 16}};
        int combo = 0;
        for (int[] s : shapes) {
            for (boolean tA : new boolean[] {false, true}) {
                for (boolean tB : new boolean[] {false, true}) {
                    float[] ab = ALPHA_BETA[combo++ % ALPHA_BETA.length];
                    int m = s[0], n = s[1], k = s[2];
                    strided(be, r, tA, tB, m, n, k, ab[0], ab[1], 37);
                    listed(be, r, tA, tB, m, n, k, ab[0], ab[1], 29);
                }
            }
        }
        // big enough to be split among threads
        strided(be, r, false, false, 2, 64, 32, 1f, 0f, 600);
        listed(be, r, false, true, 4, 4, 32, 1f, 1f, 3000);
    }

    static void strided(ComputeBackend be, SplittableRandom r, boolean tA, boolean tB, int m, int n, int k,
                        float alpha, float beta, int batch) {
        int lda = (tA ? m : k) + 1, ldb = (tB ? k : n) + 2, ldc = n + 1;
        int sA = (tA ? k : m) * lda + 3, sB = (tB ? n : k) * ldb, sC = m * ldc + 1;
        float[] a = uniform(r, 4 + sA * batch, -1f, 1f);
        float[] b = uniform(r, 1 + sB * batch, -1f, 1f);
        float[] c = uniform(r, 2 + sC * batch, -1f, 1f);
        if (beta == 0f) {
            Arrays.fill(c, Float.NaN);
        }
        float[] c1 = c.clone(), c2 = c.clone();
        REF.gemmStridedBatched(tA, tB, m, n, k, alpha, heap(a), 4, lda, sA, heap(b), 1, ldb, sB,
                beta, heap(c1), 2, ldc, sC, batch);
        FloatBuf cb = be.upload(c2);
        be.gemmStridedBatched(tA, tB, m, n, k, alpha, be.upload(a), 4, lda, sA, be.upload(b), 1, ldb, sB,
                beta, cb, 2, ldc, sC, batch);
        Io.down(cb, c2);
        assertClose(be.name() + " gemmStridedBatched tA=" + tA + " tB=" + tB + " " + m + "x" + n + "x" + k + " batch=" + batch,
                c1, c2, tol(k, alpha, beta, a, b, c));
    }

    static void listed(ComputeBackend be, SplittableRandom r, boolean tA, boolean tB, int m, int n, int k,
                       float alpha, float beta, int batch) {
        int lda = tA ? m : k, ldb = tB ? k : n, ldc = n;
        int sizeA = (tA ? k : m) * lda, sizeB = (tB ? n : k) * ldb, sizeC = m * ldc;
        int poolA = 5, poolB = 3; // A and B repeat across products, as TT core slices do
        float[] a = uniform(r, poolA * sizeA + 1, -1f, 1f);
        float[] b = uniform(r, poolB * sizeB + 1, -1f, 1f);
        float[] c = uniform(r, batch * sizeC + 1, -1f, 1f);
        if (beta == 0f) {
            Arrays.fill(c, Float.NaN);
        }
        int listOff = 2;
        int[] ao = new int[listOff + batch], bo = new int[listOff + batch], co = new int[listOff + batch];
        for (int x = 0; x < batch; x++) {
            ao[listOff + x] = 1 + r.nextInt(poolA) * sizeA;
            bo[listOff + x] = r.nextInt(poolB) * sizeB;
            co[listOff + x] = 1 + (batch - 1 - x) * sizeC; // reversed order
        }
        float[] c1 = c.clone(), c2 = c.clone();
        REF.gemmBatched(tA, tB, m, n, k, alpha, heap(a), heap(ao), lda, heap(b), heap(bo), ldb,
                beta, heap(c1), heap(co), ldc, listOff, batch);
        FloatBuf cb = be.upload(c2);
        be.gemmBatched(tA, tB, m, n, k, alpha, be.upload(a), be.upload(ao), lda, be.upload(b), be.upload(bo), ldb,
                beta, cb, be.upload(co), ldc, listOff, batch);
        Io.down(cb, c2);
        assertClose(be.name() + " gemmBatched tA=" + tA + " tB=" + tB + " " + m + "x" + n + "x" + k + " batch=" + batch,
                c1, c2, tol(k, alpha, beta, a, b, c));
    }
}
