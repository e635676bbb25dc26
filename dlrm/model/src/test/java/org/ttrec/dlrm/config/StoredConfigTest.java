package org.ttrec.dlrm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.ttrec.engine.SparseOptimizer;

/** The TT cores' update rule: today's default, and what a checkpoint from before it resumes with. */
class StoredConfigTest {

    @Test
    void newConfigsTrainCoresWithAdagradAndStoredOnesKeepTheirRule() throws IOException {
        RunConfig fresh = Presets.get("kaggle");
        assertEquals(SparseOptimizer.Kind.ADAGRAD, fresh.model.tt.coreOptimizerKind());
        // a config written today round-trips with its rule
        fresh.model.tt.optimizer = "rowwise-adagrad";
        assertEquals("rowwise-adagrad", RunConfig.fromStoredJson(new ObjectMapper().readTree(fresh.toJson())).model.tt.optimizer);

        // a checkpoint's config from before the field existed: the cores followed train.optimizer
        ObjectNode old = (ObjectNode) new ObjectMapper().readTree(Presets.get("kaggle").toJson());
        ((ObjectNode) old.path("model").path("tt")).remove("optimizer");
        RunConfig resumed = RunConfig.fromStoredJson(old);
        assertEquals("same", resumed.model.tt.optimizer);
        assertNull(resumed.model.tt.coreOptimizerKind());
        // fromJson alone (a user's file merged elsewhere, copies) keeps today's default
        assertEquals("adagrad", RunConfig.fromJson(old.toString()).model.tt.optimizer);
    }

    @Test
    void anUnknownCoreOptimizerIsNamed() {
        RunConfig c = Presets.get("tiny");
        c.model.tt.optimizer = "adam";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c::validate);
        assertTrue(e.getMessage().contains("model.tt.optimizer") && e.getMessage().contains("adam"), e.getMessage());
    }
}
