package org.ttrec.dlrm.data;

/**
 * dlrm's dense transform {@code log(1 + max(x, 0))}, with a table for small counts: Criteo's
 * integer features are mostly small, and 13 {@code Math.log1p} calls per row would otherwise
 * cost more than reading the row from a shard.
 */
public final class DenseTransform {
    private static final int TABLE = 1 << 16;
    private static final float[] LOG1P = new float[TABLE];

    static {
        for (int i = 0; i < TABLE; i++) {
            LOG1P[i] = (float) Math.log1p(i);
        }
    }

    private DenseTransform() {}

    /** @return {@code (float) log(1 + max(x, 0))} */
    public static float apply(int x) {
        if (x <= 0) {
            return 0f;
        }
        return x < TABLE ? LOG1P[x] : (float) Math.log1p(x);
    }
}
