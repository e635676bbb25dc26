package org.ttrec.dlrm.tt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.model.TableFactory;

class TtCacheConfigTest {
    @Test
    void aFractionBecomesRowsByOneRuleEverywhere() {
        // 0.5 x 1,001 = 500.5 and 0.0015 x 3,000 = 4.5: where floor and round differ
        double[] fractions = {0.5, 0.0015, 0.01, 1.0};
        int[] rows = {1_001, 3_000, 1_234, 2_000};
        ModelConfig m = new ModelConfig();
        m.embeddingDim = 16;
        m.bottomMlp = "13-16";
        m.tableRows = rows;
        m.tt.threshold = 1_000;
        for (double f : fractions) {
            m.tt.cacheFraction = f;
            List<EmbeddingTableSpec> specs = TableFactory.plan(m, 0, 1);
            for (int t = 0; t < rows.length; t++) {
                int expected = TtCacheConfig.fraction(f, 1, 0).capacity(rows[t]);
                assertEquals(expected, specs.get(t).cacheRows(), "fraction " + f + ", table " + t);
                assertEquals(Math.min(rows[t], Math.round(f * rows[t])), expected, "fraction " + f + ", table " + t);
            }
        }
        assertEquals(501, TtCacheConfig.rowsOf(0.5, 1_001));
        assertEquals(7, TtCacheConfig.fraction(0.5, 1, 0).capacity(13));
        assertEquals(13, new TtCacheConfig(99, 0, 1, 0).capacity(13));
    }
}
