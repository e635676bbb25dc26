package org.ttrec.engine.tt;

import org.junit.jupiter.api.Test;
import org.ttrec.engine.TtShape;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TtShapesAndInitTest {

    @Test
    void suggestedShapesMatchTheReferenceExamples() {
        int[][] pq = TtShapes.suggestShapes(10_131_227, 16, 3);
        assertArrayEquals(new int[] {200, 220, 250}, pq[0]);
        assertArrayEquals(new int[] {2, 2, 4}, pq[1]);
        assertArrayEquals(new int[] {4, 4, 4}, TtShapes.suggestColumnFactors(64, 3));
        // every suggestion is a valid shape for other sizes and depths
        for (int n : new int[] {1, 7, 1460, 583, 2_202_608, 8_351_593, 5_461_306}) {
            for (int d = 2; d <= 4; d++) {
                int[] p = TtShapes.suggestRowFactors(n, d);
                long prod = 1;
                for (int x : p) {
                    prod *= x;
                }
                assertTrue(prod >= n, n + " -> " + TtShapes.format(p));
                assertEquals(d, p.length);
                new TtShape(n, 16, p, TtShapes.suggestColumnFactors(16, d), ranks(d, 4));
            }
        }
    }

    static int[] ranks(int d, int r) {
        int[] a = new int[d + 1];
        java.util.Arrays.fill(a, r);
        a[0] = 1;
        a[d] = 1;
        return a;
    }

    @Test
    void rankFromBudgetRespectsTheBudget() {
        int[] p = {200, 220, 250}, q = {2, 2, 4};
        for (long budget : new long[] {100_000, 1_000_000, 10_000_000, 50_000_000}) {
            int r = TtShapes.rankForBudget(p, q, budget);
            long bytes = 4 * TtShape.uniformRank(10_131_227, p, q, r).parameterCount();
            long next = 4 * TtShape.uniformRank(10_131_227, p, q, r + 1).parameterCount();
            assertTrue(bytes <= budget, "rank " + r + " uses " + bytes + " > " + budget);
            assertTrue(next > budget, "rank " + (r + 1) + " would also fit " + budget);
        }
        List<int[][]> two = List.of(new int[][] {p, q}, new int[][] {{100, 100}, {4, 4}});
        int r = TtShapes.rankForBudget(two, 5_000_000, 1_000_000, 8, 1024);
        assertTrue(1_000_000 + 8 * TtShapes.params(two, r) <= 5_000_000);
        assertTrue(1_000_000 + 8 * TtShapes.params(two, r + 1) > 5_000_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TtShapes.rankForBudget(p, q, 100));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());
    }

    @Test
    void initialisationMatchesTheBaselineVariance() {
        TtShape[] shapes = {
                TtShape.uniformRank(40_000, new int[] {200, 200}, new int[] {4, 4}, 8),
                TtShape.uniformRank(64_000, new int[] {40, 40, 40}, new int[] {2, 2, 4}, 16),
                TtShape.uniformRank(64_000, new int[] {40, 40, 40}, new int[] {2, 2, 2}, 24),
                TtShape.uniformRank(50_625, new int[] {15, 15, 15, 15}, new int[] {2, 2, 2, 2}, 8),
        };
        for (TtShape s : shapes) {
            for (TtInit init : new TtInit[] {TtInit.sampledGaussian(), TtInit.uniform()}) {
                float[][] cores = init.create(s, 42);
                double[] t = TtTestUtil.table(s, TtTestUtil.toDouble(cores));
                double sum = 0, sq = 0;
                for (double v : t) {
                    sum += v;
                    sq += v * v;
                }
                double mean = sum / t.length;
                double var = sq / t.length - mean * mean;
                double target = 1.0 / (3.0 * s.rows());
                assertEquals(1.0, var / target, 0.10, s + " " + init.kind() + " variance " + var + " vs " + target);
                double se = Math.sqrt(target / t.length);
                assertTrue(Math.abs(mean) < 5 * se, s + " mean " + mean + " vs standard error " + se);
            }
        }
    }

    @Test
    void initialisationIsSeededAndNormalUsesItsStd() {
        TtShape s = TtShape.uniformRank(1000, new int[] {10, 100}, new int[] {2, 8}, 4);
        float[][] a = TtInit.sampledGaussian().create(s, 1);
        float[][] b = TtInit.sampledGaussian().create(s, 1);
        float[][] c = TtInit.sampledGaussian().create(s, 2);
        for (int k = 0; k < 2; k++) {
            assertArrayEquals(a[k], b[k]);
            assertNotEquals(0, TtTestUtil.maxAbsDiff(a[k], c[k]));
        }
        float[][] n = TtInit.normal(0.5).create(s, 3);
        double sq = 0;
        int cnt = 0;
        for (float[] core : n) {
            for (float v : core) {
                sq += v * v;
                cnt++;
            }
        }
        assertEquals(0.25, sq / cnt, 0.03);
        assertEquals(TtInit.Kind.NORMAL, TtInit.parse("normal:0.1").kind());
        assertThrows(IllegalArgumentException.class, () -> TtInit.parse("approx-normal"));
    }
}
