package org.ttrec.engine.cpu;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Packing of A and B panels (16 x 16 register transposes and whole-vector copies at 16 lanes)
 * against their definitions, on sizes that leave partial panels and k tails.
 */
class SgemmPackTest {

    @Test
    void packedBHoldsOpBInPanelOrder() {
        System.out.println("SgemmPackTest: NR " + Sgemm.NR + ", register transposes " + Sgemm.TRANSPOSE16);
        SplittableRandom rnd = new SplittableRandom(3);
        for (boolean tB : new boolean[] {true, false}) {
            for (int kc : new int[] {1, 15, 16, 17, 33, 64, 256}) {
                for (int nc : new int[] {1, 31, 32, 33, 64, 70}) {
                    // op(B) is kc x nc: stored nc x ldb (transposed) or kc x ldb, ending right at
                    // the array's end so that a read past op(B) would throw
                    int ldb = (tB ? kc : nc) + 3, off = 5;
                    float[] b = random(rnd, off + (tB ? nc : kc) * ldb - 3);
                    int panels = (nc + Sgemm.NR - 1) / Sgemm.NR;
                    float[] pb = new float[panels * kc * Sgemm.NR];
                    java.util.Arrays.fill(pb, Float.NaN);
                    Sgemm.packB(tB, kc, nc, b, off, ldb, pb);
                    for (int j = 0; j < panels * Sgemm.NR; j++) {
                        for (int p = 0; p < kc; p++) {
                            // columns past nc are zero padding
                            float want = j >= nc ? 0f : tB ? b[off + j * ldb + p] : b[off + p * ldb + j];
                            float got = pb[(j / Sgemm.NR) * kc * Sgemm.NR + p * Sgemm.NR + j % Sgemm.NR];
                            assertEquals(want, got, (tB ? "tB " : "") + "kc=" + kc + " nc=" + nc + " at p=" + p + " j=" + j);
                        }
                    }
                }
            }
        }
    }

    @Test
    void packedAHoldsOpAInPanelOrder() {
        System.out.println("SgemmPackTest: MR " + Sgemm.MR + ", vector A packing " + Sgemm.PACK_A_VECTORS);
        SplittableRandom rnd = new SplittableRandom(5);
        for (boolean tA : new boolean[] {false, true}) {
            for (int kc : new int[] {1, 15, 16, 17, 33, 64, 256}) {
                for (int mc : new int[] {1, 11, 12, 13, 24, 40, Sgemm.MC}) {
                    // op(A) is mc x kc: stored mc x lda (rows) or kc x lda (transposed), ending
                    // right at the array's end so a read past op(A) would throw
                    int lda = (tA ? mc : kc) + 3, off = 5;
                    float[] a = random(rnd, off + (tA ? kc : mc) * lda - 3);
                    int panels = (mc + Sgemm.MR - 1) / Sgemm.MR;
                    float[] pa = new float[panels * kc * Sgemm.MR + Sgemm.L];
                    java.util.Arrays.fill(pa, Float.NaN);
                    Sgemm.packA(tA, mc, kc, a, off, lda, pa);
                    for (int i = 0; i < panels * Sgemm.MR; i++) {
                        for (int p = 0; p < kc; p++) {
                            // rows past mc are zero padding
                            float want = i >= mc ? 0f : tA ? a[off + p * lda + i] : a[off + i * lda + p];
                            float got = pa[(i / Sgemm.MR) * kc * Sgemm.MR + p * Sgemm.MR + i % Sgemm.MR];
                            assertEquals(want, got, "tA=" + tA + " kc=" + kc + " mc=" + mc + " at i=" + i + " p=" + p);
                        }
                    }
                }
            }
        }
    }

    @Test
    void transpose16SwapsRowsAndColumns() {
        if (!Sgemm.TRANSPOSE16) {
            System.out.println("SgemmPackTest: skipping transpose16, vectors have " + Sgemm.L + " lanes (needs 16)");
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "needs 16-lane vectors");
        }
        float[] src = new float[7 + 16 * 19];
        for (int i = 0; i < src.length; i++) {
            src[i] = i;
        }
        float[] dst = new float[3 + 16 * 21];
        Sgemm.transpose16(src, 7, 19, 16, dst, 3, 21);
        for (int r = 0; r < 16; r++) {
            for (int q = 0; q < 16; q++) {
                assertEquals(src[7 + r * 19 + q], dst[3 + q * 21 + r], "r=" + r + " q=" + q);
            }
        }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextDouble(-1, 1);
        }
        return x;
    }
}
