package org.ttrec.dlrm.score;

import com.fasterxml.jackson.databind.JsonNode;
import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.data.DenseTransform;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.io.FileMagic;
import org.ttrec.engine.BackendProvider;
import org.ttrec.engine.Backends;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A trained DLRM loaded for scoring: click probabilities of rows given as dense features and
 * categorical values (raw 32-bit Criteo values mapped through the model's dictionaries, or table
 * indices), transformed and mapped exactly as training did.
 *
 * <pre>{@code
 * try (ScoringModel m = ScoringModel.load(Path.of("model.ttrm"))) {
 *     float p = m.predict(dense, categorical, CategoricalEncoding.RAW_HASH);
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> Any number of threads may call {@code predict} on one instance at once. Each
 * call runs on a replica of the model that no other call uses meanwhile: a platform thread keeps
 * one replica as its own (a {@link ThreadLocal}; the cpu backend's per-thread GEMM scratch then also
 * stays one per thread), and virtual threads, which are many and short-lived, borrow one from a
 * lock-free pool ({@link ConcurrentLinkedDeque}). No lock is taken on the way; a replica is built
 * only when none is free (the first call of a thread, or more concurrent virtual threads than
 * ever before), and the replica of a platform thread that has ended goes back to the pool. So
 * there are as many replicas as threads have called concurrently; each holds a copy of the
 * parameters (see {@link #replicaBytes()}): cheap for TT models, a full copy of every
 * uncompressed table otherwise. Call from a bounded set of threads (a fixed pool, or virtual
 * threads gated by a semaphore). Every replica runs the same kernels on the same parameters with
 * one kernel thread (by default), so a row's score does not depend on which thread computed it.
 * For throughput, score on platform threads: the cpu backend keeps its GEMM scratch (a few MB) per
 * calling thread, so a call on a fresh virtual thread also allocates fresh scratch ({@code ttrec
 * serve} parses requests on virtual threads and scores them on a fixed pool of platform threads).
 *
 * <p>A design that shares one copy of the weights between threads would need backend buffers that
 * wrap the read-only mapping of the model file and layers whose forward pass takes its activation
 * buffers from the caller instead of owning them; the engine's layers own theirs today.
 *
 * <p><b>Files.</b> {@link #load} takes a model file ({@code .ttrm}, docs/model-file.md), which is
 * memory-mapped and checked (every section's CRC32C) and from which replicas copy their parameters
 * without parsing; a checkpoint or a run folder is first converted to a model file in the temporary
 * folder, which is mapped and deleted at once.
 */
public final class ScoringModel implements AutoCloseable {
    private final ModelImage image;
    private final ModelConfig config;
    private final ModelInfo info;
    private final BackendProvider provider;
    private final ScoringOptions options;
    private final Dictionaries dictionaries;
    private final int dense;
    private final int tables;
    private final int[] rows;
    /** Per feature: the index an unseen raw value takes, or -1 for an empty bag. */
    private final int[] unseenIndex;
    private final ThreadLocal<Replica> own = new ThreadLocal<>();
    private final ConcurrentLinkedDeque<Replica> idle = new ConcurrentLinkedDeque<>();
    private final ConcurrentLinkedQueue<Replica> all = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    private ScoringModel(ModelImage image, ScoringOptions options, Dictionaries override, BackendProvider provider)
            throws IOException {
        this.image = image;
        this.options = options;
        this.config = image.config().model;
        config.validate();
        this.dense = config.denseFeatures;
        this.tables = config.tableRows.length;
        this.info = describe(image);
        this.rows = info.tableRows();
        if (!java.util.Arrays.equals(rows, config.effectiveRows())) {
            throw new IOException("model file " + image.file() + " describes tables of " + java.util.Arrays.toString(rows)
                    + " rows, its configuration " + java.util.Arrays.toString(config.effectiveRows()));
        }
        this.dictionaries = override != null ? override : image.dictionaries();
        if (dictionaries != null) {
            ModelFileWriter.checkDictionaries(override != null ? String.valueOf(options.dictionaries())
                    : image.file() + " (section 'dictionaries')", dictionaries, rows);
        }
        this.unseenIndex = new int[tables];
        for (int t = 0; t < tables; t++) {
            // the rare bucket is index 0 (Dictionaries#lookup's rule for unknown values)
            unseenIndex[t] = dictionaries != null && dictionaries.hasRareBucket(t) ? 0 : -1;
        }
        this.provider = provider;
        // the first replica now: a model that cannot be built fails at load, not in a request
        Replica r = build();
        idle.push(r);
    }

    private static BackendProvider provider(String name) {
        List<BackendProvider> ps = Backends.providers();
        for (BackendProvider p : ps) {
            boolean auto = name.equals("auto");
            if ((auto && p.priority() >= 0 && !p.name().equals("tornado")) || p.name().equals(name)) {
                String why = p.unavailableReason();
                if (why == null) {
                    return p;
                }
                if (!auto) {
                    throw new IllegalArgumentException("backend '" + name + "' cannot run here: " + why);
                }
            }
        }
        throw new IllegalArgumentException("no backend '" + name + "' (known: "
                + ps.stream().map(BackendProvider::name).toList() + ", auto)");
    }

    /**
     * Loads a model with the default options.
     *
     * @param path a model file, a checkpoint, or a run folder (its newest checkpoint)
     * @return the model, ready for concurrent {@code predict} calls
     * @throws IOException if the file is missing, not a model, truncated or corrupt (the message names the
     *                     file and the section), or its dictionaries do not fit it
     */
    public static ScoringModel load(Path path) throws IOException {
        return load(path, ScoringOptions.defaults());
    }

    /**
     * Loads a model.
     *
     * @param path    a model file, a checkpoint, or a run folder (its newest checkpoint, or with
     *                {@link ScoringOptions#best()} its best)
     * @param options backend, threads per replica, dictionaries and the unseen-value policy
     * @return the model, ready for concurrent {@code predict} calls
     * @throws IOException if the file is missing, not a model, truncated or corrupt (the message names the
     *                     file and the section), or its dictionaries do not fit it
     */
    public static ScoringModel load(Path path, ScoringOptions options) throws IOException {
        BackendProvider provider = provider(options.backend()); // a bad option fails before any file is read
        Dictionaries override = options.dictionaries() == null ? null : Dictionaries.read(options.dictionaries());
        Path file = path;
        Path temp = null;
        if (Files.isDirectory(path) || (Files.isRegularFile(path) && FileMagic.prefixOf(FileMagic.head(path, 8), "TTRECCKP"))) {
            Path ckpt = ModelFileWriter.resolveCheckpoint(path, options.best());
            Path dict = ModelFileWriter.findDictionaries(ckpt,
                    org.ttrec.dlrm.model.CheckpointFile.readHeader(ckpt).config(), null);
            temp = Files.createTempFile("ttrec-model-", ".ttrm");
            Files.delete(temp);
            ModelFileWriter.write(ckpt, temp, dict);
            file = temp;
        }
        ModelImage image = null;
        try {
            image = ModelImage.open(file);
            try {
                return new ScoringModel(image, options, override, provider);
            } catch (IllegalArgumentException | IllegalStateException | ArithmeticException | IndexOutOfBoundsException
                     | NegativeArraySizeException e) {
                // every checksum held, so the writer itself described an impossible model
                throw new IOException("model file " + path + " does not describe a model that can be built: " + e.getMessage(), e);
            }
        } catch (IOException | RuntimeException | Error e) {
            if (image != null) {
                image.close();
            }
            throw e;
        } finally {
            if (temp != null) {
                Files.deleteIfExists(temp); // the mapping stays valid after the name is gone
            }
        }
    }

    static ModelInfo describe(ModelImage image) {
        JsonNode m = image.root().path("model");
        List<ModelInfo.Table> ts = new ArrayList<>();
        for (JsonNode t : m.path("tables")) {
            ts.add(new ModelInfo.Table(t.path("name").asText(), t.path("kind").asText(), t.path("rows").asInt(),
                    t.path("parameters").asLong(), intList(t.path("p")), intList(t.path("q")), intList(t.path("ranks")),
                    t.path("cacheRows").asInt(-1)));
        }
        JsonNode src = image.root().path("source");
        JsonNode prov = image.root().path("provenance");
        return new ModelInfo(m.path("denseFeatures").asInt(), m.path("embeddingDim").asInt(), List.copyOf(ts),
                m.path("mlpParameters").asLong(), m.path("parameters").asLong(), m.path("uncompressedParameters").asLong(),
                src.path("checkpoint").asText(""), src.path("state").path("step").asLong(-1),
                image.has("dictionaries"), prov.isObject() ? prov.toString() : "{}");
    }

    private static List<Integer> intList(JsonNode a) {
        List<Integer> l = new ArrayList<>();
        a.forEach(x -> l.add(x.asInt()));
        return List.copyOf(l);
    }

    /** @return what the model is: shape, tables, compression, provenance */
    public ModelInfo info() {
        return new ModelInfo(info.denseFeatures(), info.embeddingDim(), info.tables(), info.mlpParameters(),
                info.parameters(), info.uncompressedParameters(), info.source(), info.step(), dictionaries != null,
                info.provenanceJson());
    }

    /** @return the mapped model file (for {@link EmbeddingTable#of}) */
    ModelImage image() {
        if (closed) {
            throw new IllegalStateException("model used after close()");
        }
        return image;
    }

    /** @return dense features a row must have */
    public int denseFeatures() {
        return dense;
    }

    /** @return categorical features (tables) a row must have */
    public int categoricalFeatures() {
        return tables;
    }

    /** @return whether {@link CategoricalEncoding#RAW_HASH} input can be scored */
    public boolean hasDictionaries() {
        return dictionaries != null;
    }

    /** @return replicas built so far (one per thread that has called concurrently) */
    public int replicas() {
        return all.size();
    }

    /** @return the bytes of parameters each replica copies (4 per parameter) */
    public long replicaBytes() {
        return 4 * info.parameters();
    }

    /**
     * The click probability of one row.
     *
     * @param dense       the row's dense features, raw as in Criteo's integer fields (log(1 + max(x, 0)) is
     *                    applied here, as training applied it); exactly {@link #denseFeatures()} finite values
     * @param categorical the row's categorical values, exactly {@link #categoricalFeatures()}
     * @param encoding    raw hashes or table indices
     * @return the probability
     * @throws IllegalArgumentException naming the row (0) and the field that is wrong
     */
    public float predict(float[] dense, int[] categorical, CategoricalEncoding encoding) {
        float[] out = new float[1];
        predict(new float[][] {dense}, new int[][] {categorical}, encoding, out);
        return out[0];
    }

    /**
     * Click probabilities of rows given one array per row, e.g. parsed from JSON.
     *
     * @param dense       per row, its dense features (see {@link #predict(float[], int[], CategoricalEncoding)})
     * @param categorical per row, its categorical values
     * @param encoding    raw hashes or table indices
     * @param out         receives one probability per row (at least {@code dense.length} long)
     * @throws IllegalArgumentException naming the first row and field that is wrong; nothing is scored then
     */
    public void predict(float[][] dense, int[][] categorical, CategoricalEncoding encoding, float[] out) {
        int n = dense.length;
        if (categorical.length != n) {
            throw new IllegalArgumentException(n + " rows of dense features but " + categorical.length
                    + " rows of categorical values");
        }
        checkOut(n, out);
        for (int r = 0; r < n; r++) {
            if (dense[r] == null || dense[r].length != this.dense) {
                throw new IllegalArgumentException("row " + r + ": " + (dense[r] == null ? "no" : dense[r].length)
                        + " dense features, the model takes " + this.dense);
            }
            if (categorical[r] == null || categorical[r].length != tables) {
                throw new IllegalArgumentException("row " + r + ": " + (categorical[r] == null ? "no" : categorical[r].length)
                        + " categorical values, the model takes " + tables);
            }
        }
        Replica rep = acquire();
        try {
            rep.ensureCapacity(n);
            for (int r = 0; r < n; r++) {
                fill(rep, r, dense[r], 0, categorical[r], 0, encoding);
            }
            System.arraycopy(rep.run(n), 0, out, 0, n);
        } finally {
            release(rep);
        }
    }

    /**
     * Click probabilities of a batch given as flat row-major arrays: the allocation-free form for
     * callers that reuse their arrays.
     *
     * @param rows        rows to score (>= 1)
     * @param dense       {@code rows x denseFeatures()} raw dense values (log(1 + max(x, 0)) is applied here)
     * @param categorical {@code rows x categoricalFeatures()} values
     * @param encoding    raw hashes or table indices
     * @param out         receives the {@code rows} probabilities
     * @throws IllegalArgumentException naming the first row and field that is wrong; nothing is scored then
     */
    public void predict(int rows, float[] dense, int[] categorical, CategoricalEncoding encoding, float[] out) {
        if (rows < 1) {
            throw new IllegalArgumentException("rows must be >= 1, got " + rows);
        }
        if ((long) rows * this.dense > dense.length) {
            throw new IllegalArgumentException("row " + dense.length / this.dense + ": dense features end after "
                    + dense.length % this.dense + " of " + this.dense + " (" + dense.length + " values for " + rows + " rows)");
        }
        if ((long) rows * tables > categorical.length) {
            throw new IllegalArgumentException("row " + categorical.length / tables + ": categorical values end after "
                    + categorical.length % tables + " of " + tables + " (" + categorical.length + " values for " + rows + " rows)");
        }
        checkOut(rows, out);
        Replica rep = acquire();
        try {
            rep.ensureCapacity(rows);
            for (int r = 0; r < rows; r++) {
                fill(rep, r, dense, r * this.dense, categorical, r * tables, encoding);
            }
            System.arraycopy(rep.run(rows), 0, out, 0, rows);
        } finally {
            release(rep);
        }
    }

    private static void checkOut(int rows, float[] out) {
        if (out.length < rows) {
            throw new IllegalArgumentException("out has room for " + out.length + " probabilities, " + rows + " rows given");
        }
    }

    /**
     * Writes row r into the replica's input arrays: the dense transform, and per table the row's
     * lookup (or none, an empty bag) after the bags of rows 0..r-1, which end at offsets[t][r].
     */
    private void fill(Replica rep, int r, float[] d, int dOff, int[] c, int cOff, CategoricalEncoding enc) {
        for (int j = 0; j < dense; j++) {
            float x = d[dOff + j];
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException("row " + r + ", dense feature " + j + ": " + x
                        + " (dense values must be finite numbers)");
            }
            rep.dense[r * dense + j] = transform(x);
        }
        for (int t = 0; t < tables; t++) {
            int v = c[cOff + t];
            int idx;
            if (enc == CategoricalEncoding.INDEX) {
                if (v < 0 || v >= rows[t]) {
                    throw new IllegalArgumentException("row " + r + ", categorical feature " + t + ": index " + v
                            + " outside [0, " + rows[t] + ") of table " + t);
                }
                idx = v;
            } else {
                idx = rawToIndex(r, t, v);
            }
            int[] off = rep.offsets[t];
            if (r == 0) {
                off[0] = 0;
            }
            int start = off[r];
            if (idx >= 0) {
                rep.indices[t][start] = idx;
            }
            off[r + 1] = idx >= 0 ? start + 1 : start;
        }
    }

    private int rawToIndex(int r, int t, int v) {
        if (dictionaries == null) {
            throw new IllegalStateException("this model has no dictionaries, so it cannot map raw values: score table "
                    + "indices (CategoricalEncoding.INDEX), or give the dictionaries of its training data "
                    + "(ScoringOptions.withDictionaries, or ttrec model-file --dictionaries)");
        }
        int i = dictionaries.lookup(t, v);
        if (i >= 0) {
            return i;
        }
        if (options.unseen() == UnseenPolicy.REJECT) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "row %d, categorical feature %d: raw value %08x is not in the dictionary", r, t, v));
        }
        return unseenIndex[t];
    }

    /**
     * Training's dense transform: {@link DenseTransform#apply(int)} for the integer counts it was
     * trained on (the same bits), {@code log1p} rounded to float for other values.
     */
    static float transform(float x) {
        if (!(x > 0)) {
            return 0f;
        }
        int i = (int) x;
        return i == x && i < Integer.MAX_VALUE ? DenseTransform.apply(i) : (float) Math.log1p(x);
    }

    private Replica acquire() {
        if (closed) {
            throw new IllegalStateException("model used after close()");
        }
        Thread t = Thread.currentThread();
        if (!t.isVirtual()) {
            Replica r = own.get();
            if (r != null) {
                return r;
            }
            r = take();
            r.owner.set(t);
            own.set(r);
            return r;
        }
        return take();
    }

    private void release(Replica r) {
        if (r.owner.get() == null) {
            idle.push(r);
        }
    }

    private Replica take() {
        Replica r = idle.poll();
        if (r != null) {
            return r;
        }
        // replicas of platform threads that have ended go back to the pool before a new one is built
        for (Replica x : all) {
            Thread o = x.owner.get();
            if (o != null && !o.isAlive() && x.owner.compareAndSet(o, null)) {
                idle.push(x);
            }
        }
        r = idle.poll();
        if (r != null) {
            return r;
        }
        try {
            return build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Replica build() throws IOException {
        Replica r = new Replica(provider.create(options.threadsPerReplica()), image, config);
        all.add(r);
        if (closed) { // built while close() ran: close() may have missed it
            r.close();
            throw new IllegalStateException("model used after close()");
        }
        return r;
    }

    /**
     * Releases every replica and unmaps the model file. Call it once no {@code predict} is running;
     * later calls throw {@link IllegalStateException}.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Replica r; (r = all.poll()) != null; ) {
            r.close();
        }
        image.close();
    }
}
