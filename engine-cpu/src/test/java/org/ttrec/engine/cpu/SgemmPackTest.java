package org.ttrec.engine.cpu;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Packing of a transposed B (16 x 16 register transposes at 16 lanes) against its definition. */
class SgemmPackTest {

    @Test
    void packedTransposedBHoldsOpBInPanelOrder() {
        System.out.println("SgemmPackTest: NR " + Sgemm.NR + ", register transposes " + Sgemm.TRANSPOSE16);
        SplittableRandom rnd = new SplittableRandom(3);
        for (int kc : new int[] {1, 15, 16, 17, 33, 64, 256}) {
            for (int nc : new int[] {1, 31, 32, 33, 64, 70}) {
                int ldb = kc + 3, off = 5;
                float[] b = new float[off + nc * ldb + 1];
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) rnd.nextDouble(-1, 1);
                }
                int panels = (nc + Sgemm.NR - 1) / Sgemm.NR;
                float[] pb = new float[panels * kc * Sgemm.NR];
                java.util.Arrays.fill(pb, Float.NaN);
                Sgemm.packB(true, kc, nc, b, off, ldb, pb);
                for (int j = 0; j < panels * Sgemm.NR; j++) {
                    for (int p = 0; p < kc; p++) {
                        // op(B)[p][j] = B[j][p]; columns past nc are zero padding
                        float want = j < nc ? b[off + j * ldb + p] : 0f;
                        float got = pb[(j / Sgemm.NR) * kc * Sgemm.NR + p * Sgemm.NR + j % Sgemm.NR];
                        assertEquals(want, got, "kc=" + kc + " nc=" + nc + " at p=" + p + " j=" + j);
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
        Sgemm.transpose16(src, 7, 19, dst, 3, 21);
        for (int r = 0; r < 16; r++) {
            for (int q = 0; q < 16; q++) {
                assertEquals(src[7 + r * 19 + q], dst[3 + q * 21 + r], "r=" + r + " q=" + q);
            }
        }
    }
}
