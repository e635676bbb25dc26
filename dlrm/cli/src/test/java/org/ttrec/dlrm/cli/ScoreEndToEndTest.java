package org.ttrec.dlrm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Progress;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.data.SplitRule;
import org.ttrec.dlrm.data.SyntheticConfig;
import org.ttrec.dlrm.data.SyntheticCriteo;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.score.CategoricalEncoding;
import org.ttrec.dlrm.score.ModelInfo;
import org.ttrec.dlrm.score.ScoringModel;
import org.ttrec.dlrm.score.ScoringOptions;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.CheckpointStore;
import org.ttrec.dlrm.train.Evaluator;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * From raw Criteo text to scores: {@code ttrec train} on a TSV (cpu backend, one thread; TT tables
 * with a hot-row cache), {@code ttrec model-file} on its run folder, then the scoring API on the
 * test split's raw lines (13 counts and 26 hex hashes each) must give, row for row and bit for bit,
 * the probabilities of the trainer's own evaluation, and so the same AUC as {@link Evaluator}.
 * Either the TSV itself is trained on (its dictionaries are built in memory and saved in the run
 * folder), or its {@code ttrec preprocess} folder with {@code --min-count 2 --max-ind-range 3000}
 * (the folder's dictionaries, with a rare bucket and the modulo, map the raw values).
 */
class ScoreEndToEndTest {
    @ParameterizedTest
    @ValueSource(strings = {"raw text", "preprocessed"})
    void rawLinesScoreAsTheTrainersEvaluation(String data, @TempDir Path dir) throws Exception {
        Path tsv = dir.resolve("train.tsv");
        int n = 7_000;
        new SyntheticCriteo(SyntheticConfig.kaggleScaled(n, 2000, 3)).writeTsv(tsv, Progress.Factory.NONE);
        Path run = dir.resolve("run");
        Object source = tsv;
        if (data.equals("preprocessed")) {
            Path shards = dir.resolve("shards");
            Cli.Result p = Cli.run("preprocess", tsv, "-o", shards, "--min-count", "2", "--max-ind-range", "3000",
                    "--no-progress");
            assertEquals(0, p.rc(), p.all());
            source = shards;
        }
        Cli.Result r = Cli.run("train", "--data", source, "--backend", "cpu", "--threads", "1", "--no-progress",
                "--batch-size", "64", "--test-batch-size", "128", "--max-steps", "40", "--eval-every", "0", "--log-every", "20",
                "--tt-threshold", "300", "--tt-rank", "4", "--tt-cache-fraction", "0.05", "--tt-cache-warmup", "5",
                "--out", run);
        assertEquals(0, r.rc(), r.all());
        // raw text: the run folder keeps the dictionaries built in memory; a preprocessed folder has its own
        assertEquals(data.equals("raw text"), Files.isRegularFile(run.resolve("dictionaries.ttrd")));
        r = Cli.run("model-file", run);
        assertEquals(0, r.rc(), r.all());
        Path model = run.resolve("model.ttrm");
        assertTrue(r.out().contains("scores raw values"), r.out());

        // the trainer's evaluation of the checkpoint: the model it builds, on the test split's batches
        Path ck = CheckpointStore.resolve(run);
        Checkpoint.Header h = Checkpoint.readHeader(ck);
        RunConfig c = h.config();
        List<Float> trainer = new ArrayList<>();
        BinaryMetrics.Result evaluated;
        try (ComputeBackend be = Backends.create("cpu", 1); Dataset ds = TrainingSetup.openDataset(c)) {
            TrainingSetup.adopt(c, ds);
            try (DlrmModel m = TrainingSetup.build(be, c, TrainingSetup.plan(c, Long.MAX_VALUE))) {
                Checkpoint.restore(ck, m, null);
                evaluated = Evaluator.evaluate(m, ds, Split.TEST, c.train.testBatchSize);
                try (BatchStream s = ds.batches(Split.TEST, c.train.testBatchSize, false, 0)) {
                    for (Batch b = s.next(); b != null; b = s.next()) {
                        float[] p = m.predict(b);
                        for (int i = 0; i < b.size(); i++) {
                            trainer.add(p[i]);
                        }
                    }
                }
            }
        }

        // the same rows as raw text lines, scored in batches of the same size through the API
        long[] test = SplitRule.KAGGLE.ranges(new long[] {n}).get(Split.TEST);
        List<String> lines = Files.readAllLines(tsv, StandardCharsets.UTF_8).subList((int) test[0], (int) test[1]);
        assertEquals(trainer.size(), lines.size());
        BinaryMetrics metrics = new BinaryMetrics();
        try (ScoringModel s = ScoringModel.load(model, ScoringOptions.defaults().withBackend("cpu"))) {
            ModelInfo info = s.info();
            assertTrue(info.tables().stream().anyMatch(t -> t.kind().equals("TT") && t.cacheRows() > 0), info.toString());
            int bs = c.train.testBatchSize;
            for (int from = 0; from < lines.size(); from += bs) {
                int k = Math.min(bs, lines.size() - from);
                float[] dense = new float[k * 13];
                int[] cat = new int[k * 26];
                float[] labels = new float[k];
                for (int i = 0; i < k; i++) {
                    String[] f = lines.get(from + i).split("\t", -1);
                    labels[i] = Float.parseFloat(f[0]);
                    for (int j = 0; j < 13; j++) {
                        dense[i * 13 + j] = f[1 + j].isEmpty() ? 0 : Float.parseFloat(f[1 + j]);
                    }
                    for (int j = 0; j < 26; j++) {
                        cat[i * 26 + j] = f[14 + j].isEmpty() ? 0 : (int) Long.parseLong(f[14 + j], 16);
                    }
                }
                float[] p = new float[k];
                s.predict(k, dense, cat, CategoricalEncoding.RAW_HASH, p);
                for (int i = 0; i < k; i++) {
                    assertEquals(Float.floatToRawIntBits(trainer.get(from + i)), Float.floatToRawIntBits(p[i]),
                            "test row " + (from + i) + ": trainer " + trainer.get(from + i) + ", API " + p[i]);
                }
                metrics.add(p, labels, k);
            }
        }
        BinaryMetrics.Result api = metrics.result();
        assertEquals(evaluated.auc(), api.auc(), 0.0);
        assertEquals(evaluated.logLoss(), api.logLoss(), 0.0);
        assertEquals(evaluated.count(), api.count());
    }
}
