package org.ttrec.engine.table;

import org.ttrec.engine.Checks;
import org.ttrec.engine.EmbeddingTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;

/** Reads rows of any table through its own forward: one-row bags, in chunks. */
final class Materialize {
    private static final int CHUNK = 1 << 16;

    private Materialize() {
    }

    static float[] rows(EmbeddingTable t, int[] rowIds) {
        Checks.notNull(t.name(), ": rowIds", rowIds);
        Checks.indices(t.name(), rowIds, 0, rowIds.length, t.rows());
        int dim = t.dim();
        float[] result = new float[Math.multiplyExact(rowIds.length, dim)];
        if (rowIds.length == 0) {
            return result;
        }
        int chunk = Math.min(CHUNK, rowIds.length);
        int[] off = new int[chunk + 1];
        for (int i = 0; i < off.length; i++) {
            off[i] = i;
        }
        try (LookupPlan plan = t.newPlan(); FloatBuf out = t.backend().allocFloats(chunk * dim)) {
            for (int start = 0; start < rowIds.length; start += chunk) {
                int n = Math.min(chunk, rowIds.length - start);
                int[] window = off;
                if (start > 0) {
                    window = new int[n + 1];
                    for (int i = 0; i <= n; i++) {
                        window[i] = start + i;
                    }
                }
                plan.set(rowIds, window, n, null);
                t.forward(plan, Pooling.SUM, false, out, 0, dim);
                out.read(0, result, start * dim, n * dim);
            }
        }
        return result;
    }
}
