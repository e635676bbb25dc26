package org.ttrec.dlrm.score;

import com.fasterxml.jackson.databind.JsonNode;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.TtShape;

import java.io.IOException;

/**
 * One embedding table on its own: build a TT table, or take a trained model's table, and look up
 * rows and bags (EmbeddingBag: the rows of each bag pooled by sum or mean, docs/tt-layout.md). A TT
 * table is never materialised: each lookup runs the core chain for the rows it needs.
 *
 * <p>An instance owns a backend of one kernel thread and its lookup buffers, so it serves one
 * thread at a time; for concurrent lookups make one per thread (a TT table is megabytes at most).
 * Lookups outside {@code [0, rows())} are an {@link IllegalArgumentException} naming the table, the
 * position and the value.
 */
public final class EmbeddingTable implements AutoCloseable {
    private final ComputeBackend be;
    private final EmbeddingBagLayer layer;
    private FloatBuf out;

    private EmbeddingTable(ComputeBackend be, EmbeddingBagLayer layer) {
        this.be = be;
        this.layer = layer;
    }

    /**
     * A new TT table with suggested factors (docs/tt-layout.md), one rank between all cores, the
     * variance-matched sampled-Gaussian initialisation (docs/tt-init.md) and sum pooling, on the
     * best available CPU backend.
     *
     * @param rows  N
     * @param dim   D
     * @param cores d >= 2
     * @param rank  R
     * @param seed  initialisation seed
     * @return the table
     */
    public static EmbeddingTable tt(int rows, int dim, int cores, int rank, long seed) {
        ComputeBackend be = backend();
        try {
            return new EmbeddingTable(be, TtEmbeddingBag.create("TT " + rows + "x" + dim, be, rows, dim, cores, rank,
                    Pooling.SUM, seed));
        } catch (RuntimeException | Error e) {
            be.close();
            throw e;
        }
    }

    /**
     * A TT table with given shape and cores, e.g. cores trained elsewhere.
     *
     * @param rows  N
     * @param p     row factors (prod >= N)
     * @param q     column factors (prod = D)
     * @param ranks R_0 = 1, ..., R_d = 1
     * @param cores one array per core, p_k x R_{k-1} x q_k x R_k floats (docs/tt-layout.md)
     * @param mean  whether bags are pooled by mean (else sum)
     * @return the table
     */
    public static EmbeddingTable tt(int rows, int[] p, int[] q, int[] ranks, float[][] cores, boolean mean) {
        int dim = 1;
        for (int x : q) {
            dim *= x;
        }
        TtShape shape = new TtShape(rows, dim, p.clone(), q.clone(), ranks.clone());
        ComputeBackend be = backend();
        try {
            return new EmbeddingTable(be, TtEmbeddingBag.forInference("TT " + rows + "x" + dim, be, shape,
                    mean ? Pooling.MEAN : Pooling.SUM, cores, null, null));
        } catch (RuntimeException | Error e) {
            be.close();
            throw e;
        }
    }

    /**
     * A private copy of a loaded model's table (TT cores and hot-row cache, or uncompressed rows):
     * lookups give exactly the rows the model's own lookups pool.
     *
     * @param model a loaded model
     * @param table the categorical feature, 0-based
     * @return the table
     * @throws IOException if the model file cannot be read
     */
    public static EmbeddingTable of(ScoringModel model, int table) throws IOException {
        ModelImage image = model.image();
        JsonNode tables = image.root().path("model").path("tables");
        if (table < 0 || table >= tables.size()) {
            throw new IllegalArgumentException("table " + table + " outside [0, " + tables.size() + ")");
        }
        ComputeBackend be = backend();
        try {
            return new EmbeddingTable(be, Replica.layer(be, image, table, tables.get(table)));
        } catch (IOException | RuntimeException | Error e) {
            be.close();
            throw e;
        }
    }

    private static ComputeBackend backend() {
        return Backends.create("auto", 1);
    }

    /** @return N, the number of rows */
    public int rows() {
        return layer.rows();
    }

    /** @return D, the embedding dimension */
    public int dim() {
        return layer.dim();
    }

    /** @return whether the table is TT-compressed */
    public boolean compressed() {
        return layer instanceof TtEmbeddingBag;
    }

    /** @return parameters held (cores and cache rows, or N x D) */
    public long parameterCount() {
        return layer.parameterCount();
    }

    /** @return one line: kind, shape, compression */
    public String describe() {
        return layer.describe();
    }

    /**
     * @param i a row
     * @return its D values
     */
    public float[] row(int i) {
        return rows(i);
    }

    /**
     * @param ids rows
     * @return {@code ids.length x D} values, row-major
     */
    public float[] rows(int... ids) {
        for (int j = 0; j < ids.length; j++) {
            if (ids[j] < 0 || ids[j] >= rows()) {
                throw new IllegalArgumentException(layer.name() + ": row " + ids[j] + " at position " + j + " outside [0, "
                        + rows() + ")");
            }
        }
        return layer.materialize(ids);
    }

    /**
     * Pools bags of rows (EmbeddingBag): bag b holds {@code indices[offsets[b] .. offsets[b+1])};
     * an empty bag gives zeros.
     *
     * @param indices the rows looked up
     * @param offsets B + 1 increasing offsets into {@code indices}, the first 0
     * @return {@code B x D} pooled values, row-major
     */
    public float[] bags(int[] indices, int[] offsets) {
        int b = offsets.length - 1;
        if (b < 1) {
            throw new IllegalArgumentException("offsets must hold at least 2 entries (one bag), got " + offsets.length);
        }
        int need = b * dim();
        if (out == null || out.length() < need) {
            if (out != null) {
                out.close();
            }
            out = be.allocFloats(need);
        }
        layer.forward(indices, offsets, b, null, out, 0, dim());
        float[] r = new float[need];
        out.read(0, r, 0, need);
        return r;
    }

    /** Releases the table and its backend. */
    @Override
    public void close() {
        try {
            layer.close();
            if (out != null) {
                out.close();
            }
        } finally {
            be.close();
        }
    }
}
