package org.ttrec.dlrm.metrics;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinaryMetricsTest {

    /** O(n^2) Mann-Whitney: every (positive, negative) pair, ties count 1/2. */
    static double bruteAuc(float[] p, float[] y, int n) {
        double s = 0;
        long pairs = 0;
        for (int i = 0; i < n; i++) {
            if (y[i] <= 0.5f) {
                continue;
            }
            for (int j = 0; j < n; j++) {
                if (y[j] > 0.5f) {
                    continue;
                }
                pairs++;
                s += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
            }
        }
        return s / pairs;
    }

    @Test
    void aucMatchesBruteForceWithManyTies() {
        Random r = new Random(5);
        for (int levels : new int[] {1, 2, 3, 10, 1000, 0}) {
            int n = 1 + r.nextInt(3000);
            float[] p = new float[n];
            float[] y = new float[n];
            for (int i = 0; i < n; i++) {
                y[i] = r.nextDouble() < 0.3 ? 1 : 0;
                double s = r.nextDouble() * 0.6 + 0.4 * y[i];
                p[i] = levels == 0 ? (float) s : (float) (Math.floor(s * levels) / levels);
            }
            if (n > 2) {
                y[0] = 1;
                y[1] = 0;
            }
            BinaryMetrics m = new BinaryMetrics();
            // add in uneven chunks, as evaluation batches do
            for (int off = 0; off < n; ) {
                int len = Math.min(n - off, 1 + r.nextInt(500));
                float[] pc = java.util.Arrays.copyOfRange(p, off, off + len);
                float[] yc = java.util.Arrays.copyOfRange(y, off, off + len);
                m.add(pc, yc, len);
                off += len;
            }
            BinaryMetrics.Result res = m.result();
            if (n > 2) {
                assertEquals(bruteAuc(p, y, n), res.auc(), 1e-12, "levels " + levels + " n " + n);
            }
            assertEquals(n, res.count());
        }
    }

    @Test
    void allTiedScoresGiveHalf() {
        BinaryMetrics m = new BinaryMetrics();
        m.add(new float[] {0.3f, 0.3f, 0.3f, 0.3f}, new float[] {1, 0, 1, 0}, 4);
        assertEquals(0.5, m.result().auc(), 0);
    }

    @Test
    void accuracyAndLogLoss() {
        BinaryMetrics m = new BinaryMetrics();
        m.add(new float[] {0.9f, 0.2f, 0.5f, 0.6f}, new float[] {1, 0, 1, 0}, 4);
        BinaryMetrics.Result r = m.result();
        // 0.5 counts as negative (dlrm rounds half to even), so sample 3 is wrong, as is sample 4
        assertEquals(0.5, r.accuracy(), 0);
        double ll = -(Math.log(0.9f) + Math.log(1 - 0.2f) + Math.log(0.5f) + Math.log(1 - 0.6f)) / 4;
        assertEquals(ll, r.logLoss(), 1e-6);
        assertEquals(0.75, r.auc(), 1e-12);
    }

    @Test
    void negativeZeroTiesWithZeroAndNaNIsRejected() {
        BinaryMetrics m = new BinaryMetrics();
        m.add(new float[] {-0f, 0f}, new float[] {1, 0}, 2);
        assertEquals(0.5, m.result().auc(), 0);
        assertThrows(IllegalArgumentException.class, () -> new BinaryMetrics().add(new float[] {Float.NaN}, new float[] {1}, 1));
    }

    @Test
    void oneClassGivesNaNAuc() {
        BinaryMetrics m = new BinaryMetrics();
        m.add(new float[] {0.1f, 0.7f}, new float[] {1, 1}, 2);
        assertTrue(Double.isNaN(m.result().auc()));
    }

    @Test
    void millionsOfSamples() {
        BinaryMetrics m = new BinaryMetrics();
        Random r = new Random(1);
        float[] p = new float[100_000];
        float[] y = new float[p.length];
        for (int rep = 0; rep < 30; rep++) {
            for (int i = 0; i < p.length; i++) {
                y[i] = r.nextBoolean() ? 1 : 0;
                p[i] = (float) Math.min(1, Math.max(0, r.nextGaussian() * 0.2 + 0.4 + 0.2 * y[i]));
            }
            m.add(p, y, p.length);
        }
        BinaryMetrics.Result res = m.result();
        assertEquals(3_000_000, res.count());
        // two Gaussians 1 std apart: AUC = Phi(1 / sqrt 2) = 0.7602 (clamping adds ties at 0 and 1)
        assertEquals(0.760, res.auc(), 0.005);
    }
}
