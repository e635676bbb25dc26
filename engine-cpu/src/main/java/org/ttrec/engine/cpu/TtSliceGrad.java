package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Core-slice gradients (docs/tt-layout.md, Backward): the gradient of slice (k, i_k) is the sum over the
 * groups that used it of P_{k-1}^T @ dP_k. The general kernels sum a slice's groups with the
 * accumulators held in registers across every group, so the slice gradient is loaded and stored
 * once per slice; the transposed forms serve narrow slices (few columns, vectorised along the
 * rank); the q = 4 kernels serve the last level one row at a time, and {@link #lastBack4} does a
 * row's last-level backward (its dP and its slice-gradient term) in one pass.
 *
 * <p>As in {@link TtMicroKernels}: each inner loop stays in one method, blocks of FMAs repeat on
 * purpose, and some kernels are split in two for C1's register allocator.
 */
final class TtSliceGrad {
    private static final VectorSpecies<Float> SP = VectorWidth.FLOAT;
    private static final int L = VectorWidth.LANES;
    private static final boolean SCALAR = VectorWidth.SCALAR;

    private TtSliceGrad() {
    }

    /**
     * One slice's gradient over all its groups: G (k x n) += sum_e P_e^T @ D_e, P_e (m x k) at
     * p[po[e]], D_e (m x n) at dd[dOffs[e]]. Vectorised along n with four accumulators held in
     * registers across every group, so G is loaded and stored once per slice.
     */
    static void sliceGrad(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt, float[] g, int go) {
        if (SCALAR) {
            for (int e = 0; e < cnt; e++) {
                atbAdd(m, k, n, p, po[e], dd, dOffs[e], g, go);
            }
            return;
        }
        // two methods, not one: as a single 1.4 KB method C1 gave up on it ("out of virtual
        // registers"), which left it at tier 2 (no intrinsics, vectors boxed, ~50x slower)
        int a = n % (4 * L) == 0 ? sliceGradQuads(m, k, n, p, po, dd, dOffs, cnt, g, go) : 0;
        a = sliceGradPairs(a, m, k, n, p, po, dd, dOffs, cnt, g, go);
        sliceGradSingles(a, m, k, n, p, po, dd, dOffs, cnt, g, go);
    }

    /**
     * Slice rows four at a time when n is a multiple of 4L (e.g. the middle core at q R = 64):
     * four rows x four vectors make sixteen accumulators, so each loaded D vector feeds four
     * FMAs instead of two. Returns the first row left.
     */
    static int sliceGradQuads(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt, float[] g,
                              int go) {
        int a = 0;
        for (; a + 3 < k; a += 4) {
            for (int j = 0; j < n; j += 4 * L) {
                int g0 = go + a * n + j, g1 = g0 + n, g2 = g1 + n, g3 = g2 + n;
                FloatVector c00 = FloatVector.fromArray(SP, g, g0), c01 = FloatVector.fromArray(SP, g, g0 + L);
                FloatVector c02 = FloatVector.fromArray(SP, g, g0 + 2 * L), c03 = FloatVector.fromArray(SP, g, g0 + 3 * L);
                FloatVector c10 = FloatVector.fromArray(SP, g, g1), c11 = FloatVector.fromArray(SP, g, g1 + L);
                FloatVector c12 = FloatVector.fromArray(SP, g, g1 + 2 * L), c13 = FloatVector.fromArray(SP, g, g1 + 3 * L);
                FloatVector c20 = FloatVector.fromArray(SP, g, g2), c21 = FloatVector.fromArray(SP, g, g2 + L);
                FloatVector c22 = FloatVector.fromArray(SP, g, g2 + 2 * L), c23 = FloatVector.fromArray(SP, g, g2 + 3 * L);
                FloatVector c30 = FloatVector.fromArray(SP, g, g3), c31 = FloatVector.fromArray(SP, g, g3 + L);
                FloatVector c32 = FloatVector.fromArray(SP, g, g3 + 2 * L), c33 = FloatVector.fromArray(SP, g, g3 + 3 * L);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        int pr = pe + r * k, dr = de + r * n;
                        FloatVector v0 = FloatVector.fromArray(SP, dd, dr);
                        FloatVector v1 = FloatVector.fromArray(SP, dd, dr + L);
                        FloatVector v2 = FloatVector.fromArray(SP, dd, dr + 2 * L);
                        FloatVector v3 = FloatVector.fromArray(SP, dd, dr + 3 * L);
                        FloatVector x = FloatVector.broadcast(SP, p[pr]);
                        c00 = v0.fma(x, c00);
                        c01 = v1.fma(x, c01);
                        c02 = v2.fma(x, c02);
                        c03 = v3.fma(x, c03);
                        x = FloatVector.broadcast(SP, p[pr + 1]);
                        c10 = v0.fma(x, c10);
                        c11 = v1.fma(x, c11);
                        c12 = v2.fma(x, c12);
                        c13 = v3.fma(x, c13);
                        x = FloatVector.broadcast(SP, p[pr + 2]);
                        c20 = v0.fma(x, c20);
                        c21 = v1.fma(x, c21);
                        c22 = v2.fma(x, c22);
                        c23 = v3.fma(x, c23);
                        x = FloatVector.broadcast(SP, p[pr + 3]);
                        c30 = v0.fma(x, c30);
                        c31 = v1.fma(x, c31);
                        c32 = v2.fma(x, c32);
                        c33 = v3.fma(x, c33);
                    }
                }
                c00.intoArray(g, g0);
                c01.intoArray(g, g0 + L);
                c02.intoArray(g, g0 + 2 * L);
                c03.intoArray(g, g0 + 3 * L);
                c10.intoArray(g, g1);
                c11.intoArray(g, g1 + L);
                c12.intoArray(g, g1 + 2 * L);
                c13.intoArray(g, g1 + 3 * L);
                c20.intoArray(g, g2);
                c21.intoArray(g, g2 + L);
                c22.intoArray(g, g2 + 2 * L);
                c23.intoArray(g, g2 + 3 * L);
                c30.intoArray(g, g3);
                c31.intoArray(g, g3 + L);
                c32.intoArray(g, g3 + 2 * L);
                c33.intoArray(g, g3 + 3 * L);
            }
        }
        return a;
    }

    /**
     * {@link #sliceGradQuads} on a zero gradient followed by the SGD step, W += negLr * G, without
     * storing G: for k a multiple of 4 and n of 4L. Each weight gets exactly the operations of
     * {@link TtMicroKernels#axpy} on the stored gradient (the accumulators start at +0 as the zeroed scratch
     * did), so the bits are those of the unfused path. At 128 lookups most middle-core slices are
     * touched once, and zeroing, storing and reloading their gradient cost as much as computing it.
     * A copy of sliceGradQuads on purpose: one body with a mode flag and small start/finish
     * helpers made the reduce phase 1.6x slower (the helpers were compiled apart, not inlined).
     */
    static void sliceGradQuadsSgd(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt,
                                  float[] w, int wo, float negLr) {
        FloatVector s = FloatVector.broadcast(SP, negLr);
        for (int a = 0; a + 3 < k; a += 4) {
            for (int j = 0; j < n; j += 4 * L) {
                int g0 = wo + a * n + j, g1 = g0 + n, g2 = g1 + n, g3 = g2 + n;
                FloatVector c00 = FloatVector.zero(SP), c01 = FloatVector.zero(SP);
                FloatVector c02 = FloatVector.zero(SP), c03 = FloatVector.zero(SP);
                FloatVector c10 = FloatVector.zero(SP), c11 = FloatVector.zero(SP);
                FloatVector c12 = FloatVector.zero(SP), c13 = FloatVector.zero(SP);
                FloatVector c20 = FloatVector.zero(SP), c21 = FloatVector.zero(SP);
                FloatVector c22 = FloatVector.zero(SP), c23 = FloatVector.zero(SP);
                FloatVector c30 = FloatVector.zero(SP), c31 = FloatVector.zero(SP);
                FloatVector c32 = FloatVector.zero(SP), c33 = FloatVector.zero(SP);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        int pr = pe + r * k, dr = de + r * n;
                        FloatVector v0 = FloatVector.fromArray(SP, dd, dr);
                        FloatVector v1 = FloatVector.fromArray(SP, dd, dr + L);
                        FloatVector v2 = FloatVector.fromArray(SP, dd, dr + 2 * L);
                        FloatVector v3 = FloatVector.fromArray(SP, dd, dr + 3 * L);
                        FloatVector x = FloatVector.broadcast(SP, p[pr]);
                        c00 = v0.fma(x, c00);
                        c01 = v1.fma(x, c01);
                        c02 = v2.fma(x, c02);
                        c03 = v3.fma(x, c03);
                        x = FloatVector.broadcast(SP, p[pr + 1]);
                        c10 = v0.fma(x, c10);
                        c11 = v1.fma(x, c11);
                        c12 = v2.fma(x, c12);
                        c13 = v3.fma(x, c13);
                        x = FloatVector.broadcast(SP, p[pr + 2]);
                        c20 = v0.fma(x, c20);
                        c21 = v1.fma(x, c21);
                        c22 = v2.fma(x, c22);
                        c23 = v3.fma(x, c23);
                        x = FloatVector.broadcast(SP, p[pr + 3]);
                        c30 = v0.fma(x, c30);
                        c31 = v1.fma(x, c31);
                        c32 = v2.fma(x, c32);
                        c33 = v3.fma(x, c33);
                    }
                }
                c00.fma(s, FloatVector.fromArray(SP, w, g0)).intoArray(w, g0);
                c01.fma(s, FloatVector.fromArray(SP, w, g0 + L)).intoArray(w, g0 + L);
                c02.fma(s, FloatVector.fromArray(SP, w, g0 + 2 * L)).intoArray(w, g0 + 2 * L);
                c03.fma(s, FloatVector.fromArray(SP, w, g0 + 3 * L)).intoArray(w, g0 + 3 * L);
                c10.fma(s, FloatVector.fromArray(SP, w, g1)).intoArray(w, g1);
                c11.fma(s, FloatVector.fromArray(SP, w, g1 + L)).intoArray(w, g1 + L);
                c12.fma(s, FloatVector.fromArray(SP, w, g1 + 2 * L)).intoArray(w, g1 + 2 * L);
                c13.fma(s, FloatVector.fromArray(SP, w, g1 + 3 * L)).intoArray(w, g1 + 3 * L);
                c20.fma(s, FloatVector.fromArray(SP, w, g2)).intoArray(w, g2);
                c21.fma(s, FloatVector.fromArray(SP, w, g2 + L)).intoArray(w, g2 + L);
                c22.fma(s, FloatVector.fromArray(SP, w, g2 + 2 * L)).intoArray(w, g2 + 2 * L);
                c23.fma(s, FloatVector.fromArray(SP, w, g2 + 3 * L)).intoArray(w, g2 + 3 * L);
                c30.fma(s, FloatVector.fromArray(SP, w, g3)).intoArray(w, g3);
                c31.fma(s, FloatVector.fromArray(SP, w, g3 + L)).intoArray(w, g3 + L);
                c32.fma(s, FloatVector.fromArray(SP, w, g3 + 2 * L)).intoArray(w, g3 + 2 * L);
                c33.fma(s, FloatVector.fromArray(SP, w, g3 + 3 * L)).intoArray(w, g3 + 3 * L);
            }
        }
    }

    /** Slice rows in pairs (while n >= 4L); returns the first row left. */
    static int sliceGradPairs(int a0, int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt,
                              float[] g, int go) {
        int a = a0;
        // two slice rows x four vectors: eight independent FMA chains per group row
        for (; a + 1 < k && n >= 4 * L; a += 2) {
            int ga = go + a * n, gb = ga + n;
            int j = 0;
            for (; j + 4 * L <= n; j += 4 * L) {
                FloatVector c0 = FloatVector.fromArray(SP, g, ga + j);
                FloatVector c1 = FloatVector.fromArray(SP, g, ga + j + L);
                FloatVector c2 = FloatVector.fromArray(SP, g, ga + j + 2 * L);
                FloatVector c3 = FloatVector.fromArray(SP, g, ga + j + 3 * L);
                FloatVector d0 = FloatVector.fromArray(SP, g, gb + j);
                FloatVector d1 = FloatVector.fromArray(SP, g, gb + j + L);
                FloatVector d2 = FloatVector.fromArray(SP, g, gb + j + 2 * L);
                FloatVector d3 = FloatVector.fromArray(SP, g, gb + j + 3 * L);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector x = FloatVector.broadcast(SP, p[pe + r * k]);
                        FloatVector y = FloatVector.broadcast(SP, p[pe + r * k + 1]);
                        int dr = de + r * n;
                        FloatVector v0 = FloatVector.fromArray(SP, dd, dr);
                        FloatVector v1 = FloatVector.fromArray(SP, dd, dr + L);
                        FloatVector v2 = FloatVector.fromArray(SP, dd, dr + 2 * L);
                        FloatVector v3 = FloatVector.fromArray(SP, dd, dr + 3 * L);
                        c0 = v0.fma(x, c0);
                        c1 = v1.fma(x, c1);
                        c2 = v2.fma(x, c2);
                        c3 = v3.fma(x, c3);
                        d0 = v0.fma(y, d0);
                        d1 = v1.fma(y, d1);
                        d2 = v2.fma(y, d2);
                        d3 = v3.fma(y, d3);
                    }
                }
                c0.intoArray(g, ga + j);
                c1.intoArray(g, ga + j + L);
                c2.intoArray(g, ga + j + 2 * L);
                c3.intoArray(g, ga + j + 3 * L);
                d0.intoArray(g, gb + j);
                d1.intoArray(g, gb + j + L);
                d2.intoArray(g, gb + j + 2 * L);
                d3.intoArray(g, gb + j + 3 * L);
            }
            for (; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.fromArray(SP, g, ga + j, mk);
                FloatVector d0 = FloatVector.fromArray(SP, g, gb + j, mk);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector v = FloatVector.fromArray(SP, dd, de + r * n, mk);
                        c0 = v.fma(FloatVector.broadcast(SP, p[pe + r * k]), c0);
                        d0 = v.fma(FloatVector.broadcast(SP, p[pe + r * k + 1]), d0);
                    }
                }
                c0.intoArray(g, ga + j, mk);
                d0.intoArray(g, gb + j, mk);
            }
        }
        return a;
    }

    /** Slice rows [a0, k) one at a time. */
    static void sliceGradSingles(int a0, int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt,
                                 float[] g, int go) {
        for (int a = a0; a < k; a++) {
            int ga = go + a * n;
            int j = 0;
            for (; j + 4 * L <= n; j += 4 * L) {
                FloatVector c0 = FloatVector.fromArray(SP, g, ga + j);
                FloatVector c1 = FloatVector.fromArray(SP, g, ga + j + L);
                FloatVector c2 = FloatVector.fromArray(SP, g, ga + j + 2 * L);
                FloatVector c3 = FloatVector.fromArray(SP, g, ga + j + 3 * L);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector x = FloatVector.broadcast(SP, p[pe + r * k]);
                        int dr = de + r * n;
                        c0 = FloatVector.fromArray(SP, dd, dr).fma(x, c0);
                        c1 = FloatVector.fromArray(SP, dd, dr + L).fma(x, c1);
                        c2 = FloatVector.fromArray(SP, dd, dr + 2 * L).fma(x, c2);
                        c3 = FloatVector.fromArray(SP, dd, dr + 3 * L).fma(x, c3);
                    }
                }
                c0.intoArray(g, ga + j);
                c1.intoArray(g, ga + j + L);
                c2.intoArray(g, ga + j + 2 * L);
                c3.intoArray(g, ga + j + 3 * L);
            }
            for (; j < n; j += L) {
                VectorMask<Float> mk = SP.indexInRange(j, n);
                FloatVector c0 = FloatVector.fromArray(SP, g, ga + j, mk);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        c0 = FloatVector.fromArray(SP, dd, de + r * n, mk).fma(FloatVector.broadcast(SP, p[pe + r * k]), c0);
                    }
                }
                c0.intoArray(g, ga + j, mk);
            }
        }
    }

    /**
     * Transposed form for narrow slices: GT (n x k) += sum_e D_e^T @ P_e, vectorised along k with
     * two accumulators held across every group.
     */
    static void sliceGradT(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt, float[] gt,
                           int go) {
        if (SCALAR) {
            for (int e = 0; e < cnt; e++) {
                atbT(m, k, n, p, po[e], dd, dOffs[e], gt, go);
            }
            return;
        }
        // Two methods, not one: as a single method C1 ran out of registers compiling it, and the
        // method then never reached C2, leaving the backward's reduce phase about 7x slower.
        int j = n >= 2 && k >= 2 * L ? sliceGradTPairs(m, k, n, p, po, dd, dOffs, cnt, gt, go) : 0;
        sliceGradTSingles(m, k, n, p, po, dd, dOffs, cnt, gt, go, j);
    }

    /** Columns of GT two at a time; returns the first column not done. */
    private static int sliceGradTPairs(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt,
                                       float[] gt, int go) {
        int j = 0;
        // two output columns x two vectors: four independent chains, each P load used twice
        for (; j + 1 < n && k >= 2 * L; j += 2) {
            int gj = go + j * k, gj1 = gj + k;
            int a = 0;
            for (; a + 2 * L <= k; a += 2 * L) {
                FloatVector c0 = FloatVector.fromArray(SP, gt, gj + a);
                FloatVector c1 = FloatVector.fromArray(SP, gt, gj + a + L);
                FloatVector e0 = FloatVector.fromArray(SP, gt, gj1 + a);
                FloatVector e1 = FloatVector.fromArray(SP, gt, gj1 + a + L);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector x = FloatVector.broadcast(SP, dd[de + r * n]);
                        FloatVector y = FloatVector.broadcast(SP, dd[de + r * n + 1]);
                        FloatVector p0 = FloatVector.fromArray(SP, p, pe + r * k);
                        FloatVector p1 = FloatVector.fromArray(SP, p, pe + r * k + L);
                        c0 = p0.fma(x, c0);
                        c1 = p1.fma(x, c1);
                        e0 = p0.fma(y, e0);
                        e1 = p1.fma(y, e1);
                    }
                }
                c0.intoArray(gt, gj + a);
                c1.intoArray(gt, gj + a + L);
                e0.intoArray(gt, gj1 + a);
                e1.intoArray(gt, gj1 + a + L);
            }
            for (; a < k; a += L) {
                VectorMask<Float> mk = SP.indexInRange(a, k);
                FloatVector c0 = FloatVector.fromArray(SP, gt, gj + a, mk);
                FloatVector e0 = FloatVector.fromArray(SP, gt, gj1 + a, mk);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector pv0 = FloatVector.fromArray(SP, p, pe + r * k, mk);
                        c0 = pv0.fma(FloatVector.broadcast(SP, dd[de + r * n]), c0);
                        e0 = pv0.fma(FloatVector.broadcast(SP, dd[de + r * n + 1]), e0);
                    }
                }
                c0.intoArray(gt, gj + a, mk);
                e0.intoArray(gt, gj1 + a, mk);
            }
        }
        return j;
    }

    /** Columns of GT from {@code j} on, one at a time. */
    private static void sliceGradTSingles(int m, int k, int n, float[] p, int[] po, float[] dd, int[] dOffs, int cnt,
                                          float[] gt, int go, int j) {
        for (; j < n; j++) {
            int gj = go + j * k;
            int a = 0;
            for (; a + 2 * L <= k; a += 2 * L) {
                FloatVector c0 = FloatVector.fromArray(SP, gt, gj + a);
                FloatVector c1 = FloatVector.fromArray(SP, gt, gj + a + L);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        FloatVector x = FloatVector.broadcast(SP, dd[de + r * n]);
                        c0 = FloatVector.fromArray(SP, p, pe + r * k).fma(x, c0);
                        c1 = FloatVector.fromArray(SP, p, pe + r * k + L).fma(x, c1);
                    }
                }
                c0.intoArray(gt, gj + a);
                c1.intoArray(gt, gj + a + L);
            }
            for (; a < k; a += L) {
                VectorMask<Float> mk = SP.indexInRange(a, k);
                FloatVector c0 = FloatVector.fromArray(SP, gt, gj + a, mk);
                for (int e = 0; e < cnt; e++) {
                    int pe = po[e] + a, de = dOffs[e] + j;
                    for (int r = 0; r < m; r++) {
                        c0 = FloatVector.fromArray(SP, p, pe + r * k, mk).fma(FloatVector.broadcast(SP, dd[de + r * n]), c0);
                    }
                }
                c0.intoArray(gt, gj + a, mk);
            }
        }
    }

    /** G (k x n) += P^T @ D with P m x k and D m x n (vectorised along n). */
    static void atbAdd(int m, int k, int n, float[] p, int po, float[] dd, int dOff, float[] g, int go) {
        for (int a = 0; a < k; a++) {
            int j = 0;
            if (!SCALAR) {
                for (; j < n; j += L) {
                    VectorMask<Float> mk = SP.indexInRange(j, n);
                    FloatVector acc = FloatVector.fromArray(SP, g, go + a * n + j, mk);
                    for (int r = 0; r < m; r++) {
                        acc = FloatVector.fromArray(SP, dd, dOff + r * n + j, mk)
                                .fma(FloatVector.broadcast(SP, p[po + r * k + a]), acc);
                    }
                    acc.intoArray(g, go + a * n + j, mk);
                }
                continue;
            }
            for (; j < n; j++) {
                float s = g[go + a * n + j];
                for (int r = 0; r < m; r++) {
                    s += p[po + r * k + a] * dd[dOff + r * n + j];
                }
                g[go + a * n + j] = s;
            }
        }
    }

    /**
     * GT (4 x k, at gt[go]) += D^T @ P for one row, P m x k and D m x 4, k a multiple of 2L: the
     * last level's slice gradient at q_d = 4 (D16 2x2x4, D64 4x4x4). Eight accumulators, each P
     * vector loaded once; sliceGradT with its general loops took twice as long per row. Each
     * element sees the same fused multiply-adds in the same order as in sliceGradT, so the
     * bits are the same.
     */
    static void rowGradT4(int m, int k, float[] p, int po, float[] dd, int dOff, float[] gt, int go) {
        for (int a = 0; a < k; a += 2 * L) {
            int g0 = go + a, g1 = g0 + k, g2 = g1 + k, g3 = g2 + k;
            FloatVector c0 = FloatVector.fromArray(SP, gt, g0), e0 = FloatVector.fromArray(SP, gt, g0 + L);
            FloatVector c1 = FloatVector.fromArray(SP, gt, g1), e1 = FloatVector.fromArray(SP, gt, g1 + L);
            FloatVector c2 = FloatVector.fromArray(SP, gt, g2), e2 = FloatVector.fromArray(SP, gt, g2 + L);
            FloatVector c3 = FloatVector.fromArray(SP, gt, g3), e3 = FloatVector.fromArray(SP, gt, g3 + L);
            for (int r = 0; r < m; r++) {
                int pr = po + r * k + a, dr = dOff + 4 * r;
                FloatVector pLo = FloatVector.fromArray(SP, p, pr), pHi = FloatVector.fromArray(SP, p, pr + L);
                FloatVector x = FloatVector.broadcast(SP, dd[dr]);
                c0 = pLo.fma(x, c0);
                e0 = pHi.fma(x, e0);
                x = FloatVector.broadcast(SP, dd[dr + 1]);
                c1 = pLo.fma(x, c1);
                e1 = pHi.fma(x, e1);
                x = FloatVector.broadcast(SP, dd[dr + 2]);
                c2 = pLo.fma(x, c2);
                e2 = pHi.fma(x, e2);
                x = FloatVector.broadcast(SP, dd[dr + 3]);
                c3 = pLo.fma(x, c3);
                e3 = pHi.fma(x, e3);
            }
            c0.intoArray(gt, g0);
            e0.intoArray(gt, g0 + L);
            c1.intoArray(gt, g1);
            e1.intoArray(gt, g1 + L);
            c2.intoArray(gt, g2);
            e2.intoArray(gt, g2 + L);
            c3.intoArray(gt, g3);
            e3.intoArray(gt, g3 + L);
        }
    }

    /**
     * The last level's backward for one row at q_{d-1} = 4, both products in one pass:
     * dP (m x k, at dp[dpo]) += D @ GT (D the row gradient, m x 4, at dd[dOff]; GT the slice
     * transposed, 4 x k, at gtSlice[bt]), and the slice-gradient term GT_grad (4 x k, at gt[go])
     * += D^T @ P (P = P_{d-2}, m x k, at p[po]). Each D entry is broadcast once for both. The FMAs
     * are those of gemmRowsAddPairs (even and odd t in separate accumulators, summed at the end)
     * and of rowGradT4, in the same order, so the bits are the same as the two calls. With fresh,
     * dP holds nothing yet (its group opened at this row): it is written, not read, which gives
     * the bits of adding to the zeros it would otherwise be filled with. m even, k a multiple of 2L.
     * rowGradT4's accumulator block is repeated here rather than called, on purpose: the
     * broadcasts are shared, and vectors stay in registers only within one straight-line body.
     * rowGradT4 still serves the rows this kernel cannot take (several partitions, Q_{d-1} odd).
     */
    static void lastBack4(int m, int k, float[] p, int po, float[] dd, int dOff, float[] gtSlice, int bt,
                          float[] dp, int dpo, boolean fresh, float[] gt, int go) {
        for (int a = 0; a < k; a += 2 * L) {
            int g0 = go + a, g1 = g0 + k, g2 = g1 + k, g3 = g2 + k;
            FloatVector c0 = FloatVector.fromArray(SP, gt, g0), e0 = FloatVector.fromArray(SP, gt, g0 + L);
            FloatVector c1 = FloatVector.fromArray(SP, gt, g1), e1 = FloatVector.fromArray(SP, gt, g1 + L);
            FloatVector c2 = FloatVector.fromArray(SP, gt, g2), e2 = FloatVector.fromArray(SP, gt, g2 + L);
            FloatVector c3 = FloatVector.fromArray(SP, gt, g3), e3 = FloatVector.fromArray(SP, gt, g3 + L);
            int b0 = bt + a, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
            FloatVector t00 = FloatVector.fromArray(SP, gtSlice, b0), t01 = FloatVector.fromArray(SP, gtSlice, b0 + L);
            FloatVector t10 = FloatVector.fromArray(SP, gtSlice, b1), t11 = FloatVector.fromArray(SP, gtSlice, b1 + L);
            FloatVector t20 = FloatVector.fromArray(SP, gtSlice, b2), t21 = FloatVector.fromArray(SP, gtSlice, b2 + L);
            FloatVector t30 = FloatVector.fromArray(SP, gtSlice, b3), t31 = FloatVector.fromArray(SP, gtSlice, b3 + L);
            for (int r = 0; r < m; r++) {
                int pr = po + r * k + a, dr = dOff + 4 * r, q = dpo + r * k + a;
                FloatVector pLo = FloatVector.fromArray(SP, p, pr), pHi = FloatVector.fromArray(SP, p, pr + L);
                FloatVector x0 = FloatVector.broadcast(SP, dd[dr]), x1 = FloatVector.broadcast(SP, dd[dr + 1]);
                FloatVector x2 = FloatVector.broadcast(SP, dd[dr + 2]), x3 = FloatVector.broadcast(SP, dd[dr + 3]);
                c0 = pLo.fma(x0, c0);
                e0 = pHi.fma(x0, e0);
                c1 = pLo.fma(x1, c1);
                e1 = pHi.fma(x1, e1);
                c2 = pLo.fma(x2, c2);
                e2 = pHi.fma(x2, e2);
                c3 = pLo.fma(x3, c3);
                e3 = pHi.fma(x3, e3);
                FloatVector v0 = fresh ? FloatVector.zero(SP) : FloatVector.fromArray(SP, dp, q);
                FloatVector v1 = fresh ? FloatVector.zero(SP) : FloatVector.fromArray(SP, dp, q + L);
                FloatVector o0 = t10.fma(x1, FloatVector.zero(SP)), o1 = t11.fma(x1, FloatVector.zero(SP));
                v0 = t00.fma(x0, v0);
                v1 = t01.fma(x0, v1);
                v0 = t20.fma(x2, v0);
                v1 = t21.fma(x2, v1);
                o0 = t30.fma(x3, o0);
                o1 = t31.fma(x3, o1);
                v0.add(o0).intoArray(dp, q);
                v1.add(o1).intoArray(dp, q + L);
            }
            c0.intoArray(gt, g0);
            e0.intoArray(gt, g0 + L);
            c1.intoArray(gt, g1);
            e1.intoArray(gt, g1 + L);
            c2.intoArray(gt, g2);
            e2.intoArray(gt, g2 + L);
            c3.intoArray(gt, g3);
            e3.intoArray(gt, g3 + L);
        }
    }

    /** GT (n x k) += D^T @ P with P m x k and D m x n (vectorised along k). */
    static void atbT(int m, int k, int n, float[] p, int po, float[] dd, int dOff, float[] gt, int go) {
        for (int j = 0; j < n; j++) {
            int a = 0;
            if (!SCALAR) {
                for (; a < k; a += L) {
                    VectorMask<Float> mk = SP.indexInRange(a, k);
                    FloatVector acc = FloatVector.fromArray(SP, gt, go + j * k + a, mk);
                    for (int r = 0; r < m; r++) {
                        acc = FloatVector.fromArray(SP, p, po + r * k + a, mk)
                                .fma(FloatVector.broadcast(SP, dd[dOff + r * n + j]), acc);
                    }
                    acc.intoArray(gt, go + j * k + a, mk);
                }
                continue;
            }
            for (; a < k; a++) {
                float s = gt[go + j * k + a];
                for (int r = 0; r < m; r++) {
                    s += p[po + r * k + a] * dd[dOff + r * n + j];
                }
                gt[go + j * k + a] = s;
            }
        }
    }
}
