package org.ttrec.dlrm.model;

import org.junit.jupiter.api.Test;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.train.TrainingSetup;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigValidationTest {

    @Test
    void uncompressedTerabyteTablesThatExceedTheHeapFailBeforeAllocation() {
        RunConfig c = Presets.get("terabyte");
        c.model.tt.threshold = -1; // everything uncompressed
        long usedBefore = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingSetup.plan(c, 4L << 30));
        long usedAfter = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(e.getMessage().contains("table 0") && e.getMessage().contains("GB"), e.getMessage());
        assertTrue(usedAfter - usedBefore < (256L << 20), "planning allocated " + (usedAfter - usedBefore) + " bytes");
    }

    @Test
    void aTableBeyondOneBufferIsNamed() {
        RunConfig c = Presets.get("mlperf");
        c.model.tt.threshold = -1;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingSetup.plan(c, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("table 0") && e.getMessage().contains("one buffer"), e.getMessage());
    }

    @Test
    void inconsistentArchitecturesAreNamed() {
        RunConfig c = Presets.get("tiny");
        c.model.bottomMlp = "13-32-16";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingSetup.plan(c, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("embedding dimension"), e.getMessage());
        RunConfig d = Presets.get("tiny");
        d.model.topMlp = "32-2";
        e = assertThrows(IllegalArgumentException.class, () -> TrainingSetup.plan(d, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("must end with 1"), e.getMessage());
    }

    @Test
    void kaggleTablesAboveTheThresholdArePlannedAsTt() {
        RunConfig c = Presets.get("kaggle");
        var specs = TableFactory.plan(c.model, MemoryPlan.denseParameters(c), 0);
        long tt = specs.stream().filter(s -> s.kind() == EmbeddingTableSpec.Kind.TT).count();
        assertEquals(7, tt);
        EmbeddingTableSpec t2 = specs.get(2);
        assertEquals(EmbeddingTableSpec.Kind.TT, t2.kind());
        assertTrue(t2.parameterCount() < t2.uncompressedParameterCount() / 50, t2.describe());
        assertEquals(16, t2.ttShape().dim());
        var layer = TableFactory.create(new org.ttrec.engine.scalar.ScalarBackend(), t2, 1);
        assertTrue(layer instanceof org.ttrec.dlrm.tt.TtEmbeddingBag, layer.describe());
        assertEquals(t2.parameterCount(), layer.parameterCount());
        assertEquals(t2.rows(), layer.rows());
    }

    @Test
    void memoryBudgetPicksTheLargestRankThatFits() {
        RunConfig c = Presets.get("kaggle");
        c.model.tt.memoryBudgetBytes = 100_000_000;
        var specs = TableFactory.plan(c.model, MemoryPlan.denseParameters(c), 0);
        long bytes = MemoryPlan.denseParameters(c) * 4;
        for (EmbeddingTableSpec s : specs) {
            bytes += s.bytes(0);
        }
        assertTrue(bytes <= 100_000_000L, "plan needs " + bytes);
        int rank = specs.get(2).ttShape().rank(1);
        c.model.tt.rank = rank + 1;
        c.model.tt.memoryBudgetBytes = 0;
        long bigger = MemoryPlan.denseParameters(c) * 4;
        for (EmbeddingTableSpec s : TableFactory.plan(c.model, MemoryPlan.denseParameters(c), 0)) {
            bigger += s.bytes(0);
        }
        assertTrue(bigger > 100_000_000L, "rank " + (rank + 1) + " would also fit");
    }

    @Test
    void suggestedShapesFollowTheReference() {
        assertEquals("[2, 2, 4]", java.util.Arrays.toString(org.ttrec.engine.tt.TtShapes.suggestColumnFactors(16, 3)));
        assertEquals("[4, 4, 4]", java.util.Arrays.toString(org.ttrec.engine.tt.TtShapes.suggestColumnFactors(64, 3)));
        int[] p = org.ttrec.engine.tt.TtShapes.suggestRowFactors(10_131_227, 3);
        assertEquals("[200, 220, 250]", java.util.Arrays.toString(p)); // docs/tt-layout.md, Shapes
    }

    @Test
    void anyFieldCanBeSetByPath() {
        RunConfig c = Presets.get("tiny");
        c.set("train.lr=0.05");
        c.set("model.tableRows=[10, 20]");
        c.set("model.interaction=cat");
        c.set("model.tt.perTable={\"1\": {\"rank\": 16}}");
        assertEquals(0.05, c.train.lr);
        assertEquals("[10, 20]", java.util.Arrays.toString(c.model.tableRows), "arrays are replaced");
        assertEquals("13-32-8", c.model.bottomMlp, "the rest of the section is kept");
        assertEquals("cat", c.model.interaction);
        assertEquals(16, c.model.tt.perTable.get("1").rank);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.set("train.lrr=1"));
        assertTrue(e.getMessage().contains("lrr"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> c.set("train.lr"));
    }

    @Test
    void jsonConfigOverridesAndRejectsTypos() throws Exception {
        Path f = Files.createTempFile("cfg", ".json");
        try {
            Files.writeString(f, "{\"model\": {\"embeddingDim\": 4, \"bottomMlp\": \"13-8-4\"}, \"train\": {\"lr\": 0.5}}");
            RunConfig c = Presets.get("tiny");
            c.apply(f);
            assertEquals(4, c.model.embeddingDim);
            assertEquals(0.5, c.train.lr);
            assertEquals(128, c.train.batchSize, "fields not named keep the preset's value");
            assertEquals(10, c.model.tableRows.length, "fields not named keep the preset's value");
            assertEquals("32-1", c.model.topMlp);
            assertEquals(2000, c.train.evalEvery);
            Files.writeString(f, "{\"train\": {\"learningRate\": 0.5}}");
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> Presets.get("tiny").apply(f));
            assertTrue(e.getMessage().contains("learningRate"), e.getMessage());
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Test
    void ttLearningRateScaleIsCheckedAndReachesTheTtTables() {
        for (String bad : new String[] {"0", "-2", "NaN", "Infinity"}) {
            RunConfig c = Presets.get("tiny");
            c.set("model.tt.lrScale=" + bad);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TrainingSetup.plan(c, Long.MAX_VALUE));
            assertTrue(e.getMessage().contains("model.tt.lrScale"), e.getMessage());
        }
        RunConfig c = Presets.get("tiny");
        c.set("model.tt.lrScale=10");
        var specs = TrainingSetup.plan(c, Long.MAX_VALUE);
        try (var be = new org.ttrec.engine.scalar.ScalarBackend()) {
            var model = TrainingSetup.build(be, c, specs);
            int tt = 0;
            for (var t : model.tables()) {
                if (t instanceof org.ttrec.dlrm.tt.TtEmbeddingBag l) {
                    // the default rule (Adagrad at lr x ADAGRAD_STEP x the initial std) times the scale
                    double rule = org.ttrec.dlrm.tt.TtCoreRate.ADAGRAD_STEP
                            * org.ttrec.engine.tt.TtInit.matchedStd(l.shape());
                    assertEquals(10 * rule, l.coreLearningRateScale(), 1e-6 * rule, t.name());
                    assertEquals(org.ttrec.engine.SparseOptimizer.Kind.ADAGRAD, l.coreOptimizer(), t.name());
                    tt++;
                }
            }
            assertEquals(3, tt, "TT tables of the tiny preset");
        }
    }

    @Test
    void hotRowCacheSettingsReachTheTtTables() {
        RunConfig c = Presets.get("tiny");
        c.set("model.tt.cacheFraction=0.01");
        c.set("model.tt.cacheWarmupSteps=7");
        c.set("model.tt.cacheRefreshSteps=50");
        var specs = TableFactory.plan(c.model, MemoryPlan.denseParameters(c), 0);
        EmbeddingTableSpec big = specs.get(9);
        assertEquals(EmbeddingTableSpec.Kind.TT, big.kind());
        assertEquals(10_000, big.cacheRows());
        assertEquals(7, big.cacheWarmupSteps());
        assertEquals(50, big.cacheRefreshSteps());
        assertEquals(0, specs.get(0).cacheRows(), "dense tables get no cache");
        c.set("model.tt.cacheRefreshSteps=-1");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c::validate);
        assertTrue(e.getMessage().contains("cacheRefreshSteps"), e.getMessage());
    }

    /** Review finding (a): a bad model.tt.init is a config error named up front, not a failure when a table is built. */
    @Test
    void aBadTtInitIsRejectedByValidate() {
        for (String bad : new String[] {"bogus", "normal:-1", "normal:x", ""}) {
            RunConfig c = Presets.get("tiny");
            c.model.tt.init = bad;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c::validate, bad);
            assertTrue(e.getMessage().contains("model.tt.init"), e.getMessage());
        }
        RunConfig ok = Presets.get("tiny");
        ok.model.tt.init = "normal:0.01";
        ok.validate();
    }

    /** Review finding (b): a TT table with a hot-row cache also holds an int count per row. */
    @Test
    void theHotRowCacheCountArrayIsInTheMemoryEstimate() {
        RunConfig c = Presets.get("kaggle");
        long without = MemoryPlan.estimate(c, TrainingSetup.plan(c, Long.MAX_VALUE)).total();
        RunConfig cached = Presets.get("kaggle");
        cached.model.tt.cacheFraction = 1e-5; // a few cached rows per table: the rows themselves add almost nothing
        java.util.List<EmbeddingTableSpec> specs = TrainingSetup.plan(cached, Long.MAX_VALUE);
        long counts = 0;
        for (EmbeddingTableSpec s : specs) {
            if (s.kind() == EmbeddingTableSpec.Kind.TT && s.cacheRows() > 0) {
                counts += 4L * s.rows();
            }
        }
        assertTrue(counts > 100_000_000L, "Kaggle's TT tables have about 33.5M rows: " + counts);
        long with = MemoryPlan.estimate(cached, specs).total();
        assertTrue(with - without >= counts, "estimate grew by " + (with - without) + ", the count arrays need " + counts);
    }
}
