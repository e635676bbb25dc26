package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Single-threaded SGEMM kernels on plain arrays; {@link CpuBackend} checks arguments and splits
 * C into blocks for threads. Two algorithms sit behind {@link #gemm}: a packed, cache-blocked
 * GEMM (BLIS loop order jc/pc/ic/jr/ir) with a register-blocked MR x (NV vectors) micro-kernel
 * for large products, and an unpacked row kernel vectorised along n for small ones (the batched
 * TT shapes). When {@link VectorWidth#SCALAR} is set, plain scalar loops run instead.
 *
 * <p>Rounding: each C element is an fma chain over k in order (within each KC block on the
 * packed path), scaled by alpha and combined with C, in lane-wise operations only. An element's
 * value therefore does not depend on where its tile lies; the path is chosen from the sizes of
 * the whole product, and {@link CpuBackend} runs the packed path on every part of a split one,
 * so results are identical for every thread count.
 */
final class Sgemm {
    private Sgemm() {}

    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    static final int L = VectorWidth.LANES;
    /** 4 lanes, for narrow column blocks of small products. */
    static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;

    /** Micro-kernel shape as rows*10+vectors, chosen once; {@code ttrec.gemm.kernel=RxV} overrides (for tuning). */
    static final int KERNEL = kernelId();
    /** Rows of the micro-kernel. */
    static final int MR = KERNEL / 10;
    /** Vectors per row of the micro-kernel. */
    static final int NV = KERNEL % 10;
    /** Columns of the micro-kernel. */
    static final int NR = NV * L;
    /**
     * k block: a KC x NR panel of packed B (32 KiB at 512 bits, NV = 2) is reused from L1 by
     * every row panel; 128..512 measured within noise of each other here. {@code ttrec.gemm.kc}
     * overrides it (for tuning).
     */
    static final int KC = Math.max(16, Integer.getInteger("ttrec.gemm.kc", 256));
    /** m block: an MC x KC block of packed A (about 120 KiB) stays in L2. */
    static final int MC = MR * Math.max(1, 128 / MR);
    /** n block: the packed B block (KC x NC, 2 MiB) is streamed from L2/L3 once per A block. */
    static final int NC = 2048;
    /** Products at most this big (m*n*k) skip packing and run the row kernel. */
    static final long SMALL = 40L * 40 * 40;

    private static int kernelId() {
        String p = System.getProperty("ttrec.gemm.kernel", "").trim();
        if (!p.isEmpty()) {
            String[] rv = p.split("x");
            int id = Integer.parseInt(rv[0]) * 10 + Integer.parseInt(rv[1]);
            switch (id) {
                case 62, 82, 43, 63, 83, 122, 142 -> { return id; }
                default -> throw new IllegalArgumentException("ttrec.gemm.kernel: no " + p + " kernel (have 6x2 8x2 4x3 6x3 8x3 12x2 14x2)");
            }
        }
        // 6 rows x 2 vectors keeps 12 accumulators + 2 B vectors + 1 broadcast within 16 registers
        // (AVX2). With 32 registers (AVX-512) 12x2 uses 24 accumulators: one B load per 12 FMAs.
        // In isolation (operands in L1) it ran at 96% of PeakBenchmark here; 8x2 at 90%.
        return F.vectorBitSize() >= 512 ? 122 : 62;
    }

    /** Per-thread scratch sizes. */
    static int packASize() {
        // L floats past the last panel: packA's full-vector stores of MR < L floats run over by L - MR
        return MC * KC + L;
    }

    static int packBSize() {
        return KC * ((NC + NR - 1) / NR) * NR;
    }

    /**
     * C = alpha op(A) op(B) + beta C on arrays; arguments already checked.
     */
    static void gemm(boolean tA, boolean tB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc, Scratch s) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            float v = alpha * 0f;
            for (int i = 0; i < m; i++) {
                int row = cOff + i * ldc;
                for (int j = 0; j < n; j++) {
                    c[row + j] = beta == 0f ? v : v + beta * c[row + j];
                }
            }
            return;
        }
        if (VectorWidth.SCALAR) {
            scalar(tA, tB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, s);
        } else if ((long) m * n * k <= SMALL) {
            small(tA, tB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, s);
        } else {
            blocked(tA, tB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, s);
        }
    }

    /** Whether {@link #gemm} of this size runs the packed kernel (and is worth splitting among threads). */
    static boolean isLarge(int m, int n, int k) {
        return !VectorWidth.SCALAR && (long) m * n * k > SMALL;
    }

    // ------------------------------------------------------------------ scalar path

    /** The ttrec.vector.bits=0 path: i-p-j loops over a row accumulator. */
    static void scalar(boolean tA, boolean tB, int m, int n, int k, float alpha,
                       float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float beta, float[] c, int cOff, int ldc, Scratch s) {
        float[] acc = s.row(n);
        for (int i = 0; i < m; i++) {
            Arrays.fill(acc, 0, n, 0f);
            for (int p = 0; p < k; p++) {
                float av = tA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                if (tB) {
                    for (int j = 0; j < n; j++) {
                        acc[j] = Math.fma(av, b[bOff + j * ldb + p], acc[j]);
                    }
                } else {
                    int row = bOff + p * ldb;
                    for (int j = 0; j < n; j++) {
                        acc[j] = Math.fma(av, b[row + j], acc[j]);
                    }
                }
            }
            int row = cOff + i * ldc;
            for (int j = 0; j < n; j++) {
                float v = alpha * acc[j];
                c[row + j] = beta == 0f ? v : Math.fma(c[row + j], beta, v);
            }
        }
    }

    // ------------------------------------------------------------------ small (unpacked) path

    /**
     * Row kernel for small products: C is accumulated along n in blocks of 4 vectors x 2 rows,
     * 1 vector x 4 rows, 4 lanes x 4 rows, then single columns, one broadcast of A per row and
     * k step; several rows at once give independent fma chains. A transposed B is first copied untransposed into scratch so
     * the inner loop always reads B rows contiguously.
     */
    static void small(boolean tA, boolean tB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                      float beta, float[] c, int cOff, int ldc, Scratch s) {
        if (tB) {
            float[] bt = s.smallB(k * n);
            for (int j = 0; j < n; j++) {
                int src = bOff + j * ldb;
                for (int p = 0; p < k; p++) {
                    bt[p * n + j] = b[src + p];
                }
            }
            b = bt;
            bOff = 0;
            ldb = n;
        }
        int sa = tA ? lda : 1;      // distance between consecutive k of one row of op(A)
        int ra = tA ? 1 : lda;      // distance between rows of op(A)
        // Separate methods, each small enough for C1 to compile (a single big one failed register
        // allocation in C1 and then stayed interpreted for seconds).
        int j0 = smallWide(m, n, k, alpha, a, aOff, sa, ra, b, bOff, ldb, beta, c, cOff, ldc, 0);
        j0 = smallOne(m, n, k, alpha, a, aOff, sa, ra, b, bOff, ldb, beta, c, cOff, ldc, j0);
        if (L > 4) {
            // Narrow columns (n = 4 in the TT shapes) use a 128-bit species rather than a mostly
            // empty masked 512-bit one (masked loads measured no faster than scalar code here).
            j0 = smallQuad(m, n, k, alpha, a, aOff, sa, ra, b, bOff, ldb, beta, c, cOff, ldc, j0);
        }
        // Last columns: the same fma chain per element, so the bits match the vector lanes. Four
        // rows at a time: one chain alone waits on the fma latency at every step (a 128 x 1 x 256
        // product, the top MLP's last layer, took 59 us).
        for (; j0 < n; j0++) {
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                float acc0 = 0f, acc1 = 0f, acc2 = 0f, acc3 = 0f;
                int ai = aOff + i * ra, bi = bOff + j0;
                for (int p = 0; p < k; p++, ai += sa, bi += ldb) {
                    float bv = b[bi];
                    acc0 = Math.fma(a[ai], bv, acc0);
                    acc1 = Math.fma(a[ai + ra], bv, acc1);
                    acc2 = Math.fma(a[ai + 2 * ra], bv, acc2);
                    acc3 = Math.fma(a[ai + 3 * ra], bv, acc3);
                }
                int ci = cOff + i * ldc + j0;
                c[ci] = beta == 0f ? alpha * acc0 : Math.fma(c[ci], beta, alpha * acc0);
                c[ci + ldc] = beta == 0f ? alpha * acc1 : Math.fma(c[ci + ldc], beta, alpha * acc1);
                c[ci + 2 * ldc] = beta == 0f ? alpha * acc2 : Math.fma(c[ci + 2 * ldc], beta, alpha * acc2);
                c[ci + 3 * ldc] = beta == 0f ? alpha * acc3 : Math.fma(c[ci + 3 * ldc], beta, alpha * acc3);
            }
            for (; i < m; i++) {
                float acc = 0f;
                int ai = aOff + i * ra, bi = bOff + j0;
                for (int p = 0; p < k; p++, ai += sa, bi += ldb) {
                    acc = Math.fma(a[ai], b[bi], acc);
                }
                float r = alpha * acc;
                int ci = cOff + i * ldc + j0;
                c[ci] = beta == 0f ? r : Math.fma(c[ci], beta, r);
            }
        }
    }

    /** Blocks of 4 vectors, 2 rows at a time (8 independent fma chains). @return the first column not done */
    private static int smallWide(int m, int n, int k, float alpha, float[] a, int aOff, int sa, int ra, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc, int j0) {
        for (; j0 + 4 * L <= n; j0 += 4 * L) {
            int i = 0;
            for (; i + 2 <= m; i += 2) {
                FloatVector c00 = FloatVector.zero(F); FloatVector c01 = FloatVector.zero(F); FloatVector c02 = FloatVector.zero(F); FloatVector c03 = FloatVector.zero(F);
                FloatVector c10 = FloatVector.zero(F); FloatVector c11 = FloatVector.zero(F); FloatVector c12 = FloatVector.zero(F); FloatVector c13 = FloatVector.zero(F);
                int ai = aOff + i * ra, bi = bOff + j0;
                for (int p = 0; p < k; p++, ai += sa, bi += ldb) {
                    FloatVector b0 = FloatVector.fromArray(F, b, bi);
                    FloatVector b1 = FloatVector.fromArray(F, b, bi + 1 * L);
                    FloatVector b2 = FloatVector.fromArray(F, b, bi + 2 * L);
                    FloatVector b3 = FloatVector.fromArray(F, b, bi + 3 * L);
                    FloatVector a0 = FloatVector.broadcast(F, a[ai]);
                    c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01); c02 = a0.fma(b2, c02); c03 = a0.fma(b3, c03);
                    FloatVector a1 = FloatVector.broadcast(F, a[ai + 1 * ra]);
                    c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11); c12 = a1.fma(b2, c12); c13 = a1.fma(b3, c13);
                }
                int co = cOff + i * ldc + j0;
                if (beta == 0f) {
                    c00.mul(alpha).intoArray(c, co + 0 * ldc);
                    c01.mul(alpha).intoArray(c, co + 0 * ldc + 1 * L);
                    c02.mul(alpha).intoArray(c, co + 0 * ldc + 2 * L);
                    c03.mul(alpha).intoArray(c, co + 0 * ldc + 3 * L);
                    c10.mul(alpha).intoArray(c, co + 1 * ldc);
                    c11.mul(alpha).intoArray(c, co + 1 * ldc + 1 * L);
                    c12.mul(alpha).intoArray(c, co + 1 * ldc + 2 * L);
                    c13.mul(alpha).intoArray(c, co + 1 * ldc + 3 * L);
                } else {
                    FloatVector bt = FloatVector.broadcast(F, beta);
                    FloatVector.fromArray(F, c, co + 0 * ldc).fma(bt, c00.mul(alpha)).intoArray(c, co + 0 * ldc);
                    FloatVector.fromArray(F, c, co + 0 * ldc + 1 * L).fma(bt, c01.mul(alpha)).intoArray(c, co + 0 * ldc + 1 * L);
                    FloatVector.fromArray(F, c, co + 0 * ldc + 2 * L).fma(bt, c02.mul(alpha)).intoArray(c, co + 0 * ldc + 2 * L);
                    FloatVector.fromArray(F, c, co + 0 * ldc + 3 * L).fma(bt, c03.mul(alpha)).intoArray(c, co + 0 * ldc + 3 * L);
                    FloatVector.fromArray(F, c, co + 1 * ldc).fma(bt, c10.mul(alpha)).intoArray(c, co + 1 * ldc);
                    FloatVector.fromArray(F, c, co + 1 * ldc + 1 * L).fma(bt, c11.mul(alpha)).intoArray(c, co + 1 * ldc + 1 * L);
                    FloatVector.fromArray(F, c, co + 1 * ldc + 2 * L).fma(bt, c12.mul(alpha)).intoArray(c, co + 1 * ldc + 2 * L);
                    FloatVector.fromArray(F, c, co + 1 * ldc + 3 * L).fma(bt, c13.mul(alpha)).intoArray(c, co + 1 * ldc + 3 * L);
                }
            }
            for (; i + 1 <= m; i += 1) {
                FloatVector c00 = FloatVector.zero(F); FloatVector c01 = FloatVector.zero(F); FloatVector c02 = FloatVector.zero(F); FloatVector c03 = FloatVector.zero(F);
                int ai = aOff + i * ra, bi = bOff + j0;
                for (int p = 0; p < k; p++, ai += sa, bi += ldb) {
                    FloatVector b0 = FloatVector.fromArray(F, b, bi);
                    FloatVector b1 = FloatVector.fromArray(F, b, bi + 1 * L);
                    FloatVector b2 = FloatVector.fromArray(F, b, bi + 2 * L);
                    FloatVector b3 = FloatVector.fromArray(F, b, bi + 3 * L);
                    FloatVector a0 = FloatVector.broadcast(F, a[ai]);
                    c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01); c02 = a0.fma(b2, c02); c03 = a0.fma(b3, c03);
                }
                int co = cOff + i * ldc + j0;
                if (beta == 0f) {
                    c00.mul(alpha).intoArray(c, co + 0 * ldc);
                    c01.mul(alpha).intoArray(c, co + 0 * ldc + 1 * L);
                    c02.mul(alpha).intoArray(c, co + 0 * ldc + 2 * L);
                    c03.mul(alpha).intoArray(c, co + 0 * ldc + 3 * L);
                } else {
                    FloatVector bt = FloatVector.broadcast(F, beta);
                    FloatVector.fromArray(F, c, co + 0 * ldc).fma(bt, c00.mul(alpha)).intoArray(c, co + 0 * ldc);
                    FloatVector.fromArray(F, c, co + 0 * ldc + 1 * L).fma(bt, c01.mul(alpha)).intoArray(c, co + 0 * ldc + 1 * L);
                    FloatVector.fromArray(F, c, co + 0 * ldc + 2 * L).fma(bt, c02.mul(alpha)).intoArray(c, co + 0 * ldc + 2 * L);
                    FloatVector.fromArray(F, c, co + 0 * ldc + 3 * L).fma(bt, c03.mul(alpha)).intoArray(c, co + 0 * ldc + 3 * L);
                }
            }
        }
        return j0;
    }

    /** Blocks of 1 vector, 4 rows at a time so 4 chains hide the fma latency. @return the first column not done */
    private static int smallOne(int m, int n, int k, float alpha, float[] a, int aOff, int sa, int ra, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc, int j0) {
        for (; j0 + L <= n; j0 += L) {
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                FloatVector c00 = FloatVector.zero(F);
                FloatVector c10 = FloatVector.zero(F);
                FloatVector c20 = FloatVector.zero(F);
                FloatVector c30 = FloatVector.zero(F);
                int ai = aOff + i * ra, bi = bOff + j0;
                for (int p = 0; p < k; p++, ai += sa, bi += ldb) {
                    FloatVector b0 = FloatVector.fromArray(F, b, bi);
                    FloatVector a0 = FloatVector.broadcast(F, a[ai]);
                    c00 = a0.fma(b0, c00);
                    FloatVector a1 = FloatVector.broadcast(F, a[ai + 1 * ra]);
                    c10 = a1.fma(b0, c10);
                    FloatVector a2 = FloatVector.broadcast(F, a[ai + 2 * ra]);
                    c20 = a2.fma(b0, c20);
                    FloatVector a3 = FloatVector.broadcast(F, a[ai + 3 * ra]);
                    c30 = a3.fma(b0, c30);
                }
                int co = cOff + i * ldc + j0;
                if (beta == 0f) {
                    c00.mul(alpha).intoArray(c, co + 0 * ldc);
                    c10.mul(alpha).intoArray(c, co + 1 * ldc);
                    c20.mul(alpha).intoArray(c, co + 2 * ldc);
                    c30.mul(alpha).intoArray(c, co + 3 * ldc);
                } else {
                    FloatVector bt = FloatVector.broadcast(F, beta);
                    FloatVector.fromArray(F, c, co + 0 * ldc).fma(bt, c00.mul(alpha)).intoArray(c, co + 0 * ldc);
                    FloatVector.fromArray(F, c, co + 1 * ldc).fma(bt, c10.mul(alpha)).intoArray(c, co + 1 * ldc);
                    FloatVector.fromArray(F, c, co + 2 * ldc).fma(bt, c20.mul(alpha)).intoArray(c, co + 2 * ldc);
                    FloatVector.fromArray(F, c, co + 3 * ldc).fma(bt, c30.mul(alpha)).intoArray(c, co + 3 * ldc);
                }
            }
            for (; i + 1 <= m; i += 1) {
                FloatVector c00 = FloatVector.zero(F);
                int ai = aOff + i * ra, bi = bOff + j0;
                for (int p = 0; p < k; p++, ai += sa, bi += ldb) {
                    FloatVector b0 = FloatVector.fromArray(F, b, bi);
                    FloatVector a0 = FloatVector.broadcast(F, a[ai]);
                    c00 = a0.fma(b0, c00);
                }
                int co = cOff + i * ldc + j0;
                if (beta == 0f) {
                    c00.mul(alpha).intoArray(c, co + 0 * ldc);
                } else {
                    FloatVector bt = FloatVector.broadcast(F, beta);
                    FloatVector.fromArray(F, c, co + 0 * ldc).fma(bt, c00.mul(alpha)).intoArray(c, co + 0 * ldc);
                }
            }
        }
        return j0;
    }

    /** Blocks of 4 columns in a 128-bit species, 4 rows at a time. @return the first column not done */
    private static int smallQuad(int m, int n, int k, float alpha, float[] a, int aOff, int sa, int ra, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc, int j0) {
        for (; j0 + 4 <= n; j0 += 4) {
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                FloatVector c00 = FloatVector.zero(F4);
                FloatVector c10 = FloatVector.zero(F4);
                FloatVector c20 = FloatVector.zero(F4);
                FloatVector c30 = FloatVector.zero(F4);
                int ai = aOff + i * ra, bi = bOff + j0;
                for (int p = 0; p < k; p++, ai += sa, bi += ldb) {
                    FloatVector b0 = FloatVector.fromArray(F4, b, bi);
                    FloatVector a0 = FloatVector.broadcast(F4, a[ai]);
                    c00 = a0.fma(b0, c00);
                    FloatVector a1 = FloatVector.broadcast(F4, a[ai + 1 * ra]);
                    c10 = a1.fma(b0, c10);
                    FloatVector a2 = FloatVector.broadcast(F4, a[ai + 2 * ra]);
                    c20 = a2.fma(b0, c20);
                    FloatVector a3 = FloatVector.broadcast(F4, a[ai + 3 * ra]);
                    c30 = a3.fma(b0, c30);
                }
                int co = cOff + i * ldc + j0;
                if (beta == 0f) {
                    c00.mul(alpha).intoArray(c, co + 0 * ldc);
                    c10.mul(alpha).intoArray(c, co + 1 * ldc);
                    c20.mul(alpha).intoArray(c, co + 2 * ldc);
                    c30.mul(alpha).intoArray(c, co + 3 * ldc);
                } else {
                    FloatVector bt = FloatVector.broadcast(F4, beta);
                    FloatVector.fromArray(F4, c, co + 0 * ldc).fma(bt, c00.mul(alpha)).intoArray(c, co + 0 * ldc);
                    FloatVector.fromArray(F4, c, co + 1 * ldc).fma(bt, c10.mul(alpha)).intoArray(c, co + 1 * ldc);
                    FloatVector.fromArray(F4, c, co + 2 * ldc).fma(bt, c20.mul(alpha)).intoArray(c, co + 2 * ldc);
                    FloatVector.fromArray(F4, c, co + 3 * ldc).fma(bt, c30.mul(alpha)).intoArray(c, co + 3 * ldc);
                }
            }
            for (; i + 1 <= m; i += 1) {
                FloatVector c00 = FloatVector.zero(F4);
                int ai = aOff + i * ra, bi = bOff + j0;
                for (int p = 0; p < k; p++, ai += sa, bi += ldb) {
                    FloatVector b0 = FloatVector.fromArray(F4, b, bi);
                    FloatVector a0 = FloatVector.broadcast(F4, a[ai]);
                    c00 = a0.fma(b0, c00);
                }
                int co = cOff + i * ldc + j0;
                if (beta == 0f) {
                    c00.mul(alpha).intoArray(c, co + 0 * ldc);
                } else {
                    FloatVector bt = FloatVector.broadcast(F4, beta);
                    FloatVector.fromArray(F4, c, co + 0 * ldc).fma(bt, c00.mul(alpha)).intoArray(c, co + 0 * ldc);
                }
            }
        }
        return j0;
    }


    // ------------------------------------------------------------------ packed, blocked path

    static void blocked(boolean tA, boolean tB, int m, int n, int k, float alpha,
                        float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                        float beta, float[] c, int cOff, int ldc, Scratch s) {
        float[] pa = s.packA(), pb = s.packB(), tile = s.tile();
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean first = pc == 0;
                packB(tB, kc, nc, b, tB ? bOff + jc * ldb + pc : bOff + pc * ldb + jc, ldb, pb);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    packA(tA, mc, kc, a, tA ? aOff + pc * lda + ic : aOff + ic * lda + pc, lda, pa);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        int bBase = (jr / NR) * kc * NR;
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            int aBase = (ir / MR) * kc * MR;
                            int cBase = cOff + (ic + ir) * ldc + jc + jr;
                            // a whole tile of C = 1 * acc + 0 * C is the accumulators themselves
                            // (x 1 is exact): stored straight into C, without the tile's round trip
                            boolean direct = first && beta == 0f && alpha == 1f && mr == MR && nr == NR;
                            float[] out = direct ? c : tile;
                            int oBase = direct ? cBase : 0, ldo = direct ? ldc : NR;
                            // The kernel has no branch besides its loop: a branch C2 had not
                            // seen taken deoptimises it, and until C2 has recompiled it (C1
                            // cannot allocate its registers) it runs interpreted, 100x slower.
                            switch (KERNEL) {
                                case 62 -> micro6x2(kc, pa, aBase, pb, bBase, out, oBase, ldo);
                                case 82 -> micro8x2(kc, pa, aBase, pb, bBase, out, oBase, ldo);
                                case 43 -> micro4x3(kc, pa, aBase, pb, bBase, out, oBase, ldo);
                                case 63 -> micro6x3(kc, pa, aBase, pb, bBase, out, oBase, ldo);
                                case 83 -> micro8x3(kc, pa, aBase, pb, bBase, out, oBase, ldo);
                                case 122 -> micro12x2(kc, pa, aBase, pb, bBase, out, oBase, ldo);
                                default -> micro14x2(kc, pa, aBase, pb, bBase, out, oBase, ldo);
                            }
                            if (!direct) {
                                storeTile(tile, mr, nr, alpha, beta, first, c, cBase, ldc);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Packs a kc x nc block of op(B) (starting at {@code off}) into NR-wide column panels,
     * each kc rows of NR floats, the last panel zero-padded.
     */
    static void packB(boolean tB, int kc, int nc, float[] b, int off, int ldb, float[] pb) {
        for (int jp = 0; jp < nc; jp += NR) {
            int w = Math.min(NR, nc - jp);
            int base = (jp / NR) * kc * NR;
            if (!tB && w == NR && !VectorWidth.SCALAR) {
                // whole rows of the panel as vectors: System.arraycopy's call and alignment
                // handling cost more than the copy itself at NR = 32 floats (JFR: most of packB)
                for (int p = 0; p < kc; p++) {
                    int src = off + p * ldb + jp, dst = base + p * NR;
                    for (int v = 0; v < NV; v++) {
                        FloatVector.fromArray(F, b, src + v * L).intoArray(pb, dst + v * L);
                    }
                }
            } else if (!tB) {
                for (int p = 0; p < kc; p++) {
                    int src = off + p * ldb + jp, dst = base + p * NR;
                    System.arraycopy(b, src, pb, dst, w);
                    if (w < NR) {
                        Arrays.fill(pb, dst + w, dst + NR, 0f);
                    }
                }
            } else {
                int p0 = 0;
                if (TRANSPOSE16 && w == NR) {
                    // whole 16 x 16 blocks in registers, the rest of k below
                    p0 = kc & ~15;
                    for (int j = 0; j < NR; j += 16) {
                        for (int p = 0; p < p0; p += 16) {
                            transpose16(b, off + (jp + j) * ldb + p, ldb, 16, pb, base + p * NR + j, NR);
                        }
                    }
                }
                for (int j = 0; j < w; j++) {
                    int src = off + (jp + j) * ldb;
                    for (int p = p0; p < kc; p++) {
                        pb[base + p * NR + j] = b[src + p];
                    }
                }
                for (int j = w; j < NR; j++) {
                    for (int p = 0; p < kc; p++) {
                        pb[base + p * NR + j] = 0f;
                    }
                }
            }
        }
    }

    /** Whether packB transposes 16 x 16 blocks in registers (16-lane vectors only). */
    static final boolean TRANSPOSE16 = VectorWidth.SIXTEEN && NR % 16 == 0;
    /**
     * Whether packA moves whole vectors: 16-lane vectors and panels of 12 to 16 rows (the
     * AVX-512 kernels), so a transposed block or one k step's rows fit one vector.
     */
    static final boolean PACK_A_VECTORS = VectorWidth.SIXTEEN && MR >= 12 && MR <= 16;
    private static final VectorMask<Float> T8 = VectorWidth.BIT8, T4 = VectorWidth.BIT4, T2 = VectorWidth.BIT2,
            T1 = VectorWidth.BIT1;
    private static final VectorShuffle<Float> X8 = VectorWidth.XOR8, X4 = VectorWidth.XOR4, X2 = VectorWidth.XOR2,
            X1 = VectorWidth.XOR1;

    /**
     * dst[q * ldd + r] = src[r * lds + q] for r, q < 16, where rows r >= {@code rows} (12..16)
     * of src read as zeros: a 16 x 16 block transposed in registers. Each of four stages (s = 8, 4, 2, 1)
     * swaps the off-diagonal s x s sub-blocks of every 2s x 2s block: rows i and i + s (bit s of i
     * clear) exchange the lanes where their bit s differs, using one lane swap (i -> i ^ s) and
     * one blend each. Packing a transposed B (the forward of a Linear layer, W^T) or a row-major
     * A otherwise costs a scalar load and store per entry.
     *
     * <p>Every output row is stored as a whole vector in increasing q, so with {@code ldd < 16}
     * (A panels of MR = 12 rows) each store runs over into the next row's first lanes, which the
     * next store then overwrites; the last one writes 16 - ldd floats past row 15.
     */
    static void transpose16(float[] src, int so, int lds, int rows, float[] dst, int dOff, int ldd) {
        FloatVector z = FloatVector.zero(F);
        FloatVector v0 = FloatVector.fromArray(F, src, so), v1 = FloatVector.fromArray(F, src, so + lds);
        FloatVector v2 = FloatVector.fromArray(F, src, so + 2 * lds), v3 = FloatVector.fromArray(F, src, so + 3 * lds);
        FloatVector v4 = FloatVector.fromArray(F, src, so + 4 * lds), v5 = FloatVector.fromArray(F, src, so + 5 * lds);
        FloatVector v6 = FloatVector.fromArray(F, src, so + 6 * lds), v7 = FloatVector.fromArray(F, src, so + 7 * lds);
        FloatVector v8 = FloatVector.fromArray(F, src, so + 8 * lds), v9 = FloatVector.fromArray(F, src, so + 9 * lds);
        FloatVector v10 = FloatVector.fromArray(F, src, so + 10 * lds), v11 = FloatVector.fromArray(F, src, so + 11 * lds);
        FloatVector v12 = rows > 12 ? FloatVector.fromArray(F, src, so + 12 * lds) : z;
        FloatVector v13 = rows > 13 ? FloatVector.fromArray(F, src, so + 13 * lds) : z;
        FloatVector v14 = rows > 14 ? FloatVector.fromArray(F, src, so + 14 * lds) : z;
        FloatVector v15 = rows > 15 ? FloatVector.fromArray(F, src, so + 15 * lds) : z;
        FloatVector t;
        // s = 8: rows (i, i + 8)
        t = v0; v0 = t.blend(v8.rearrange(X8), T8); v8 = t.rearrange(X8).blend(v8, T8);
        t = v1; v1 = t.blend(v9.rearrange(X8), T8); v9 = t.rearrange(X8).blend(v9, T8);
        t = v2; v2 = t.blend(v10.rearrange(X8), T8); v10 = t.rearrange(X8).blend(v10, T8);
        t = v3; v3 = t.blend(v11.rearrange(X8), T8); v11 = t.rearrange(X8).blend(v11, T8);
        t = v4; v4 = t.blend(v12.rearrange(X8), T8); v12 = t.rearrange(X8).blend(v12, T8);
        t = v5; v5 = t.blend(v13.rearrange(X8), T8); v13 = t.rearrange(X8).blend(v13, T8);
        t = v6; v6 = t.blend(v14.rearrange(X8), T8); v14 = t.rearrange(X8).blend(v14, T8);
        t = v7; v7 = t.blend(v15.rearrange(X8), T8); v15 = t.rearrange(X8).blend(v15, T8);
        // s = 4: rows (i, i + 4) for i = 0..3, 8..11
        t = v0; v0 = t.blend(v4.rearrange(X4), T4); v4 = t.rearrange(X4).blend(v4, T4);
        t = v1; v1 = t.blend(v5.rearrange(X4), T4); v5 = t.rearrange(X4).blend(v5, T4);
        t = v2; v2 = t.blend(v6.rearrange(X4), T4); v6 = t.rearrange(X4).blend(v6, T4);
        t = v3; v3 = t.blend(v7.rearrange(X4), T4); v7 = t.rearrange(X4).blend(v7, T4);
        t = v8; v8 = t.blend(v12.rearrange(X4), T4); v12 = t.rearrange(X4).blend(v12, T4);
        t = v9; v9 = t.blend(v13.rearrange(X4), T4); v13 = t.rearrange(X4).blend(v13, T4);
        t = v10; v10 = t.blend(v14.rearrange(X4), T4); v14 = t.rearrange(X4).blend(v14, T4);
        t = v11; v11 = t.blend(v15.rearrange(X4), T4); v15 = t.rearrange(X4).blend(v15, T4);
        // s = 2
        t = v0; v0 = t.blend(v2.rearrange(X2), T2); v2 = t.rearrange(X2).blend(v2, T2);
        t = v1; v1 = t.blend(v3.rearrange(X2), T2); v3 = t.rearrange(X2).blend(v3, T2);
        t = v4; v4 = t.blend(v6.rearrange(X2), T2); v6 = t.rearrange(X2).blend(v6, T2);
        t = v5; v5 = t.blend(v7.rearrange(X2), T2); v7 = t.rearrange(X2).blend(v7, T2);
        t = v8; v8 = t.blend(v10.rearrange(X2), T2); v10 = t.rearrange(X2).blend(v10, T2);
        t = v9; v9 = t.blend(v11.rearrange(X2), T2); v11 = t.rearrange(X2).blend(v11, T2);
        t = v12; v12 = t.blend(v14.rearrange(X2), T2); v14 = t.rearrange(X2).blend(v14, T2);
        t = v13; v13 = t.blend(v15.rearrange(X2), T2); v15 = t.rearrange(X2).blend(v15, T2);
        // s = 1
        t = v0; v0 = t.blend(v1.rearrange(X1), T1); v1 = t.rearrange(X1).blend(v1, T1);
        t = v2; v2 = t.blend(v3.rearrange(X1), T1); v3 = t.rearrange(X1).blend(v3, T1);
        t = v4; v4 = t.blend(v5.rearrange(X1), T1); v5 = t.rearrange(X1).blend(v5, T1);
        t = v6; v6 = t.blend(v7.rearrange(X1), T1); v7 = t.rearrange(X1).blend(v7, T1);
        t = v8; v8 = t.blend(v9.rearrange(X1), T1); v9 = t.rearrange(X1).blend(v9, T1);
        t = v10; v10 = t.blend(v11.rearrange(X1), T1); v11 = t.rearrange(X1).blend(v11, T1);
        t = v12; v12 = t.blend(v13.rearrange(X1), T1); v13 = t.rearrange(X1).blend(v13, T1);
        t = v14; v14 = t.blend(v15.rearrange(X1), T1); v15 = t.rearrange(X1).blend(v15, T1);
        v0.intoArray(dst, dOff);
        v1.intoArray(dst, dOff + ldd);
        v2.intoArray(dst, dOff + 2 * ldd);
        v3.intoArray(dst, dOff + 3 * ldd);
        v4.intoArray(dst, dOff + 4 * ldd);
        v5.intoArray(dst, dOff + 5 * ldd);
        v6.intoArray(dst, dOff + 6 * ldd);
        v7.intoArray(dst, dOff + 7 * ldd);
        v8.intoArray(dst, dOff + 8 * ldd);
        v9.intoArray(dst, dOff + 9 * ldd);
        v10.intoArray(dst, dOff + 10 * ldd);
        v11.intoArray(dst, dOff + 11 * ldd);
        v12.intoArray(dst, dOff + 12 * ldd);
        v13.intoArray(dst, dOff + 13 * ldd);
        v14.intoArray(dst, dOff + 14 * ldd);
        v15.intoArray(dst, dOff + 15 * ldd);
    }

    /**
     * Packs an mc x kc block of op(A) (starting at {@code off}) into MR-row panels, each kc
     * columns of MR floats, the last panel zero-padded.
     */
    static void packA(boolean tA, int mc, int kc, float[] a, int off, int lda, float[] pa) {
        for (int ip = 0; ip < mc; ip += MR) {
            int h = Math.min(MR, mc - ip);
            int base = (ip / MR) * kc * MR;
            if (!tA) {
                int p0 = 0;
                if (PACK_A_VECTORS && h == MR) {
                    // 16 k steps of the panel's MR rows at a time, transposed in registers (rows
                    // MR..15 zero); stores in increasing p, each running 16 - MR floats into the next
                    p0 = kc & ~15;
                    for (int p = 0; p < p0; p += 16) {
                        transpose16(a, off + ip * lda + p, lda, MR, pa, base + p * MR, MR);
                    }
                }
                for (int r = 0; r < h; r++) {
                    int src = off + (ip + r) * lda;
                    for (int p = p0; p < kc; p++) {
                        pa[base + p * MR + r] = a[src + p];
                    }
                }
            } else if (PACK_A_VECTORS && h == MR) {
                // a whole vector per k step, MR of its L floats kept: the next step's store
                // overwrites the rest (a System.arraycopy of 12 floats costs several times more)
                for (int p = 0; p < kc; p++) {
                    int src = off + p * lda + ip;
                    if (src + L <= a.length) {
                        FloatVector.fromArray(F, a, src).intoArray(pa, base + p * MR);
                    } else {
                        System.arraycopy(a, src, pa, base + p * MR, h);
                    }
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    System.arraycopy(a, off + p * lda + ip, pa, base + p * MR, h);
                }
            }
            if (h < MR) {
                for (int p = 0; p < kc; p++) {
                    Arrays.fill(pa, base + p * MR + h, base + p * MR + MR, 0f);
                }
            }
        }
    }

    /**
     * Adds one finished tile (accumulators of an mr x nr corner) into C: on the first k block
     * C = alpha acc + beta C (C unread when beta == 0), on later ones C += alpha acc.
     */
    static void storeTile(float[] tile, int mr, int nr, float alpha, float beta, boolean first,
                          float[] c, int cBase, int ldc) {
        for (int r = 0; r < mr; r++) {
            int row = cBase + r * ldc;
            for (int v = 0; v < NV; v++) {
                int col = v * L;
                if (col >= nr) {
                    break;
                }
                FloatVector acc = FloatVector.fromArray(F, tile, (r * NV + v) * L).mul(alpha);
                if (col + L <= nr) {
                    FloatVector res = first
                            ? (beta == 0f ? acc : FloatVector.fromArray(F, c, row + col).fma(FloatVector.broadcast(F, beta), acc))
                            : FloatVector.fromArray(F, c, row + col).add(acc);
                    res.intoArray(c, row + col);
                } else if (row + col + L <= c.length) {
                    VectorMask<Float> mask = F.indexInRange(col, nr);
                    FloatVector res = first
                            ? (beta == 0f ? acc : FloatVector.fromArray(F, c, row + col, mask).fma(FloatVector.broadcast(F, beta), acc))
                            : FloatVector.fromArray(F, c, row + col, mask).add(acc);
                    res.intoArray(c, row + col, mask);
                } else {
                    // a masked access whose whole vector would pass the array's end checks every
                    // lane in Java (JFR: 4% of a Kaggle-model step, for C = 128 x 1): scalar, same
                    // operations per entry
                    int t = (r * NV + v) * L;
                    for (int j = col; j < nr; j++) {
                        float a = tile[t + j - col] * alpha;
                        c[row + j] = first ? (beta == 0f ? a : Math.fma(c[row + j], beta, a)) : c[row + j] + a;
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ micro-kernels
    // Generated shapes, one method each: the accumulators must be locals of a single method, as a
    // helper taking vectors that C2 fails to inline would box them.

    /** 6 rows x 2 vectors of C accumulated over kc steps of packed A and B, written to out (row r at oBase + r ldo). */
    static void micro6x2(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] out, int oBase, int ldo) {
        FloatVector c00 = FloatVector.zero(F); FloatVector c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F); FloatVector c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F); FloatVector c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F); FloatVector c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F); FloatVector c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F); FloatVector c51 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ao = aBase + p * 6, bo = bBase + p * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, pb, bo);
            FloatVector b1 = FloatVector.fromArray(F, pb, bo + 1 * L);
            FloatVector a0 = FloatVector.broadcast(F, pa[ao]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(F, pa[ao + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(F, pa[ao + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(F, pa[ao + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(F, pa[ao + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(F, pa[ao + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
        }
        c00.intoArray(out, oBase + 0 * ldo + 0 * L);
        c01.intoArray(out, oBase + 0 * ldo + 1 * L);
        c10.intoArray(out, oBase + 1 * ldo + 0 * L);
        c11.intoArray(out, oBase + 1 * ldo + 1 * L);
        c20.intoArray(out, oBase + 2 * ldo + 0 * L);
        c21.intoArray(out, oBase + 2 * ldo + 1 * L);
        c30.intoArray(out, oBase + 3 * ldo + 0 * L);
        c31.intoArray(out, oBase + 3 * ldo + 1 * L);
        c40.intoArray(out, oBase + 4 * ldo + 0 * L);
        c41.intoArray(out, oBase + 4 * ldo + 1 * L);
        c50.intoArray(out, oBase + 5 * ldo + 0 * L);
        c51.intoArray(out, oBase + 5 * ldo + 1 * L);
    }

    /** 8 rows x 2 vectors of C accumulated over kc steps of packed A and B, written to out (row r at oBase + r ldo). */
    static void micro8x2(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] out, int oBase, int ldo) {
        FloatVector c00 = FloatVector.zero(F); FloatVector c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F); FloatVector c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F); FloatVector c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F); FloatVector c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F); FloatVector c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F); FloatVector c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F); FloatVector c61 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F); FloatVector c71 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ao = aBase + p * 8, bo = bBase + p * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, pb, bo);
            FloatVector b1 = FloatVector.fromArray(F, pb, bo + 1 * L);
            FloatVector a0 = FloatVector.broadcast(F, pa[ao]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(F, pa[ao + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(F, pa[ao + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(F, pa[ao + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(F, pa[ao + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(F, pa[ao + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(F, pa[ao + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(F, pa[ao + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
        }
        c00.intoArray(out, oBase + 0 * ldo + 0 * L);
        c01.intoArray(out, oBase + 0 * ldo + 1 * L);
        c10.intoArray(out, oBase + 1 * ldo + 0 * L);
        c11.intoArray(out, oBase + 1 * ldo + 1 * L);
        c20.intoArray(out, oBase + 2 * ldo + 0 * L);
        c21.intoArray(out, oBase + 2 * ldo + 1 * L);
        c30.intoArray(out, oBase + 3 * ldo + 0 * L);
        c31.intoArray(out, oBase + 3 * ldo + 1 * L);
        c40.intoArray(out, oBase + 4 * ldo + 0 * L);
        c41.intoArray(out, oBase + 4 * ldo + 1 * L);
        c50.intoArray(out, oBase + 5 * ldo + 0 * L);
        c51.intoArray(out, oBase + 5 * ldo + 1 * L);
        c60.intoArray(out, oBase + 6 * ldo + 0 * L);
        c61.intoArray(out, oBase + 6 * ldo + 1 * L);
        c70.intoArray(out, oBase + 7 * ldo + 0 * L);
        c71.intoArray(out, oBase + 7 * ldo + 1 * L);
    }

    /** 4 rows x 3 vectors of C accumulated over kc steps of packed A and B, written to out (row r at oBase + r ldo). */
    static void micro4x3(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] out, int oBase, int ldo) {
        FloatVector c00 = FloatVector.zero(F); FloatVector c01 = FloatVector.zero(F); FloatVector c02 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F); FloatVector c11 = FloatVector.zero(F); FloatVector c12 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F); FloatVector c21 = FloatVector.zero(F); FloatVector c22 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F); FloatVector c31 = FloatVector.zero(F); FloatVector c32 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ao = aBase + p * 4, bo = bBase + p * 3 * L;
            FloatVector b0 = FloatVector.fromArray(F, pb, bo);
            FloatVector b1 = FloatVector.fromArray(F, pb, bo + 1 * L);
            FloatVector b2 = FloatVector.fromArray(F, pb, bo + 2 * L);
            FloatVector a0 = FloatVector.broadcast(F, pa[ao]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01); c02 = a0.fma(b2, c02);
            FloatVector a1 = FloatVector.broadcast(F, pa[ao + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11); c12 = a1.fma(b2, c12);
            FloatVector a2 = FloatVector.broadcast(F, pa[ao + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21); c22 = a2.fma(b2, c22);
            FloatVector a3 = FloatVector.broadcast(F, pa[ao + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31); c32 = a3.fma(b2, c32);
        }
        c00.intoArray(out, oBase + 0 * ldo + 0 * L);
        c01.intoArray(out, oBase + 0 * ldo + 1 * L);
        c02.intoArray(out, oBase + 0 * ldo + 2 * L);
        c10.intoArray(out, oBase + 1 * ldo + 0 * L);
        c11.intoArray(out, oBase + 1 * ldo + 1 * L);
        c12.intoArray(out, oBase + 1 * ldo + 2 * L);
        c20.intoArray(out, oBase + 2 * ldo + 0 * L);
        c21.intoArray(out, oBase + 2 * ldo + 1 * L);
        c22.intoArray(out, oBase + 2 * ldo + 2 * L);
        c30.intoArray(out, oBase + 3 * ldo + 0 * L);
        c31.intoArray(out, oBase + 3 * ldo + 1 * L);
        c32.intoArray(out, oBase + 3 * ldo + 2 * L);
    }

    /** 6 rows x 3 vectors of C accumulated over kc steps of packed A and B, written to out (row r at oBase + r ldo). */
    static void micro6x3(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] out, int oBase, int ldo) {
        FloatVector c00 = FloatVector.zero(F); FloatVector c01 = FloatVector.zero(F); FloatVector c02 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F); FloatVector c11 = FloatVector.zero(F); FloatVector c12 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F); FloatVector c21 = FloatVector.zero(F); FloatVector c22 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F); FloatVector c31 = FloatVector.zero(F); FloatVector c32 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F); FloatVector c41 = FloatVector.zero(F); FloatVector c42 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F); FloatVector c51 = FloatVector.zero(F); FloatVector c52 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ao = aBase + p * 6, bo = bBase + p * 3 * L;
            FloatVector b0 = FloatVector.fromArray(F, pb, bo);
            FloatVector b1 = FloatVector.fromArray(F, pb, bo + 1 * L);
            FloatVector b2 = FloatVector.fromArray(F, pb, bo + 2 * L);
            FloatVector a0 = FloatVector.broadcast(F, pa[ao]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01); c02 = a0.fma(b2, c02);
            FloatVector a1 = FloatVector.broadcast(F, pa[ao + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11); c12 = a1.fma(b2, c12);
            FloatVector a2 = FloatVector.broadcast(F, pa[ao + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21); c22 = a2.fma(b2, c22);
            FloatVector a3 = FloatVector.broadcast(F, pa[ao + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31); c32 = a3.fma(b2, c32);
            FloatVector a4 = FloatVector.broadcast(F, pa[ao + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41); c42 = a4.fma(b2, c42);
            FloatVector a5 = FloatVector.broadcast(F, pa[ao + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51); c52 = a5.fma(b2, c52);
        }
        c00.intoArray(out, oBase + 0 * ldo + 0 * L);
        c01.intoArray(out, oBase + 0 * ldo + 1 * L);
        c02.intoArray(out, oBase + 0 * ldo + 2 * L);
        c10.intoArray(out, oBase + 1 * ldo + 0 * L);
        c11.intoArray(out, oBase + 1 * ldo + 1 * L);
        c12.intoArray(out, oBase + 1 * ldo + 2 * L);
        c20.intoArray(out, oBase + 2 * ldo + 0 * L);
        c21.intoArray(out, oBase + 2 * ldo + 1 * L);
        c22.intoArray(out, oBase + 2 * ldo + 2 * L);
        c30.intoArray(out, oBase + 3 * ldo + 0 * L);
        c31.intoArray(out, oBase + 3 * ldo + 1 * L);
        c32.intoArray(out, oBase + 3 * ldo + 2 * L);
        c40.intoArray(out, oBase + 4 * ldo + 0 * L);
        c41.intoArray(out, oBase + 4 * ldo + 1 * L);
        c42.intoArray(out, oBase + 4 * ldo + 2 * L);
        c50.intoArray(out, oBase + 5 * ldo + 0 * L);
        c51.intoArray(out, oBase + 5 * ldo + 1 * L);
        c52.intoArray(out, oBase + 5 * ldo + 2 * L);
    }

    /** 8 rows x 3 vectors of C accumulated over kc steps of packed A and B, written to out (row r at oBase + r ldo). */
    static void micro8x3(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] out, int oBase, int ldo) {
        FloatVector c00 = FloatVector.zero(F); FloatVector c01 = FloatVector.zero(F); FloatVector c02 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F); FloatVector c11 = FloatVector.zero(F); FloatVector c12 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F); FloatVector c21 = FloatVector.zero(F); FloatVector c22 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F); FloatVector c31 = FloatVector.zero(F); FloatVector c32 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F); FloatVector c41 = FloatVector.zero(F); FloatVector c42 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F); FloatVector c51 = FloatVector.zero(F); FloatVector c52 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F); FloatVector c61 = FloatVector.zero(F); FloatVector c62 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F); FloatVector c71 = FloatVector.zero(F); FloatVector c72 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ao = aBase + p * 8, bo = bBase + p * 3 * L;
            FloatVector b0 = FloatVector.fromArray(F, pb, bo);
            FloatVector b1 = FloatVector.fromArray(F, pb, bo + 1 * L);
            FloatVector b2 = FloatVector.fromArray(F, pb, bo + 2 * L);
            FloatVector a0 = FloatVector.broadcast(F, pa[ao]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01); c02 = a0.fma(b2, c02);
            FloatVector a1 = FloatVector.broadcast(F, pa[ao + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11); c12 = a1.fma(b2, c12);
            FloatVector a2 = FloatVector.broadcast(F, pa[ao + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21); c22 = a2.fma(b2, c22);
            FloatVector a3 = FloatVector.broadcast(F, pa[ao + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31); c32 = a3.fma(b2, c32);
            FloatVector a4 = FloatVector.broadcast(F, pa[ao + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41); c42 = a4.fma(b2, c42);
            FloatVector a5 = FloatVector.broadcast(F, pa[ao + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51); c52 = a5.fma(b2, c52);
            FloatVector a6 = FloatVector.broadcast(F, pa[ao + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61); c62 = a6.fma(b2, c62);
            FloatVector a7 = FloatVector.broadcast(F, pa[ao + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71); c72 = a7.fma(b2, c72);
        }
        c00.intoArray(out, oBase + 0 * ldo + 0 * L);
        c01.intoArray(out, oBase + 0 * ldo + 1 * L);
        c02.intoArray(out, oBase + 0 * ldo + 2 * L);
        c10.intoArray(out, oBase + 1 * ldo + 0 * L);
        c11.intoArray(out, oBase + 1 * ldo + 1 * L);
        c12.intoArray(out, oBase + 1 * ldo + 2 * L);
        c20.intoArray(out, oBase + 2 * ldo + 0 * L);
        c21.intoArray(out, oBase + 2 * ldo + 1 * L);
        c22.intoArray(out, oBase + 2 * ldo + 2 * L);
        c30.intoArray(out, oBase + 3 * ldo + 0 * L);
        c31.intoArray(out, oBase + 3 * ldo + 1 * L);
        c32.intoArray(out, oBase + 3 * ldo + 2 * L);
        c40.intoArray(out, oBase + 4 * ldo + 0 * L);
        c41.intoArray(out, oBase + 4 * ldo + 1 * L);
        c42.intoArray(out, oBase + 4 * ldo + 2 * L);
        c50.intoArray(out, oBase + 5 * ldo + 0 * L);
        c51.intoArray(out, oBase + 5 * ldo + 1 * L);
        c52.intoArray(out, oBase + 5 * ldo + 2 * L);
        c60.intoArray(out, oBase + 6 * ldo + 0 * L);
        c61.intoArray(out, oBase + 6 * ldo + 1 * L);
        c62.intoArray(out, oBase + 6 * ldo + 2 * L);
        c70.intoArray(out, oBase + 7 * ldo + 0 * L);
        c71.intoArray(out, oBase + 7 * ldo + 1 * L);
        c72.intoArray(out, oBase + 7 * ldo + 2 * L);
    }

    /** 12 rows x 2 vectors of C accumulated over kc steps of packed A and B, written to out (row r at oBase + r ldo). */
    static void micro12x2(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] out, int oBase, int ldo) {
        FloatVector c00 = FloatVector.zero(F); FloatVector c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F); FloatVector c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F); FloatVector c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F); FloatVector c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F); FloatVector c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F); FloatVector c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F); FloatVector c61 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F); FloatVector c71 = FloatVector.zero(F);
        FloatVector c80 = FloatVector.zero(F); FloatVector c81 = FloatVector.zero(F);
        FloatVector c90 = FloatVector.zero(F); FloatVector c91 = FloatVector.zero(F);
        FloatVector c100 = FloatVector.zero(F); FloatVector c101 = FloatVector.zero(F);
        FloatVector c110 = FloatVector.zero(F); FloatVector c111 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ao = aBase + p * 12, bo = bBase + p * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, pb, bo);
            FloatVector b1 = FloatVector.fromArray(F, pb, bo + 1 * L);
            FloatVector a0 = FloatVector.broadcast(F, pa[ao]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(F, pa[ao + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(F, pa[ao + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(F, pa[ao + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(F, pa[ao + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(F, pa[ao + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(F, pa[ao + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(F, pa[ao + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
            FloatVector a8 = FloatVector.broadcast(F, pa[ao + 8]);
            c80 = a8.fma(b0, c80); c81 = a8.fma(b1, c81);
            FloatVector a9 = FloatVector.broadcast(F, pa[ao + 9]);
            c90 = a9.fma(b0, c90); c91 = a9.fma(b1, c91);
            FloatVector a10 = FloatVector.broadcast(F, pa[ao + 10]);
            c100 = a10.fma(b0, c100); c101 = a10.fma(b1, c101);
            FloatVector a11 = FloatVector.broadcast(F, pa[ao + 11]);
            c110 = a11.fma(b0, c110); c111 = a11.fma(b1, c111);
        }
        c00.intoArray(out, oBase + 0 * ldo + 0 * L);
        c01.intoArray(out, oBase + 0 * ldo + 1 * L);
        c10.intoArray(out, oBase + 1 * ldo + 0 * L);
        c11.intoArray(out, oBase + 1 * ldo + 1 * L);
        c20.intoArray(out, oBase + 2 * ldo + 0 * L);
        c21.intoArray(out, oBase + 2 * ldo + 1 * L);
        c30.intoArray(out, oBase + 3 * ldo + 0 * L);
        c31.intoArray(out, oBase + 3 * ldo + 1 * L);
        c40.intoArray(out, oBase + 4 * ldo + 0 * L);
        c41.intoArray(out, oBase + 4 * ldo + 1 * L);
        c50.intoArray(out, oBase + 5 * ldo + 0 * L);
        c51.intoArray(out, oBase + 5 * ldo + 1 * L);
        c60.intoArray(out, oBase + 6 * ldo + 0 * L);
        c61.intoArray(out, oBase + 6 * ldo + 1 * L);
        c70.intoArray(out, oBase + 7 * ldo + 0 * L);
        c71.intoArray(out, oBase + 7 * ldo + 1 * L);
        c80.intoArray(out, oBase + 8 * ldo + 0 * L);
        c81.intoArray(out, oBase + 8 * ldo + 1 * L);
        c90.intoArray(out, oBase + 9 * ldo + 0 * L);
        c91.intoArray(out, oBase + 9 * ldo + 1 * L);
        c100.intoArray(out, oBase + 10 * ldo + 0 * L);
        c101.intoArray(out, oBase + 10 * ldo + 1 * L);
        c110.intoArray(out, oBase + 11 * ldo + 0 * L);
        c111.intoArray(out, oBase + 11 * ldo + 1 * L);
    }

    /** 14 rows x 2 vectors of C accumulated over kc steps of packed A and B, written to out (row r at oBase + r ldo). */
    static void micro14x2(int kc, float[] pa, int aBase, float[] pb, int bBase, float[] out, int oBase, int ldo) {
        FloatVector c00 = FloatVector.zero(F); FloatVector c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F); FloatVector c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F); FloatVector c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F); FloatVector c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F); FloatVector c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F); FloatVector c51 = FloatVector.zero(F);
        FloatVector c60 = FloatVector.zero(F); FloatVector c61 = FloatVector.zero(F);
        FloatVector c70 = FloatVector.zero(F); FloatVector c71 = FloatVector.zero(F);
        FloatVector c80 = FloatVector.zero(F); FloatVector c81 = FloatVector.zero(F);
        FloatVector c90 = FloatVector.zero(F); FloatVector c91 = FloatVector.zero(F);
        FloatVector c100 = FloatVector.zero(F); FloatVector c101 = FloatVector.zero(F);
        FloatVector c110 = FloatVector.zero(F); FloatVector c111 = FloatVector.zero(F);
        FloatVector c120 = FloatVector.zero(F); FloatVector c121 = FloatVector.zero(F);
        FloatVector c130 = FloatVector.zero(F); FloatVector c131 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int ao = aBase + p * 14, bo = bBase + p * 2 * L;
            FloatVector b0 = FloatVector.fromArray(F, pb, bo);
            FloatVector b1 = FloatVector.fromArray(F, pb, bo + 1 * L);
            FloatVector a0 = FloatVector.broadcast(F, pa[ao]);
            c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(F, pa[ao + 1]);
            c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(F, pa[ao + 2]);
            c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(F, pa[ao + 3]);
            c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(F, pa[ao + 4]);
            c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(F, pa[ao + 5]);
            c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(F, pa[ao + 6]);
            c60 = a6.fma(b0, c60); c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(F, pa[ao + 7]);
            c70 = a7.fma(b0, c70); c71 = a7.fma(b1, c71);
            FloatVector a8 = FloatVector.broadcast(F, pa[ao + 8]);
            c80 = a8.fma(b0, c80); c81 = a8.fma(b1, c81);
            FloatVector a9 = FloatVector.broadcast(F, pa[ao + 9]);
            c90 = a9.fma(b0, c90); c91 = a9.fma(b1, c91);
            FloatVector a10 = FloatVector.broadcast(F, pa[ao + 10]);
            c100 = a10.fma(b0, c100); c101 = a10.fma(b1, c101);
            FloatVector a11 = FloatVector.broadcast(F, pa[ao + 11]);
            c110 = a11.fma(b0, c110); c111 = a11.fma(b1, c111);
            FloatVector a12 = FloatVector.broadcast(F, pa[ao + 12]);
            c120 = a12.fma(b0, c120); c121 = a12.fma(b1, c121);
            FloatVector a13 = FloatVector.broadcast(F, pa[ao + 13]);
            c130 = a13.fma(b0, c130); c131 = a13.fma(b1, c131);
        }
        c00.intoArray(out, oBase + 0 * ldo + 0 * L);
        c01.intoArray(out, oBase + 0 * ldo + 1 * L);
        c10.intoArray(out, oBase + 1 * ldo + 0 * L);
        c11.intoArray(out, oBase + 1 * ldo + 1 * L);
        c20.intoArray(out, oBase + 2 * ldo + 0 * L);
        c21.intoArray(out, oBase + 2 * ldo + 1 * L);
        c30.intoArray(out, oBase + 3 * ldo + 0 * L);
        c31.intoArray(out, oBase + 3 * ldo + 1 * L);
        c40.intoArray(out, oBase + 4 * ldo + 0 * L);
        c41.intoArray(out, oBase + 4 * ldo + 1 * L);
        c50.intoArray(out, oBase + 5 * ldo + 0 * L);
        c51.intoArray(out, oBase + 5 * ldo + 1 * L);
        c60.intoArray(out, oBase + 6 * ldo + 0 * L);
        c61.intoArray(out, oBase + 6 * ldo + 1 * L);
        c70.intoArray(out, oBase + 7 * ldo + 0 * L);
        c71.intoArray(out, oBase + 7 * ldo + 1 * L);
        c80.intoArray(out, oBase + 8 * ldo + 0 * L);
        c81.intoArray(out, oBase + 8 * ldo + 1 * L);
        c90.intoArray(out, oBase + 9 * ldo + 0 * L);
        c91.intoArray(out, oBase + 9 * ldo + 1 * L);
        c100.intoArray(out, oBase + 10 * ldo + 0 * L);
        c101.intoArray(out, oBase + 10 * ldo + 1 * L);
        c110.intoArray(out, oBase + 11 * ldo + 0 * L);
        c111.intoArray(out, oBase + 11 * ldo + 1 * L);
        c120.intoArray(out, oBase + 12 * ldo + 0 * L);
        c121.intoArray(out, oBase + 12 * ldo + 1 * L);
        c130.intoArray(out, oBase + 13 * ldo + 0 * L);
        c131.intoArray(out, oBase + 13 * ldo + 1 * L);
    }

}
