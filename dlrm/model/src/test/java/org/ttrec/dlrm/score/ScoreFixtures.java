package org.ttrec.dlrm.score;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.DenseTransform;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.model.CheckpointFile;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.model.MemoryPlan;
import org.ttrec.dlrm.model.TableFactory;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.SparseOptimizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small trained-looking model for the scoring tests: five tables, two of them TT with a populated
 * hot-row cache (a few SGD steps fill it), a checkpoint written through dlrm-model's
 * {@link CheckpointFile} exactly as the trainer writes one, and random rows.
 */
final class ScoreFixtures {
    static final int DENSE = 13;

    private ScoreFixtures() {}

    /** @param rows the tables' sizes @return a small config whose tables above 100 rows are TT with a 5% cache */
    static RunConfig config(int[] rows) {
        RunConfig c = Presets.get("tiny");
        c.model.embeddingDim = 8;
        c.model.bottomMlp = "13-16-8";
        c.model.topMlp = "16-1";
        c.model.tableRows = rows.clone();
        c.model.tt.threshold = 100;
        c.model.tt.rank = 4;
        c.model.tt.cacheFraction = 0.05;
        c.model.tt.cacheWarmupSteps = 2;
        c.train.batchSize = 64;
        c.train.testBatchSize = 64;
        return c;
    }

    static List<EmbeddingTableSpec> plan(RunConfig c) {
        return TableFactory.plan(c.model, MemoryPlan.denseParameters(c), 0);
    }

    /** The model of {@code c} on a 1-thread cpu backend after 3 SGD steps on random rows (so the caches are populated). */
    static DlrmModel trainedModel(ComputeBackend be, RunConfig c) {
        DlrmModel m = DlrmModel.build(be, c.model, plan(c), c.train.seed);
        SplittableRandom rnd = new SplittableRandom(5);
        for (int s = 0; s < 3; s++) {
            Rows r = Rows.random(rnd, 64, c.model.tableRows);
            m.forward(r.batch(rnd));
            m.backward(SparseOptimizer.sgd(0.5f));
        }
        m.awaitTables();
        return m;
    }

    /**
     * Writes the checkpoint of a model as the trainer does (header with config, state and tables;
     * an SGD optimiser section).
     */
    static Path checkpoint(Path file, DlrmModel m, RunConfig c) throws IOException {
        ObjectNode h = CheckpointFile.modelHeader(m, c, plan(c));
        ObjectNode state = new ObjectMapper().createObjectNode();
        state.put("step", 3).put("epoch", 0).put("batchInEpoch", 3).put("samples", 192);
        ObjectNode ordered = new ObjectMapper().createObjectNode();
        ordered.set("config", h.remove("config"));
        ordered.set("state", state);
        ordered.setAll(h);
        CheckpointFile.write(file, m, ordered, out -> {
            out.writeUTF("SGD");
            out.writeInt(m.denseParameterCount());
        });
        return file;
    }

    static ComputeBackend cpu1() {
        return Backends.create("cpu", 1);
    }

    /**
     * Rows of raw dense values (integers, some zero or negative, as Criteo's counts) and table indices.
     *
     * @param n     rows
     * @param dense n x 13 raw values
     * @param index n x tables indices
     */
    record Rows(int n, float[] dense, int[] index) {
        static Rows random(SplittableRandom rnd, int n, int[] tableRows) {
            float[] d = new float[n * DENSE];
            for (int i = 0; i < d.length; i++) {
                int k = rnd.nextInt(10);
                d[i] = k == 0 ? 0 : k == 1 ? -rnd.nextInt(3) : rnd.nextInt(k < 8 ? 100 : 100_000);
            }
            int[] idx = new int[n * tableRows.length];
            for (int r = 0; r < n; r++) {
                for (int t = 0; t < tableRows.length; t++) {
                    // skewed toward small indices, so that cached rows are looked up
                    int v = rnd.nextInt(2) == 0 ? rnd.nextInt(Math.min(8, tableRows[t])) : rnd.nextInt(tableRows[t]);
                    idx[r * tableRows.length + t] = v;
                }
            }
            return new Rows(n, d, idx);
        }

        /** @return the batch the data pipeline makes of these rows (dense transformed, one lookup per table) */
        Batch batch(SplittableRandom rnd) {
            int tables = index.length / n;
            float[] x = new float[dense.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = DenseTransform.apply((int) dense[i]);
            }
            int[][] ind = new int[tables][n];
            int[] off = new int[n + 1];
            for (int r = 0; r <= n; r++) {
                off[r] = r;
            }
            int[][] offs = new int[tables][];
            for (int t = 0; t < tables; t++) {
                offs[t] = off;
                for (int r = 0; r < n; r++) {
                    ind[t][r] = index[r * tables + t];
                }
            }
            float[] labels = new float[n];
            for (int r = 0; r < n; r++) {
                labels[r] = rnd == null ? 0 : rnd.nextInt(4) == 0 ? 1 : 0;
            }
            return new Batch(n, x, labels, ind, offs);
        }

        Rows slice(int from, int count) {
            int tables = index.length / n;
            return new Rows(count, Arrays.copyOfRange(dense, from * DENSE, (from + count) * DENSE),
                    Arrays.copyOfRange(index, from * tables, (from + count) * tables));
        }
    }

    /**
     * Dictionaries over made-up raw values: feature t's value i (in order of first appearance) is
     * {@code hash(t, i)}; with minCount > 1 every second value is seen once only and goes to the
     * rare bucket.
     */
    static Dictionaries dictionaries(int[] distinct, int minCount) {
        Dictionaries d = new Dictionaries(distinct.length, 0, minCount);
        for (int t = 0; t < distinct.length; t++) {
            for (int i = 0; i < distinct[t]; i++) {
                int times = minCount > 1 && i % 2 == 1 ? 1 : minCount;
                for (int k = 0; k < times; k++) {
                    d.feature(t).add(hash(t, i));
                }
            }
        }
        d.finish();
        return d;
    }

    static int hash(int t, int i) {
        return (i * 0x9E3779B1) ^ (t * 0x85EBCA77) ^ 0x5bd1e995;
    }
}
