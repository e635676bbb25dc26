package org.ttrec.dlrm.model.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.layers.DenseEmbeddingBag;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.layers.Linear;
import org.ttrec.dlrm.layers.Mlp;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.tt.TtCacheConfig;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.TtShape;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Exports a {@link DlrmModel} to a safetensors file and imports one back (docs/safetensors.md):
 * MLP weights and biases, uncompressed tables, TT cores and the rows a TT table's hot-row cache
 * holds, with metadata (the model's configuration, every table's kind and TT shape) from which
 * ttrec, or a PyTorch user, rebuilds the model and scores rows.
 *
 * <p>Names follow facebookresearch/dlrm's {@code DLRM_Net} module names, where each MLP is an
 * {@code nn.Sequential} of Linear and activation modules (so Linear layer i is entry 2i):
 * <pre>
 * bot_l.{2i}.weight   F32 [out, in]   bottom MLP layer i, y = x W^T + b (nn.Linear's layout)
 * bot_l.{2i}.bias     F32 [out]
 * top_l.{2i}.weight   F32 [out, in]   top MLP layer i
 * top_l.{2i}.bias     F32 [out]
 * emb_l.{t}.weight    F32 [N, D]      uncompressed table t (nn.EmbeddingBag's layout)
 * emb_l.{t}.tt_cores.{k}  F32 [p_k, R_k, q_k, R_{k+1}]   core k of TT table t (docs/tt-layout.md)
 * emb_l.{t}.cache_rows    I64 [c]     the rows TT table t's hot-row cache holds, ascending
 * emb_l.{t}.cache_weight  F32 [c, D]  their values, which replace what the cores give for them
 * </pre>
 * Optimiser state, lookup counts and the cache's warm-up and refresh clocks are not exported: the
 * file holds what scoring needs, and resuming training is what checkpoints are for. An import
 * therefore leaves the tables without optimiser state.
 *
 * <p>Import is strict: every tensor the model needs must be there with its dtype and shape, no
 * other tensor may be, and every value must be finite and match its checksum (when the file
 * records one). The whole file is checked before the model changes.
 */
public final class DlrmSafetensors {
    /** Metadata key naming this layout. */
    public static final String LAYOUT_KEY = "ttrec.layout";
    /** The layout this class writes; a change of names or layouts changes it. */
    public static final String LAYOUT = "ttrec-dlrm-1";
    /** Metadata key of the model configuration (JSON, {@link ModelConfig}). */
    public static final String MODEL_KEY = "ttrec.model";
    /** Metadata key of the table list (JSON array: kind, rows, dim, pooling, TT shape, cached rows). */
    public static final String TABLES_KEY = "ttrec.tables";
    /** Metadata key stating the dense-feature transform the scorer must apply before the bottom MLP. */
    public static final String DENSE_TRANSFORM_KEY = "ttrec.dense_transform";
    /** Its value: dlrm's transform, computed in double and rounded to float. */
    public static final String DENSE_TRANSFORM = "log1p(max(x, 0))";
    /** Floats of an uncompressed table moved per read or write (whole rows, at least one). */
    private static final int CHUNK_FLOATS = 1 << 18;

    private DlrmSafetensors() {}

    // ------------------------------------------------------------------ names

    /**
     * @param layer 0-based Linear layer of the bottom MLP
     * @return the name of its weight
     */
    public static String bottomWeight(int layer) {
        return "bot_l." + 2 * layer + ".weight";
    }

    /**
     * @param layer 0-based Linear layer of the bottom MLP
     * @return the name of its bias
     */
    public static String bottomBias(int layer) {
        return "bot_l." + 2 * layer + ".bias";
    }

    /**
     * @param layer 0-based Linear layer of the top MLP
     * @return the name of its weight
     */
    public static String topWeight(int layer) {
        return "top_l." + 2 * layer + ".weight";
    }

    /**
     * @param layer 0-based Linear layer of the top MLP
     * @return the name of its bias
     */
    public static String topBias(int layer) {
        return "top_l." + 2 * layer + ".bias";
    }

    /**
     * @param table table index
     * @return the name of an uncompressed table's N x D weight
     */
    public static String tableWeight(int table) {
        return "emb_l." + table + ".weight";
    }

    /**
     * @param table table index
     * @param core  core index k
     * @return the name of a TT table's core k
     */
    public static String ttCore(int table, int core) {
        return "emb_l." + table + ".tt_cores." + core;
    }

    /**
     * @param table table index
     * @return the name of a TT table's cached row ids
     */
    public static String cacheRows(int table) {
        return "emb_l." + table + ".cache_rows";
    }

    /**
     * @param table table index
     * @return the name of a TT table's cached row values
     */
    public static String cacheWeight(int table) {
        return "emb_l." + table + ".cache_weight";
    }

    // ------------------------------------------------------------------ export

    /**
     * Writes the model to a safetensors file, atomically. Waits for a table update still running.
     *
     * @param model    the model (not trained meanwhile)
     * @param file     target file
     * @param metadata extra metadata entries, e.g. the ttrec version and the checkpoint exported
     *                 (may be null; may not use this class's keys)
     * @throws IOException              if writing fails (the target is then untouched)
     * @throws IllegalArgumentException if a table is of a kind this layout has no names for
     */
    public static void export(DlrmModel model, Path file, Map<String, String> metadata) throws IOException {
        List<EmbeddingBagLayer> tables = model.tables();
        float[] params = model.parameters().toArray();
        SafetensorsWriter w = new SafetensorsWriter();
        w.metadata("format", "pt"); // what torch-saved safetensors files carry; some loaders check it
        w.metadata(LAYOUT_KEY, LAYOUT);
        w.metadata(MODEL_KEY, configJson(model.config()));
        w.metadata(TABLES_KEY, tablesJson(tables));
        w.metadata(DENSE_TRANSFORM_KEY, DENSE_TRANSFORM);
        if (metadata != null) {
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (Set.of("format", LAYOUT_KEY, MODEL_KEY, TABLES_KEY, DENSE_TRANSFORM_KEY).contains(e.getKey())) {
                    throw new IllegalArgumentException("metadata key " + e.getKey() + " is written by the export itself");
                }
                w.metadata(e.getKey(), e.getValue());
            }
        }
        addMlp(w, model.bottomMlp(), params, true);
        addMlp(w, model.topMlp(), params, false);
        for (int t = 0; t < tables.size(); t++) {
            EmbeddingBagLayer l = tables.get(t);
            if (l instanceof DenseEmbeddingBag d) {
                int rows = d.rows(), dim = d.dim();
                w.add(tableWeight(t), Dtype.F32, new long[] {rows, dim}, sink -> {
                    int chunkRows = Math.max(1, CHUNK_FLOATS / dim);
                    float[] chunk = new float[Math.min(rows, chunkRows) * dim];
                    for (int r = 0; r < rows; r += chunkRows) {
                        int n = Math.min(chunkRows, rows - r);
                        d.table().readRows(r, chunk, 0, n);
                        sink.floats(chunk, 0, n * dim);
                    }
                });
            } else if (l instanceof TtEmbeddingBag tt) {
                TtShape s = tt.shape();
                for (int k = 0; k < s.cores(); k++) {
                    float[] core = tt.table().readCore(k);
                    w.add(ttCore(t, k), Dtype.F32, new long[] {s.p(k), s.rank(k), s.q(k), s.rank(k + 1)},
                            sink -> sink.floats(core, 0, core.length));
                }
                int[] cached = tt.cachedRows();
                if (cached.length > 0) {
                    // cached rows trained apart from the cores: their values are part of the model
                    long[] ids = Arrays.stream(cached).asLongStream().toArray();
                    float[] values = tt.materialize(cached);
                    w.add(cacheRows(t), Dtype.I64, new long[] {ids.length}, sink -> sink.longs(ids, 0, ids.length));
                    w.add(cacheWeight(t), Dtype.F32, new long[] {ids.length, s.dim()},
                            sink -> sink.floats(values, 0, values.length));
                }
            } else {
                throw new IllegalArgumentException(l.name() + ": a " + l.getClass().getSimpleName()
                        + " cannot be exported to safetensors (only uncompressed and TT tables have names there)");
            }
        }
        w.write(file);
    }

    private static void addMlp(SafetensorsWriter w, Mlp mlp, float[] params, boolean bottom) {
        Linear[] layers = mlp.layers();
        for (int i = 0; i < layers.length; i++) {
            Linear l = layers[i];
            w.add(bottom ? bottomWeight(i) : topWeight(i), Dtype.F32, new long[] {l.out(), l.in()},
                    sink -> sink.floats(params, l.weightOffset(), l.out() * l.in()));
            w.add(bottom ? bottomBias(i) : topBias(i), Dtype.F32, new long[] {l.out()},
                    sink -> sink.floats(params, l.biasOffset(), l.out()));
        }
    }

    private static String configJson(ModelConfig c) throws JsonProcessingException {
        return RunConfig.mapper().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(c);
    }

    private static String tablesJson(List<EmbeddingBagLayer> tables) throws JsonProcessingException {
        ObjectMapper json = new ObjectMapper();
        ArrayNode a = json.createArrayNode();
        for (int t = 0; t < tables.size(); t++) {
            EmbeddingBagLayer l = tables.get(t);
            ObjectNode o = a.addObject();
            o.put("index", t);
            o.put("name", l.name());
            o.put("kind", l instanceof TtEmbeddingBag ? "tt" : "dense");
            o.put("rows", l.rows());
            o.put("dim", l.dim());
            o.put("pooling", l.pooling().name().toLowerCase(Locale.ROOT));
            if (l instanceof TtEmbeddingBag tt) {
                TtShape s = tt.shape();
                ArrayNode p = o.putArray("p"), q = o.putArray("q"), r = o.putArray("ranks");
                Arrays.stream(s.p()).forEach(p::add);
                Arrays.stream(s.q()).forEach(q::add);
                Arrays.stream(s.ranks()).forEach(r::add);
                o.put("cachedRows", tt.cachedRows().length);
            }
        }
        return json.writeValueAsString(a);
    }

    // ------------------------------------------------------------------ import

    /** One tensor the model needs, with what it must look like. */
    private record Need(String name, Dtype dtype, long[] shape, String what) {}

    /**
     * Loads a file into a model built from the same configuration (same MLP widths, same table
     * kinds and shapes, a hot-row cache wherever the file has cached rows). Everything is checked
     * before the model changes; the tables' optimiser state is cleared.
     *
     * @param file  a file written by {@link #export} (or with the same names and layouts)
     * @param model the model to overwrite
     * @throws SafetensorsFormatException naming the tensor: missing, extra, wrong dtype or shape,
     *                                    a non-finite value, a checksum mismatch, bad cached rows;
     *                                    or a file that is not well-formed (see {@link SafetensorsReader})
     * @throws IOException                if the file cannot be read
     * @throws IllegalArgumentException   if the model has a table of a kind this layout has no names for
     */
    public static void importInto(Path file, DlrmModel model) throws IOException {
        List<EmbeddingBagLayer> tables = model.tables();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            checkMetadata(r, model, tables);
            List<Need> needs = new ArrayList<>();
            needMlp(needs, model.bottomMlp(), true);
            needMlp(needs, model.topMlp(), false);
            for (int t = 0; t < tables.size(); t++) {
                EmbeddingBagLayer l = tables.get(t);
                if (l instanceof TtEmbeddingBag tt) {
                    TtShape s = tt.shape();
                    for (int k = 0; k < s.cores(); k++) {
                        needs.add(new Need(ttCore(t, k), Dtype.F32, new long[] {s.p(k), s.rank(k), s.q(k), s.rank(k + 1)},
                                l.name() + " is TT with p=" + Arrays.toString(s.p()) + " q=" + Arrays.toString(s.q())
                                        + " ranks=" + Arrays.toString(s.ranks())));
                    }
                } else if (l instanceof DenseEmbeddingBag) {
                    needs.add(new Need(tableWeight(t), Dtype.F32, new long[] {l.rows(), l.dim()},
                            l.name() + " is an uncompressed " + l.rows() + " x " + l.dim() + " table"));
                } else {
                    throw new IllegalArgumentException(l.name() + ": a " + l.getClass().getSimpleName()
                            + " cannot be loaded from safetensors (only uncompressed and TT tables have names there)");
                }
            }
            Set<String> used = new LinkedHashSet<>();
            for (Need n : needs) {
                check(r, n);
                used.add(n.name());
            }
            Map<Integer, TensorInfo[]> caches = new LinkedHashMap<>();
            for (int t = 0; t < tables.size(); t++) {
                if (tables.get(t) instanceof TtEmbeddingBag tt) {
                    TensorInfo[] c = cacheTensors(r, t, tt);
                    if (c != null) {
                        caches.put(t, c);
                        used.add(c[0].name());
                        used.add(c[1].name());
                    }
                }
            }
            for (String name : r.tensors().keySet()) {
                if (!used.contains(name)) {
                    throw fail(r, name, "tensor " + name + " " + r.tensor(name).dtype() + " "
                            + TensorInfo.format(r.tensor(name).shape()) + " has no place in this model"
                            + hint(name, tables.size()));
                }
            }
            for (String name : used) {
                r.verify(r.tensor(name), true);
            }
            Map<Integer, int[]> cacheIds = new LinkedHashMap<>();
            for (Map.Entry<Integer, TensorInfo[]> e : caches.entrySet()) {
                cacheIds.put(e.getKey(), cachedIds(r, e.getValue()[0], tables.get(e.getKey()).rows()));
            }
            float[] params = new float[model.denseParameterCount()];
            readMlp(r, model.bottomMlp(), params, true);
            readMlp(r, model.topMlp(), params, false);
            // checked in whole: from here on only an I/O error can stop the load
            model.parameters().write(params);
            for (int t = 0; t < tables.size(); t++) {
                EmbeddingBagLayer l = tables.get(t);
                if (l instanceof TtEmbeddingBag tt) {
                    for (int k = 0; k < tt.shape().cores(); k++) {
                        tt.table().writeCore(k, r.readFloats(r.tensor(ttCore(t, k))));
                    }
                    tt.table().writeStates(null, null);
                    if (tt.cacheCapacity() > 0) {
                        int[] ids = cacheIds.get(t);
                        tt.restoreCache(ids, ids == null ? null : r.readFloats(caches.get(t)[1]));
                    }
                } else {
                    readDense(r, r.tensor(tableWeight(t)), (DenseEmbeddingBag) l);
                }
            }
        }
    }

    private static void checkMetadata(SafetensorsReader r, DlrmModel model, List<EmbeddingBagLayer> tables)
            throws IOException {
        String mc = r.metadata().get(MODEL_KEY);
        if (mc != null) {
            ModelConfig fc = parseConfig(r, mc);
            ModelConfig c = model.config();
            String diff = !fc.interaction.equals(c.interaction) ? "interaction " + fc.interaction + " vs " + c.interaction
                    : fc.selfInteraction != c.selfInteraction ? "selfInteraction " + fc.selfInteraction + " vs " + c.selfInteraction
                    : !fc.pooling.equals(c.pooling) ? "pooling " + fc.pooling + " vs " + c.pooling
                    : fc.denseFeatures != c.denseFeatures ? "denseFeatures " + fc.denseFeatures + " vs " + c.denseFeatures
                    : null;
            if (diff != null) {
                throw fail(r, null, "the file was exported from a model with another architecture than this one (" + diff
                        + ", file vs model)");
            }
        }
        String tj = r.metadata().get(TABLES_KEY);
        if (tj != null) {
            JsonNode a = parseTables(r, tj);
            if (a.size() != tables.size()) {
                throw fail(r, null, "the file holds " + a.size() + " tables, this model has " + tables.size());
            }
            for (int t = 0; t < tables.size(); t++) {
                EmbeddingBagLayer l = tables.get(t);
                String kind = l instanceof TtEmbeddingBag ? "tt" : "dense";
                JsonNode o = a.get(t);
                if (!kind.equals(o.path("kind").asText()) || o.path("rows").asLong(-1) != l.rows()) {
                    throw fail(r, null, "table " + t + " in the file is " + o.path("kind").asText("?") + " with "
                            + o.path("rows").asText("?") + " rows, this model's is " + kind + " with " + l.rows()
                            + " rows (build the model from the file's configuration)");
                }
            }
        }
    }

    private static String hint(String name, int tables) {
        if (name.matches("emb_l\\.\\d{1,9}\\.(weight|tt_cores\\.\\d+)")) {
            int t = Integer.parseInt(name.split("\\.")[1]);
            if (t < tables) {
                return " (the file's table " + t + " is of another kind than this model's)";
            }
        }
        if (name.endsWith(".cache_rows") || name.endsWith(".cache_weight")) {
            return " (cached rows need the other cache tensor too)";
        }
        return "";
    }

    private static void needMlp(List<Need> needs, Mlp mlp, boolean bottom) {
        Linear[] layers = mlp.layers();
        String which = bottom ? "bottom" : "top";
        for (int i = 0; i < layers.length; i++) {
            Linear l = layers[i];
            needs.add(new Need(bottom ? bottomWeight(i) : topWeight(i), Dtype.F32, new long[] {l.out(), l.in()},
                    which + " MLP layer " + i + " is " + l.in() + " -> " + l.out()));
            needs.add(new Need(bottom ? bottomBias(i) : topBias(i), Dtype.F32, new long[] {l.out()},
                    which + " MLP layer " + i + " is " + l.in() + " -> " + l.out()));
        }
    }

    private static TensorInfo check(SafetensorsReader r, Need n) throws SafetensorsFormatException {
        TensorInfo t = r.tensor(n.name());
        if (t == null) {
            throw fail(r, n.name(), "missing tensor " + n.name() + " (" + n.dtype() + " " + TensorInfo.format(n.shape())
                    + "; " + n.what() + ")");
        }
        if (t.dtype() != n.dtype()) {
            throw fail(r, n.name(), "tensor " + n.name() + " has dtype " + t.dtype() + ", this model needs " + n.dtype());
        }
        if (!Arrays.equals(t.shape(), n.shape())) {
            throw fail(r, n.name(), "tensor " + n.name() + " has shape " + TensorInfo.format(t.shape())
                    + ", this model needs " + TensorInfo.format(n.shape()) + " (" + n.what() + ")");
        }
        return t;
    }

    /** @return the cache tensors of TT table t (ids, values), or null when the file caches no row of it */
    private static TensorInfo[] cacheTensors(SafetensorsReader r, int t, TtEmbeddingBag tt) throws SafetensorsFormatException {
        TensorInfo ids = r.tensor(cacheRows(t)), values = r.tensor(cacheWeight(t));
        if (ids == null && values == null) {
            return null;
        }
        if (ids == null || values == null) {
            String has = ids == null ? cacheWeight(t) : cacheRows(t), lacks = ids == null ? cacheRows(t) : cacheWeight(t);
            throw fail(r, lacks, "the file has " + has + " but no " + lacks + ": cached rows need both");
        }
        long[] s = ids.shape();
        if (ids.dtype() != Dtype.I64 || s.length != 1) {
            throw fail(r, ids.name(), "tensor " + ids.name() + " is " + ids.dtype() + " " + TensorInfo.format(s)
                    + ", expected I64 [rows cached]");
        }
        long k = s[0];
        check(r, new Need(values.name(), Dtype.F32, new long[] {k, tt.dim()},
                tt.name() + " caches " + k + " rows of " + tt.dim() + " values"));
        if (k > tt.cacheCapacity()) {
            throw fail(r, ids.name(), "tensor " + ids.name() + " holds " + k + " cached rows, but this model's "
                    + tt.name() + (tt.cacheCapacity() == 0 ? " has no hot-row cache (model.tt.cacheFraction)"
                    : " caches at most " + tt.cacheCapacity()));
        }
        return new TensorInfo[] {ids, values};
    }

    private static int[] cachedIds(SafetensorsReader r, TensorInfo t, int rows) throws IOException {
        long[] v = r.readLongs(t);
        int[] ids = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] < 0 || v[i] >= rows || (i > 0 && v[i] <= v[i - 1])) {
                throw fail(r, t.name(), "tensor " + t.name() + ": row " + v[i] + " at position " + i
                        + " is out of range [0, " + rows + ") or not above the one before (ids must ascend)");
            }
            ids[i] = (int) v[i];
        }
        return ids;
    }

    private static void readMlp(SafetensorsReader r, Mlp mlp, float[] params, boolean bottom) throws IOException {
        Linear[] layers = mlp.layers();
        for (int i = 0; i < layers.length; i++) {
            Linear l = layers[i];
            r.readFloats(r.tensor(bottom ? bottomWeight(i) : topWeight(i)), 0, params, l.weightOffset(), l.out() * l.in());
            r.readFloats(r.tensor(bottom ? bottomBias(i) : topBias(i)), 0, params, l.biasOffset(), l.out());
        }
    }

    private static void readDense(SafetensorsReader r, TensorInfo t, DenseEmbeddingBag d) throws IOException {
        int rows = d.rows(), dim = d.dim();
        int chunkRows = Math.max(1, CHUNK_FLOATS / dim);
        float[] chunk = new float[Math.min(rows, chunkRows) * dim];
        for (int row = 0; row < rows; row += chunkRows) {
            int n = Math.min(chunkRows, rows - row);
            r.readFloats(t, (long) row * dim, chunk, 0, n * dim);
            d.table().writeRows(row, chunk, 0, n);
        }
        d.table().writeState(null, null);
    }

    // ------------------------------------------------------------------ building from a file

    /**
     * Reads the model configuration a file was exported with.
     *
     * @param file a file written by {@link #export}
     * @return its configuration
     * @throws IOException if the file is not well-formed or has no ttrec configuration
     */
    public static ModelConfig readConfig(Path file) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return parseConfig(r, required(r, MODEL_KEY));
        }
    }

    /**
     * Builds a model from a file alone: the configuration and the table kinds and TT shapes come
     * from its metadata, the parameters from its tensors ({@link #importInto}).
     *
     * @param be   backend for the model
     * @param file a file written by {@link #export}
     * @return the model (the caller closes it)
     * @throws IOException if the file is not well-formed, lacks ttrec's metadata or does not match it
     */
    public static DlrmModel load(ComputeBackend be, Path file) throws IOException {
        ModelConfig c;
        JsonNode a;
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            c = parseConfig(r, required(r, MODEL_KEY));
            a = parseTables(r, required(r, TABLES_KEY));
            try {
                c.validate();
            } catch (IllegalArgumentException e) {
                throw fail(r, null, "metadata " + MODEL_KEY + " is not a valid model: " + e.getMessage());
            }
            if (a.size() != c.tableRows.length) {
                throw fail(r, null, "metadata lists " + a.size() + " tables, its configuration " + c.tableRows.length);
            }
        }
        List<EmbeddingTableSpec> specs = specs(file, c, a);
        checkTableTensors(file, specs);
        DlrmModel m = DlrmModel.build(be, c, specs, 0L);
        try {
            importInto(file, m);
            return m;
        } catch (IOException | RuntimeException | Error e) {
            m.close();
            throw e;
        }
    }

    private static List<EmbeddingTableSpec> specs(Path file, ModelConfig c, JsonNode a) throws SafetensorsFormatException {
        List<EmbeddingTableSpec> specs = new ArrayList<>();
        int[] rows = c.effectiveRows();
        Pooling pooling = c.pooling.equals("mean") ? Pooling.MEAN : Pooling.SUM;
        for (int t = 0; t < a.size(); t++) {
            JsonNode o = a.get(t);
            String name = o.path("name").asText("table " + t);
            try {
                if (o.path("rows").asLong(-1) != rows[t] || o.path("dim").asInt(-1) != c.embeddingDim) {
                    throw new IllegalArgumentException("metadata gives " + o.path("rows") + " x " + o.path("dim")
                            + ", the configuration " + rows[t] + " x " + c.embeddingDim);
                }
                switch (o.path("kind").asText()) {
                    case "dense" -> specs.add(new EmbeddingTableSpec(t, name, rows[t], c.embeddingDim, pooling,
                            EmbeddingTableSpec.Kind.DENSE, null, null, 0, 0, 0));
                    case "tt" -> {
                        TtShape s = new TtShape(rows[t], c.embeddingDim, ints(o.path("p")), ints(o.path("q")),
                                ints(o.path("ranks")));
                        // as TableFactory sizes the cache, but never below what the file caches
                        int cache = TtCacheConfig.rowsOf(c.tt.cacheFraction, rows[t]);
                        cache = Math.max(cache, o.path("cachedRows").asInt(0));
                        specs.add(new EmbeddingTableSpec(t, name, rows[t], c.embeddingDim, pooling,
                                EmbeddingTableSpec.Kind.TT, s, c.tt.init, cache, c.tt.cacheWarmupSteps,
                                c.tt.cacheRefreshSteps));
                    }
                    default -> throw new IllegalArgumentException("unknown kind '" + o.path("kind").asText() + "'");
                }
            } catch (IllegalArgumentException e) {
                throw new SafetensorsFormatException(null, file + ": metadata " + TABLES_KEY + ", " + name + ": "
                        + e.getMessage(), e);
            }
        }
        return specs;
    }

    /**
     * Checks the table tensors against the metadata's tables before any table is allocated, so a
     * damaged row count in the metadata (which no checksum covers) is an error, not a huge allocation.
     */
    private static void checkTableTensors(Path file, List<EmbeddingTableSpec> specs) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (EmbeddingTableSpec s : specs) {
                int t = s.index();
                if (s.kind() == EmbeddingTableSpec.Kind.DENSE) {
                    check(r, new Need(tableWeight(t), Dtype.F32, new long[] {s.rows(), s.dim()},
                            "metadata " + TABLES_KEY + " makes " + s.name() + " an uncompressed " + s.rows() + " x "
                                    + s.dim() + " table"));
                } else {
                    TtShape sh = s.ttShape();
                    for (int k = 0; k < sh.cores(); k++) {
                        check(r, new Need(ttCore(t, k), Dtype.F32, new long[] {sh.p(k), sh.rank(k), sh.q(k),
                            sh.rank(k + 1)}, "metadata " + TABLES_KEY + " gives " + s.name() + " TT shape " + sh));
                    }
                }
            }
        }
    }

    private static int[] ints(JsonNode a) {
        if (!a.isArray()) {
            throw new IllegalArgumentException("TT shape field " + a + " is not an array");
        }
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            if (!a.get(i).canConvertToInt()) {
                throw new IllegalArgumentException("TT shape field " + a + " holds " + a.get(i));
            }
            v[i] = a.get(i).intValue();
        }
        return v;
    }

    private static String required(SafetensorsReader r, String key) throws SafetensorsFormatException {
        String v = r.metadata().get(key);
        if (v == null) {
            throw fail(r, null, "the file has no metadata " + key + ": it was not exported by ttrec. Build the model from its "
                    + "configuration and load the tensors with DlrmSafetensors.importInto");
        }
        return v;
    }

    private static ModelConfig parseConfig(SafetensorsReader r, String json) throws SafetensorsFormatException {
        try {
            return RunConfig.mapper().readValue(json, ModelConfig.class);
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(null, r.file() + ": metadata " + MODEL_KEY + " is not a model configuration: "
                    + e.getOriginalMessage(), e);
        }
    }

    private static JsonNode parseTables(SafetensorsReader r, String json) throws SafetensorsFormatException {
        JsonNode a;
        try {
            a = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(null, r.file() + ": metadata " + TABLES_KEY + " is not JSON: "
                    + e.getOriginalMessage(), e);
        }
        if (a == null || !a.isArray()) {
            throw fail(r, null, "metadata " + TABLES_KEY + " is not a JSON array");
        }
        return a;
    }

    private static SafetensorsFormatException fail(SafetensorsReader r, String tensor, String what) {
        return new SafetensorsFormatException(tensor, r.file() + ": " + what);
    }
}
