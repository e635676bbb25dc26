package org.ttrec.engine.testing;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random inputs and tolerance checks shared by the backend tests of every module (exported in
 * engine-api's test-jar).
 */
public final class TestData {
    private TestData() {}

    /** @return n floats uniform in [lo, hi) */
    public static float[] uniform(SplittableRandom r, int n, float lo, float hi) {
        float[] a = new float[n];
        for (int j = 0; j < n; j++) {
            a[j] = lo + (hi - lo) * (float) r.nextDouble();
        }
        return a;
    }

    /** @return n ints uniform in [0, bound) */
    public static int[] ints(SplittableRandom r, int n, int bound) {
        int[] a = new int[n];
        for (int j = 0; j < n; j++) {
            a[j] = r.nextInt(bound);
        }
        return a;
    }

    /** @return the largest |a[j]|, 0 for an empty array */
    public static float maxAbs(float[] a) {
        float m = 0f;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /**
     * Fails unless |expected[j] - actual[j]| <= tol for every j (NaN only matches NaN), naming
     * the first bad element.
     */
    public static void assertClose(String what, float[] expected, float[] actual, double tol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int j = 0; j < expected.length; j++) {
            float e = expected[j], a = actual[j];
            if (Float.isNaN(e) || Float.isNaN(a)) {
                if (Float.isNaN(e) != Float.isNaN(a)) {
                    fail(what + ": element " + j + " is " + a + ", expected " + e);
                }
                continue;
            }
            if (!(Math.abs((double) e - a) <= tol)) {
                fail(what + ": element " + j + " is " + a + ", expected " + e + " (difference "
                        + Math.abs((double) e - a) + " > tolerance " + tol + ")");
            }
        }
    }

    /** Fails unless the arrays are bit for bit equal, naming the first difference. */
    public static void assertBitEqual(String what, float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int j = 0; j < expected.length; j++) {
            if (Float.floatToRawIntBits(expected[j]) != Float.floatToRawIntBits(actual[j])) {
                fail(what + ": element " + j + " is " + actual[j] + ", expected exactly " + expected[j]);
            }
        }
    }
}
