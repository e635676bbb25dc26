package org.ttrec.dlrm.score;

import com.fasterxml.jackson.databind.JsonNode;
import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.layers.DenseEmbeddingBag;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.TtShape;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One caller's private copy of a loaded model: its own backend, parameters, activation buffers and
 * input arrays, so a {@code predict} on it shares nothing mutable with any other. The layers own
 * their activations, so one {@link DlrmModel} cannot serve two calls at once; a replica per
 * concurrent caller is the simplest design that is both lock-free and bit-exact (the same kernels
 * on the same parameters, whichever replica runs a row). Its cost is one copy of the parameters:
 * a few tens of MB for a TT model (the Kaggle-shaped one holds about 6M floats), but a full copy of
 * every uncompressed table otherwise.
 */
final class Replica implements AutoCloseable {
    /** Nulled by {@link #close()}: a thread's {@link ThreadLocal} may keep this shell after the model is closed. */
    private ComputeBackend backend;
    private DlrmModel model;
    /** The platform thread that keeps this replica as its own, or null while it is in the shared pool. */
    final AtomicReference<Thread> owner = new AtomicReference<>();
    private final int denseFeatures;
    private final int tables;
    private int capacity;
    float[] dense = new float[0];
    private float[] labels = new float[0];
    int[][] indices;
    int[][] offsets;

    Replica(ComputeBackend backend, ModelImage image, ModelConfig config) throws IOException {
        this.backend = backend;
        this.denseFeatures = config.denseFeatures;
        JsonNode tablesNode = image.root().path("model").path("tables");
        this.tables = tablesNode.size();
        List<EmbeddingBagLayer> layers = new ArrayList<>();
        try {
            for (int i = 0; i < tables; i++) {
                layers.add(layer(backend.tableBackend(), image, i, tablesNode.get(i)));
            }
            float[] mlp = image.floats("mlp", image.root().path("model").path("mlpParameters").asLong(-1));
            this.model = new DlrmModel(backend, config, layers, mlp);
        } catch (IOException | RuntimeException | Error e) {
            layers.forEach(EmbeddingBagLayer::close);
            throw e;
        }
        indices = new int[tables][0];
        offsets = new int[tables][1];
    }

    /** Builds table i of a model file on a backend: its trained state, nothing drawn at random. */
    static EmbeddingBagLayer layer(ComputeBackend be, ModelImage image, int i, JsonNode t) throws IOException {
        String name = t.path("name").asText("table " + i);
        int rows = t.path("rows").asInt();
        int dim = t.path("dim").asInt();
        Pooling pooling;
        try {
            pooling = Pooling.valueOf(t.path("pooling").asText());
        } catch (IllegalArgumentException e) {
            throw new IOException("model file " + image.file() + ": " + name + " has unknown pooling '"
                    + t.path("pooling").asText() + "'");
        }
        String prefix = "table " + i;
        switch (t.path("kind").asText()) {
            case "TT" -> {
                TtShape shape;
                try {
                    shape = new TtShape(rows, dim, ints(t.path("p")), ints(t.path("q")), ints(t.path("ranks")));
                } catch (IllegalArgumentException e) {
                    throw new IOException("model file " + image.file() + ": " + name + " has an impossible TT shape: "
                            + e.getMessage(), e);
                }
                float[][] cores = new float[shape.cores()][];
                for (int k = 0; k < cores.length; k++) {
                    cores[k] = image.floats(prefix + " core " + k, shape.coreSize(k));
                }
                int cached = t.path("cacheRows").asInt(-1);
                int[] cacheRows = cached < 0 ? null : image.ints(prefix + " cache rows");
                float[] cacheValues = cached < 0 ? null : image.floats(prefix + " cache values", (long) cached * dim);
                if (cacheRows != null && cacheRows.length != cached) {
                    throw new IOException("model file " + image.file() + ": " + name + " lists " + cacheRows.length
                            + " cached rows, its description says " + cached);
                }
                return TtEmbeddingBag.forInference(name, be, shape, pooling, cores, cacheRows, cacheValues);
            }
            case "DENSE" -> {
                String sec = prefix + " rows";
                if (rows < 1 || dim < 1) {
                    throw new IOException("model file " + image.file() + ": " + name + " is " + rows + " x " + dim);
                }
                // fails here, not inside the layer, if the section is missing or of another size
                image.require(sec, "f32", (long) rows * dim);
                return new DenseEmbeddingBag(be, name, rows, dim, pooling, (first, count, dst) -> {
                    try {
                        image.floats(sec, (long) first * dim, dst, count * dim);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            default -> throw new IOException("model file " + image.file() + ": " + name + " has unknown kind '"
                    + t.path("kind").asText() + "'");
        }
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    /** Grows the input arrays to {@code rows} rows of one lookup per table (no-op when large enough). */
    void ensureCapacity(int rows) {
        if (rows <= capacity) {
            return;
        }
        int n = Math.max(rows, capacity + (capacity >> 1));
        dense = new float[n * denseFeatures];
        labels = new float[n];
        for (int t = 0; t < tables; t++) {
            indices[t] = new int[n];
            offsets[t] = new int[n + 1];
        }
        model.ensureCapacity(n);
        capacity = n;
    }

    /**
     * Runs the model on the first {@code rows} rows of the input arrays.
     *
     * @return the model's probability array (reused by the next call)
     */
    float[] run(int rows) {
        return model.predict(new Batch(rows, dense, labels, indices, offsets));
    }

    /**
     * Releases the model and its backend, and drops every array, so that what a thread's
     * {@link ThreadLocal} may still hold after the scoring model is closed is a small shell.
     */
    @Override
    public void close() {
        try {
            model.close();
        } finally {
            backend.close();
            model = null;
            backend = null;
            dense = null;
            indices = null;
            offsets = null;
            labels = null;
        }
    }
}
