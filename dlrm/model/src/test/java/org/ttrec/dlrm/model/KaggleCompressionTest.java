package org.ttrec.dlrm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.layers.Mlp;

/**
 * The compression the Kaggle preset gets at its full cardinalities (33.8M rows) with the default
 * TT settings: the paper reports 117x for its TT-Rec Kaggle model. Computed from the table plan
 * alone, without allocating the model.
 */
class KaggleCompressionTest {

    @Test
    void kagglePresetAtDefaultsCompressesMoreThanAHundredfold() {
        ModelConfig m = Presets.get("kaggle").model;
        List<EmbeddingTableSpec> plan = TableFactory.plan(m, 0, 1);
        long tt = 0, ttUncompressed = 0, embedded = 0, embeddedUncompressed = 0;
        int ttTables = 0;
        for (EmbeddingTableSpec s : plan) {
            embedded += s.parameterCount();
            embeddedUncompressed += s.uncompressedParameterCount();
            if (s.kind() == EmbeddingTableSpec.Kind.TT) {
                ttTables++;
                tt += s.parameterCount();
                ttUncompressed += s.uncompressedParameterCount();
            }
        }
        long mlp = new Mlp(m.bottomWidths(), true, 0).parameterCount()
                + new Mlp(m.topWidths(), false, 0).parameterCount();
        assertEquals(33_762_577L * 16, embeddedUncompressed, "Kaggle's 26 tables at dimension 16");
        assertEquals(7, ttTables, "the seven tables over 100,000 rows are TT by default");
        double ttRatio = (double) ttUncompressed / tt;
        double embeddingRatio = (double) embeddedUncompressed / embedded;
        double modelRatio = (double) (embeddedUncompressed + mlp) / (embedded + mlp);
        System.out.printf("Kaggle preset, full cardinalities, default TT (rank %d, %d cores): TT tables %.1fx, "
                        + "all embeddings %.1fx, whole model %.1fx (%,d parameters = %.1f MB against %,d = %.2f GB)%n",
                m.tt.rank, m.tt.cores, ttRatio, embeddingRatio, modelRatio, embedded + mlp,
                (embedded + mlp) * 4 / 1e6, embeddedUncompressed + mlp, (embeddedUncompressed + mlp) * 4 / 1e9);
        assertTrue(embeddingRatio > 100, "embeddings compressed " + embeddingRatio + "x");
        assertTrue(modelRatio > 100, "whole model compressed " + modelRatio + "x");
    }
}
