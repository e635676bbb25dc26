package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The small products of the TT chain (docs/tt-layout.md, Forward), on row-major float arrays at offsets:
 * C = A @ B and C += A @ B for a few rows of A against one core slice, the narrow last-core
 * products, and the elementwise steps of the optimisers.
 *
 * <p>Each kernel keeps its whole inner loop in one method: a helper that takes vectors as
 * arguments and is not inlined boxes them (a GEMM measured here ran about 10x slower). Where two
 * kernels repeat a block of FMAs, that is on purpose: Vector API code stays in registers only as
 * a straight-line body. Several kernels are split in two methods because as one they were too
 * large for C1's register allocator, and a method C1 gives up on never reaches C2.
 */
final class TtMicroKernels {
    private static final VectorSpecies<Float> SP = VectorWidth.FLOAT;
    private static final int L = VectorWidth.LANES;
    private static final boolean SCALAR = VectorWidth.SCALAR;
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256, F128 = FloatVector.SPECIES_128;
    private static final VectorShuffle<Float> S8 = VectorWidth.XOR8, S4 = VectorWidth.XOR4;
    /** Lane l of E_j picks lane 4j + l / 4: four entries of an A row, each repeated four times. */
    private static final VectorShuffle<Float> E0 = spread(0), E1 = spread(1), E2 = spread(2), E3 = spread(3);
    /** Lanes 4..7, 8..11 and 12..15. */
    private static final VectorMask<Float> Q1 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0x00F0L) : null,
            Q2 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0x0F00L) : null,
            Q3 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0xF000L) : null;
    /** Lanes 1, 5, 9, 13; 2, 6, 10, 14; 3, 7, 11, 15: column j of four rows of four. */
    private static final VectorMask<Float> J1 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0x2222L) : null,
            J2 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0x4444L) : null,
            J3 = VectorWidth.SIXTEEN ? VectorMask.fromLong(SP, 0x8888L) : null;

    private TtMicroKernels() {
    }

    private static VectorShuffle<Float> spread(int j) {
        return VectorWidth.SIXTEEN ? VectorShuffle.fromOp(SP, l -> 4 * j + l / 4) : null;
    }

    /** y[yo + i] += alpha * x[xo + i]. */
    static void axpy(int n, float alpha, float[] x, int xo, float[] y, int yo) {
        int i = 0;
        if (!SCALAR) {
            FloatVector av = FloatVector.broadcast(SP, alpha);
            for (; i <= n - L; i += L) {
                FloatVector.fromArray(SP, x, xo + i).fma(av, FloatVector.fromArray(SP, y, yo + i)).intoArray(y, yo + i);
            }
            if (i < n) {
                VectorMask<Float> mk = SP.indexInRange(i, n);
                FloatVector.fromArray(SP, x, xo + i, mk).fma(av, FloatVector.fromArray(SP, y, yo + i, mk))
                        .intoArray(y, yo + i, mk);
                return;
            }
        }
        for (; i < n; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }

    static float sumSquares(int n, float[] x, int xo) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += x[xo + i] * x[xo + i];
        }
        return s;
    }

    /** Elementwise Adagrad on n entries. */
    static void adagrad(int n, float lr, float eps, float[] g, int go, float[] s, int so, float[] w, int wo) {
        int i = 0;
        if (!SCALAR) {
            FloatVector lrv = FloatVector.broadcast(SP, lr), epsv = FloatVector.broadcast(SP, eps);
            for (; i <= n - L; i += L) {
                FloatVector gv = FloatVector.fromArray(SP, g, go + i);
                FloatVector sv = gv.fma(gv, FloatVector.fromArray(SP, s, so + i));
                sv.intoArray(s, so + i);
                FloatVector wv = FloatVector.fromArray(SP, w, wo + i);
                wv.sub(lrv.mul(gv).div(sv.sqrt().add(epsv))).intoArray(w, wo + i);
            }
        }
        for (; i < n; i++) {
            float gv = g[go + i];
            float sv = s[so + i] + gv * gv;
            s[so + i] = sv;
            w[wo + i] -= lr * gv / ((float) Math.sqrt(sv) + eps);
        }
    }

    /**
     * Two 2-row products with the same B: C[c0] (2 x n) = A[a0] (2 x k) @ B and C[c2] = A[a2] @ B,
     * for n a multiple of 4L. Each B vector feeds four rows, and each element gets the FMAs of
     * {@link #gemmRows} in the same order (t ascending from zero), so the bits are the same.
     * A copy of gemmRows' 4-vector block on purpose: Vector API kernels stay in registers only as
     * straight-line bodies.
     */
    static void gemmRows2x2(int k, int n, float[] a, int a0, int a2, float[] b, int bo, float[] c, int c0,
                            int c2) {
        int a1 = a0 + k, a3 = a2 + k;
        for (int j = 0; j < n; j += 4 * L) {
            FloatVector c00 = FloatVector.zero(SP), c01 = FloatVector.zero(SP);
            FloatVector c02 = FloatVector.zero(SP), c03 = FloatVector.zero(SP);
            FloatVector c10 = FloatVector.zero(SP), c11 = FloatVector.zero(SP);
            FloatVector c12 = FloatVector.zero(SP), c13 = FloatVector.zero(SP);
            FloatVector c20 = FloatVector.zero(SP), c21 = FloatVector.zero(SP);
            FloatVector c22 = FloatVector.zero(SP), c23 = FloatVector.zero(SP);
            FloatVector c30 = FloatVector.zero(SP), c31 = FloatVector.zero(SP);
            FloatVector c32 = FloatVector.zero(SP), c33 = FloatVector.zero(SP);
            for (int t = 0; t < k; t++) {
                int bt = bo + t * n + j;
                FloatVector b0 = FloatVector.fromArray(SP, b, bt);
                FloatVector b1 = FloatVector.fromArray(SP, b, bt + L);
                FloatVector b2 = FloatVector.fromArray(SP, b, bt + 2 * L);
                FloatVector b3 = FloatVector.fromArray(SP, b, bt + 3 * L);
                FloatVector x = FloatVector.broadcast(SP, a[a0 + t]);
                c00 = b0.fma(x, c00);
                c01 = b1.fma(x, c01);
                c02 = b2.fma(x, c02);
                c03 = b3.fma(x, c03);
                x = FloatVector.broadcast(SP, a[a1 + t]);
                c10 = b0.fma(x, c10);
                c11 = b1.fma(x, c11);
                c12 = b2.fma(x, c12);
                c13 = b3.fma(x, c13);
                x = FloatVector.broadcast(SP, a[a2 + t]);
                c20 = b0.fma(x, c20);
                c21 = b1.fma(x, c21);
                c22 = b2.fma(x, c22);
                c23 = b3.fma(x, c23);
                x = FloatVector.broadcast(SP, a[a3 + t]);
                c30 = b0.fma(x, c30);
                c31 = b1.fma(x, c31);
                c32 = b2.fma(x, c32);
                c33 = b3.fma(x, c33);
            }
            int o0 = c0 + j, o1 = o0 + n, o2 = c2 + j, o3 = o2 + n;
            c00.intoArray(c, o0);
            c01.intoArray(c, o0 + L);
            c02.intoArray(c, o0 + 2 * L);
            c03.intoArray(c, o0 + 3 * L);
            c10.intoArray(c, o1);
            c11.intoArray(c, o1 + L);
            c12.intoArray(c, o1 + 2 * L);
            c13.intoArray(c, o1 + 3 * L);
            c20.intoArray(c, o2);
            c21.intoArray(c, o2 + L);
            c22.intoArray(c, o2 + 2 * L);
            c23.intoArray(c, o2 + 3 * L);
            c30.intoArray(c, o3);
            c31.intoArray(c, o3 + L);
            c32.intoArray(c, o3 + 2 * L);
            c33.intoArray(c, o3 + 3 * L);
        }
    }

    /**
     * C (m x n) = A (m x k) @ B (k x n), all row-major and dense; vectorised along n, two rows of
     * C and two vectors of columns at a time so each B load feeds two FMAs.
     */
    static void gemmRows(int m, int k, int n, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        if (SCALAR) {
            for (int r = 0; r < m; r++) {
                for (int j = 0; j < n; j++) {
                    float s = 0f;
                    for (int t = 0; t < k; t++) {
                        s += a[ao + r * k + t] * b[bo + t * n + j];
                    }
                    c[co + r * n + j] = s;
                }
            }
            return;
        }
        int r = 0;
        for (; r + 1 < m; r += 2) {
            int a0 = ao + r * k, a1 = a0 + k;
            int j = 0;
            // 2 rows x 4 vectors: eight independent FMA chains hide the FMA latency
            for (; j + 4 * L <= n; j += 4 * L) {
                FloatVector c00 = FloatVector.zero(SP), c01 = FloatVector.zero(SP);
                FloatVector c02 = FloatVector.zero(SP), c03 = FloatVector.zero(SP);
                FloatVector c10 = FloatVector.zero(SP), c11 = FloatVector.zero(SP);
                FloatVector c12 = FloatVector.zero(SP), c13 = FloatVector.zero(SP);
                for (int t = 0; t < k; t++) {
                    int bt = bo + t * n + j;
                    FloatVector b0 = FloatVector.fromArray(SP, b, bt);
                    FloatVector b1 = FloatVector.fromArray(SP, b, bt + L);
                    FloatVector b2 = FloatVector.fromArray(SP, b, bt + 2 * L);
                    FloatVector b3 = FloatVector.fromArray(SP, b, bt + 3 * L);
                    FloatVector x0 = FloatVector.broadcast(SP, a[a0 + t]);
                    FloatVector x1 = FloatVector.broadcast(SP, a[a1 + t]);
                    c00 = b0.fma(x0, c00);
                    c01 = b1.fma(x0, c01);
                    c02 = b2.fma(x0, c02);
                    c03 = b3.fma(x0, c03);
                    c10 = b0.fma(x1, c10);
                    c11 = b1.fma(x1, c11);
                    c12 = b2.fma(x1, c12);
                    c13 = b3.fma(x1, c13);
                }
                int c0o = co + r * n + j, c1o = c0o + n;
                c00.intoArray(c, c0o);
                c01.intoArray(c, c0o + L);
                c02.intoArray(c, c0o + 2 * L);
                c03.intoArray(c, c0o + 3 * L);
                c10.intoArray(c, c1o);
                c11.intoArray(c, c1o + L);
                c12.intoArray(c, c1o + 2 * L);
                c13.intoArray(c, c1o + 3 * L);
            }
            for (; j + 2 * L <= n; j += 2 * L) {
                FloatVector c00 = FloatVector.zero(SP), c01 = FloatVector.zero(SP);
                FloatVector c10 = FloatVector.zero(SP), c11 = FloatVector.zero(SP);
                for (int t = 0; t < k; t++) {
                    int bt = bo + t * n + j;
                    FloatVector b0 = FloatVector.fromArray(SP, b, bt);
                    FloatVector b1 = FloatVector.fromArray(SP, b, bt + L);
                    FloatVector x0 = FloatVector.broadcast(SP, a[a0 + t]);
                    FloatVector x1 = FloatVector.broadcast(SP, a[a1 + t]);
                    c00 = b0.fma(x0, c00);
                    c01 = b1.fma(x0, c01);
                    c10 = b0.fma(x1, c10);
                    c11 = b1.fma(x1, c11);
                }
                c00.intoArray(c, co + r * n + j);
                c01.intoArray(c, co + r * n + j + L);
                c10.intoArray(c, co + (r + 1) * n + j);
                c11.intoArray(c, co + (r + 1) * n + j + L);
            }
            for (; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.zero(SP), c1 = FloatVector.zero(SP);
                for (int t = 0; t < k; t++) {
                    FloatVector bv = FloatVector.fromArray(SP, b, bo + t * n + j, mk);
                    c0 = bv.fma(FloatVector.broadcast(SP, a[a0 + t]), c0);
                    c1 = bv.fma(FloatVector.broadcast(SP, a[a1 + t]), c1);
                }
                c0.intoArray(c, co + r * n + j, mk);
                c1.intoArray(c, co + (r + 1) * n + j, mk);
            }
        }
        for (; r < m; r++) {
            int a0 = ao + r * k;
            for (int j = 0; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.zero(SP);
                for (int t = 0; t < k; t++) {
                    c0 = FloatVector.fromArray(SP, b, bo + t * n + j, mk).fma(FloatVector.broadcast(SP, a[a0 + t]), c0);
                }
                c0.intoArray(c, co + r * n + j, mk);
            }
        }
    }

    /**
     * C (m x n) += A (m x k) @ B (k x n), vectorised along n (used with B = a transposed slice).
     * Two vectors of columns and even/odd k run as four independent FMA chains.
     */
    static void gemmRowsAdd(int m, int k, int n, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        int r = 0;
        if (!SCALAR) {
            // Split in two: as one method C1 ran out of registers compiling it, and it then never
            // reached C2 (Vector API code left unintrinsified).
            r = gemmRowsAddPairs(m, k, n, a, ao, b, bo, c, co);
            gemmRowsAddSingles(m, k, n, a, ao, b, bo, c, co, r);
            return;
        }
        for (; r < m; r++) {
            for (int j = 0; j < n; j++) {
                float s = c[co + r * n + j];
                for (int t = 0; t < k; t++) {
                    s += a[ao + r * k + t] * b[bo + t * n + j];
                }
                c[co + r * n + j] = s;
            }
        }
    }

    /**
     * Two 2-row {@link #gemmRowsAdd} products on the same B (k x n, n a multiple of 2L): rows
     * A[a0], A[a0 + k] into C[c0], C[c0 + n] and A[a1], A[a1 + k] into C[c1], C[c1 + n]. Per C
     * row the same even/odd-k chains as {@link #gemmRowsAddPairs}, so the same bits; each B
     * vector now feeds four rows.
     */
    static void gemmRowsAdd2x2(int k, int n, float[] a, int a0, int a1, float[] b, int bo, float[] c, int c0,
                               int c1) {
        int a0b = a0 + k, a1b = a1 + k;
        int c0b = c0 + n, c1b = c1 + n;
        for (int j = 0; j < n; j += 2 * L) {
            FloatVector p0 = FloatVector.fromArray(SP, c, c0 + j), p1 = FloatVector.fromArray(SP, c, c0 + j + L);
            FloatVector q0 = FloatVector.fromArray(SP, c, c0b + j), q1 = FloatVector.fromArray(SP, c, c0b + j + L);
            FloatVector r0 = FloatVector.fromArray(SP, c, c1 + j), r1 = FloatVector.fromArray(SP, c, c1 + j + L);
            FloatVector s0 = FloatVector.fromArray(SP, c, c1b + j), s1 = FloatVector.fromArray(SP, c, c1b + j + L);
            FloatVector po0 = FloatVector.zero(SP), po1 = FloatVector.zero(SP);
            FloatVector qo0 = FloatVector.zero(SP), qo1 = FloatVector.zero(SP);
            FloatVector ro0 = FloatVector.zero(SP), ro1 = FloatVector.zero(SP);
            FloatVector so0 = FloatVector.zero(SP), so1 = FloatVector.zero(SP);
            int t = 0;
            for (; t + 1 < k; t += 2) {
                int bt = bo + t * n + j;
                FloatVector b0 = FloatVector.fromArray(SP, b, bt), b1 = FloatVector.fromArray(SP, b, bt + L);
                FloatVector b2 = FloatVector.fromArray(SP, b, bt + n), b3 = FloatVector.fromArray(SP, b, bt + n + L);
                FloatVector x = FloatVector.broadcast(SP, a[a0 + t]);
                p0 = b0.fma(x, p0);
                p1 = b1.fma(x, p1);
                x = FloatVector.broadcast(SP, a[a0 + t + 1]);
                po0 = b2.fma(x, po0);
                po1 = b3.fma(x, po1);
                x = FloatVector.broadcast(SP, a[a0b + t]);
                q0 = b0.fma(x, q0);
                q1 = b1.fma(x, q1);
                x = FloatVector.broadcast(SP, a[a0b + t + 1]);
                qo0 = b2.fma(x, qo0);
                qo1 = b3.fma(x, qo1);
                x = FloatVector.broadcast(SP, a[a1 + t]);
                r0 = b0.fma(x, r0);
                r1 = b1.fma(x, r1);
                x = FloatVector.broadcast(SP, a[a1 + t + 1]);
                ro0 = b2.fma(x, ro0);
                ro1 = b3.fma(x, ro1);
                x = FloatVector.broadcast(SP, a[a1b + t]);
                s0 = b0.fma(x, s0);
                s1 = b1.fma(x, s1);
                x = FloatVector.broadcast(SP, a[a1b + t + 1]);
                so0 = b2.fma(x, so0);
                so1 = b3.fma(x, so1);
            }
            if (t < k) {
                int bt = bo + t * n + j;
                FloatVector b0 = FloatVector.fromArray(SP, b, bt), b1 = FloatVector.fromArray(SP, b, bt + L);
                FloatVector x = FloatVector.broadcast(SP, a[a0 + t]);
                p0 = b0.fma(x, p0);
                p1 = b1.fma(x, p1);
                x = FloatVector.broadcast(SP, a[a0b + t]);
                q0 = b0.fma(x, q0);
                q1 = b1.fma(x, q1);
                x = FloatVector.broadcast(SP, a[a1 + t]);
                r0 = b0.fma(x, r0);
                r1 = b1.fma(x, r1);
                x = FloatVector.broadcast(SP, a[a1b + t]);
                s0 = b0.fma(x, s0);
                s1 = b1.fma(x, s1);
            }
            p0.add(po0).intoArray(c, c0 + j);
            p1.add(po1).intoArray(c, c0 + j + L);
            q0.add(qo0).intoArray(c, c0b + j);
            q1.add(qo1).intoArray(c, c0b + j + L);
            r0.add(ro0).intoArray(c, c1 + j);
            r1.add(ro1).intoArray(c, c1 + j + L);
            s0.add(so0).intoArray(c, c1b + j);
            s1.add(so1).intoArray(c, c1b + j + L);
        }
    }

    /** Rows of C two at a time ({@link #gemmRowsAdd}); returns the first row not done. */
    private static int gemmRowsAddPairs(int m, int k, int n, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        int r = 0;
        // two rows x two vectors x even/odd k: eight independent FMA chains
        for (; r + 1 < m; r += 2) {
            int a0 = ao + r * k, a1 = a0 + k;
            int cr = co + r * n, cr1 = cr + n;
            int j = 0;
            for (; j + 2 * L <= n; j += 2 * L) {
                FloatVector e0 = FloatVector.fromArray(SP, c, cr + j), e1 = FloatVector.fromArray(SP, c, cr + j + L);
                FloatVector f0 = FloatVector.fromArray(SP, c, cr1 + j), f1 = FloatVector.fromArray(SP, c, cr1 + j + L);
                FloatVector o0 = FloatVector.zero(SP), o1 = FloatVector.zero(SP);
                FloatVector g0 = FloatVector.zero(SP), g1 = FloatVector.zero(SP);
                int t = 0;
                for (; t + 1 < k; t += 2) {
                    int bt = bo + t * n + j;
                    FloatVector b0 = FloatVector.fromArray(SP, b, bt), b1 = FloatVector.fromArray(SP, b, bt + L);
                    FloatVector b2 = FloatVector.fromArray(SP, b, bt + n), b3 = FloatVector.fromArray(SP, b, bt + n + L);
                    FloatVector x0 = FloatVector.broadcast(SP, a[a0 + t]);
                    FloatVector x1 = FloatVector.broadcast(SP, a[a0 + t + 1]);
                    FloatVector y0 = FloatVector.broadcast(SP, a[a1 + t]);
                    FloatVector y1 = FloatVector.broadcast(SP, a[a1 + t + 1]);
                    e0 = b0.fma(x0, e0);
                    e1 = b1.fma(x0, e1);
                    o0 = b2.fma(x1, o0);
                    o1 = b3.fma(x1, o1);
                    f0 = b0.fma(y0, f0);
                    f1 = b1.fma(y0, f1);
                    g0 = b2.fma(y1, g0);
                    g1 = b3.fma(y1, g1);
                }
                if (t < k) {
                    int bt = bo + t * n + j;
                    FloatVector b0 = FloatVector.fromArray(SP, b, bt), b1 = FloatVector.fromArray(SP, b, bt + L);
                    FloatVector x0 = FloatVector.broadcast(SP, a[a0 + t]);
                    FloatVector y0 = FloatVector.broadcast(SP, a[a1 + t]);
                    e0 = b0.fma(x0, e0);
                    e1 = b1.fma(x0, e1);
                    f0 = b0.fma(y0, f0);
                    f1 = b1.fma(y0, f1);
                }
                e0.add(o0).intoArray(c, cr + j);
                e1.add(o1).intoArray(c, cr + j + L);
                f0.add(g0).intoArray(c, cr1 + j);
                f1.add(g1).intoArray(c, cr1 + j + L);
            }
            for (; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.fromArray(SP, c, cr + j, mk);
                FloatVector c1 = FloatVector.fromArray(SP, c, cr1 + j, mk);
                for (int t = 0; t < k; t++) {
                    FloatVector bv = FloatVector.fromArray(SP, b, bo + t * n + j, mk);
                    c0 = bv.fma(FloatVector.broadcast(SP, a[a0 + t]), c0);
                    c1 = bv.fma(FloatVector.broadcast(SP, a[a1 + t]), c1);
                }
                c0.intoArray(c, cr + j, mk);
                c1.intoArray(c, cr1 + j, mk);
            }
        }
        return r;
    }

    /** Rows of C from {@code r} on, one at a time ({@link #gemmRowsAdd}). */
    private static void gemmRowsAddSingles(int m, int k, int n, float[] a, int ao, float[] b, int bo, float[] c, int co,
                                           int r) {
        for (; r < m; r++) {
            int a0 = ao + r * k;
            int cr = co + r * n;
            for (int j = 0; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.fromArray(SP, c, cr + j, mk);
                FloatVector c1 = FloatVector.zero(SP);
                int t = 0;
                for (; t + 1 < k; t += 2) {
                    c0 = FloatVector.fromArray(SP, b, bo + t * n + j, mk).fma(FloatVector.broadcast(SP, a[a0 + t]), c0);
                    c1 = FloatVector.fromArray(SP, b, bo + (t + 1) * n + j, mk).fma(FloatVector.broadcast(SP, a[a0 + t + 1]), c1);
                }
                if (t < k) {
                    c0 = FloatVector.fromArray(SP, b, bo + t * n + j, mk).fma(FloatVector.broadcast(SP, a[a0 + t]), c0);
                }
                c0.add(c1).intoArray(c, cr + j, mk);
            }
        }
    }


    /**
     * C (m x 4) = A (m x k) @ B (k x 4): the narrow last core at q = 4, R_d = 1 (D = 16 with
     * q = (2, 2, 4), D = 64 with q = (4, 4, 4)). Each B row is exactly one 128-bit vector, so no
     * transposed copy of the slice and no horizontal sums: four rows of C by even/odd k make
     * eight independent FMA chains, and each B load feeds four FMAs.
     */
    static void gemmRowsN4(int m, int k, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        int r = 0;
        if (VectorWidth.SIXTEEN && (k & 15) == 0) {
            for (; r + 3 < m; r += 4) {
                gemm4x4Lanes(k, a, ao + r * k, b, bo, c, co + 4 * r);
            }
        }
        for (; r + 3 < m; r += 4) {
            int a0 = ao + r * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
            FloatVector c0 = FloatVector.zero(F128), c1 = FloatVector.zero(F128);
            FloatVector c2 = FloatVector.zero(F128), c3 = FloatVector.zero(F128);
            FloatVector e0 = FloatVector.zero(F128), e1 = FloatVector.zero(F128);
            FloatVector e2 = FloatVector.zero(F128), e3 = FloatVector.zero(F128);
            int t = 0;
            for (; t + 1 < k; t += 2) {
                FloatVector b0 = FloatVector.fromArray(F128, b, bo + 4 * t);
                FloatVector b1 = FloatVector.fromArray(F128, b, bo + 4 * t + 4);
                c0 = b0.fma(FloatVector.broadcast(F128, a[a0 + t]), c0);
                c1 = b0.fma(FloatVector.broadcast(F128, a[a1 + t]), c1);
                c2 = b0.fma(FloatVector.broadcast(F128, a[a2 + t]), c2);
                c3 = b0.fma(FloatVector.broadcast(F128, a[a3 + t]), c3);
                e0 = b1.fma(FloatVector.broadcast(F128, a[a0 + t + 1]), e0);
                e1 = b1.fma(FloatVector.broadcast(F128, a[a1 + t + 1]), e1);
                e2 = b1.fma(FloatVector.broadcast(F128, a[a2 + t + 1]), e2);
                e3 = b1.fma(FloatVector.broadcast(F128, a[a3 + t + 1]), e3);
            }
            if (t < k) {
                FloatVector b0 = FloatVector.fromArray(F128, b, bo + 4 * t);
                c0 = b0.fma(FloatVector.broadcast(F128, a[a0 + t]), c0);
                c1 = b0.fma(FloatVector.broadcast(F128, a[a1 + t]), c1);
                c2 = b0.fma(FloatVector.broadcast(F128, a[a2 + t]), c2);
                c3 = b0.fma(FloatVector.broadcast(F128, a[a3 + t]), c3);
            }
            int cr = co + 4 * r;
            c0.add(e0).intoArray(c, cr);
            c1.add(e1).intoArray(c, cr + 4);
            c2.add(e2).intoArray(c, cr + 8);
            c3.add(e3).intoArray(c, cr + 12);
        }
        for (; r < m; r++) {
            int a0 = ao + r * k;
            FloatVector c0 = FloatVector.zero(F128), e0 = FloatVector.zero(F128);
            int t = 0;
            for (; t + 1 < k; t += 2) {
                c0 = FloatVector.fromArray(F128, b, bo + 4 * t).fma(FloatVector.broadcast(F128, a[a0 + t]), c0);
                e0 = FloatVector.fromArray(F128, b, bo + 4 * t + 4).fma(FloatVector.broadcast(F128, a[a0 + t + 1]), e0);
            }
            if (t < k) {
                c0 = FloatVector.fromArray(F128, b, bo + 4 * t).fma(FloatVector.broadcast(F128, a[a0 + t]), c0);
            }
            c0.add(e0).intoArray(c, co + 4 * r);
        }
    }

    /**
     * C (4 x 4, 16 floats) = A (4 x k) @ B (k x 4) with full 16-lane vectors, k a multiple of 16:
     * four B rows are one vector, lanes (t mod 4, column). Each A vector is spread by a constant
     * rearrange so lane (t, c) holds A[r, t]; one FMA then covers four t and four columns, where
     * the 128-bit kernel needs four FMAs and four scalar broadcasts (JFR: that kernel was a sixth
     * of the TT forward at D16). At the end the four t-lane groups are added (two lane-swaps)
     * and the four rows blended into one vector, C's 16 row-major floats. Two accumulators per
     * row keep eight independent FMA chains. Fixed order of additions: the same in every tier.
     */
    static void gemm4x4Lanes(int k, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        FloatVector c0 = FloatVector.zero(SP), c1 = FloatVector.zero(SP), c2 = FloatVector.zero(SP);
        FloatVector c3 = FloatVector.zero(SP), d0 = FloatVector.zero(SP), d1 = FloatVector.zero(SP);
        FloatVector d2 = FloatVector.zero(SP), d3 = FloatVector.zero(SP);
        for (int t = 0; t < k; t += 16) {
            FloatVector a0 = FloatVector.fromArray(SP, a, ao + t);
            FloatVector a1 = FloatVector.fromArray(SP, a, ao + k + t);
            FloatVector a2 = FloatVector.fromArray(SP, a, ao + 2 * k + t);
            FloatVector a3 = FloatVector.fromArray(SP, a, ao + 3 * k + t);
            int bt = bo + 4 * t;
            FloatVector b0 = FloatVector.fromArray(SP, b, bt);
            FloatVector b1 = FloatVector.fromArray(SP, b, bt + 16);
            FloatVector b2 = FloatVector.fromArray(SP, b, bt + 32);
            FloatVector b3 = FloatVector.fromArray(SP, b, bt + 48);
            c0 = b0.fma(a0.rearrange(E0), c0);
            c1 = b0.fma(a1.rearrange(E0), c1);
            c2 = b0.fma(a2.rearrange(E0), c2);
            c3 = b0.fma(a3.rearrange(E0), c3);
            d0 = b1.fma(a0.rearrange(E1), d0);
            d1 = b1.fma(a1.rearrange(E1), d1);
            d2 = b1.fma(a2.rearrange(E1), d2);
            d3 = b1.fma(a3.rearrange(E1), d3);
            c0 = b2.fma(a0.rearrange(E2), c0);
            c1 = b2.fma(a1.rearrange(E2), c1);
            c2 = b2.fma(a2.rearrange(E2), c2);
            c3 = b2.fma(a3.rearrange(E2), c3);
            d0 = b3.fma(a0.rearrange(E3), d0);
            d1 = b3.fma(a1.rearrange(E3), d1);
            d2 = b3.fma(a2.rearrange(E3), d2);
            d3 = b3.fma(a3.rearrange(E3), d3);
        }
        c0 = c0.add(d0);
        c1 = c1.add(d1);
        c2 = c2.add(d2);
        c3 = c3.add(d3);
        c0 = c0.add(c0.rearrange(S8));
        c1 = c1.add(c1.rearrange(S8));
        c2 = c2.add(c2.rearrange(S8));
        c3 = c3.add(c3.rearrange(S8));
        c0 = c0.add(c0.rearrange(S4));
        c1 = c1.add(c1.rearrange(S4));
        c2 = c2.add(c2.rearrange(S4));
        c3 = c3.add(c3.rearrange(S4));
        c0.blend(c1, Q1).blend(c2, Q2).blend(c3, Q3).intoArray(c, co);
    }

    /**
     * out (k x 4, row-major) = 0 + GT^T for GT (4 x k) at g[go], k a multiple of 16, 16 lanes:
     * the last level's slice gradient, summed transposed, turned back for the optimiser step.
     * Output vector s of a 16-column block holds rows 4s..4s+3; lane 4i + j comes from GT row j,
     * column 4s + i, which spread(s) moves there in every row vector, and a blend per row picks.
     * The added zero turns -0 into +0, as the scalar "0f + x" it replaces did (same bits). (The
     * scalar loop, 128 strided loads and stores per slice, was the larger part of a q = 4 slice's
     * update at batch 128, where most slices hold one lookup.)
     */
    static void untranspose4(int k, float[] g, int go, float[] out) {
        FloatVector zero = FloatVector.zero(SP);
        for (int a = 0; a < k; a += 16) {
            FloatVector v0 = FloatVector.fromArray(SP, g, go + a), v1 = FloatVector.fromArray(SP, g, go + k + a);
            FloatVector v2 = FloatVector.fromArray(SP, g, go + 2 * k + a);
            FloatVector v3 = FloatVector.fromArray(SP, g, go + 3 * k + a);
            int o = 4 * a;
            v0.rearrange(E0).blend(v1.rearrange(E0), J1).blend(v2.rearrange(E0), J2).blend(v3.rearrange(E0), J3)
                    .add(zero).intoArray(out, o);
            v0.rearrange(E1).blend(v1.rearrange(E1), J1).blend(v2.rearrange(E1), J2).blend(v3.rearrange(E1), J3)
                    .add(zero).intoArray(out, o + 16);
            v0.rearrange(E2).blend(v1.rearrange(E2), J1).blend(v2.rearrange(E2), J2).blend(v3.rearrange(E2), J3)
                    .add(zero).intoArray(out, o + 32);
            v0.rearrange(E3).blend(v1.rearrange(E3), J1).blend(v2.rearrange(E3), J2).blend(v3.rearrange(E3), J3)
                    .add(zero).intoArray(out, o + 48);
        }
    }

    /** As {@link #gemmRowsN4} for 8 columns (q = 8, R_d = 1) with 256-bit vectors. */
    static void gemmRowsN8(int m, int k, float[] a, int ao, float[] b, int bo, float[] c, int co) {
        int r = 0;
        for (; r + 3 < m; r += 4) {
            int a0 = ao + r * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
            FloatVector c0 = FloatVector.zero(F256), c1 = FloatVector.zero(F256);
            FloatVector c2 = FloatVector.zero(F256), c3 = FloatVector.zero(F256);
            FloatVector e0 = FloatVector.zero(F256), e1 = FloatVector.zero(F256);
            FloatVector e2 = FloatVector.zero(F256), e3 = FloatVector.zero(F256);
            int t = 0;
            for (; t + 1 < k; t += 2) {
                FloatVector b0 = FloatVector.fromArray(F256, b, bo + 8 * t);
                FloatVector b1 = FloatVector.fromArray(F256, b, bo + 8 * t + 8);
                c0 = b0.fma(FloatVector.broadcast(F256, a[a0 + t]), c0);
                c1 = b0.fma(FloatVector.broadcast(F256, a[a1 + t]), c1);
                c2 = b0.fma(FloatVector.broadcast(F256, a[a2 + t]), c2);
                c3 = b0.fma(FloatVector.broadcast(F256, a[a3 + t]), c3);
                e0 = b1.fma(FloatVector.broadcast(F256, a[a0 + t + 1]), e0);
                e1 = b1.fma(FloatVector.broadcast(F256, a[a1 + t + 1]), e1);
                e2 = b1.fma(FloatVector.broadcast(F256, a[a2 + t + 1]), e2);
                e3 = b1.fma(FloatVector.broadcast(F256, a[a3 + t + 1]), e3);
            }
            if (t < k) {
                FloatVector b0 = FloatVector.fromArray(F256, b, bo + 8 * t);
                c0 = b0.fma(FloatVector.broadcast(F256, a[a0 + t]), c0);
                c1 = b0.fma(FloatVector.broadcast(F256, a[a1 + t]), c1);
                c2 = b0.fma(FloatVector.broadcast(F256, a[a2 + t]), c2);
                c3 = b0.fma(FloatVector.broadcast(F256, a[a3 + t]), c3);
            }
            int cr = co + 8 * r;
            c0.add(e0).intoArray(c, cr);
            c1.add(e1).intoArray(c, cr + 8);
            c2.add(e2).intoArray(c, cr + 16);
            c3.add(e3).intoArray(c, cr + 24);
        }
        for (; r < m; r++) {
            int a0 = ao + r * k;
            FloatVector c0 = FloatVector.zero(F256), e0 = FloatVector.zero(F256);
            int t = 0;
            for (; t + 1 < k; t += 2) {
                c0 = FloatVector.fromArray(F256, b, bo + 8 * t).fma(FloatVector.broadcast(F256, a[a0 + t]), c0);
                e0 = FloatVector.fromArray(F256, b, bo + 8 * t + 8).fma(FloatVector.broadcast(F256, a[a0 + t + 1]), e0);
            }
            if (t < k) {
                c0 = FloatVector.fromArray(F256, b, bo + 8 * t).fma(FloatVector.broadcast(F256, a[a0 + t]), c0);
            }
            c0.add(e0).intoArray(c, co + 8 * r);
        }
    }

}
