package org.ttrec.dlrm.model;

import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.layers.Interaction;
import org.ttrec.dlrm.layers.Mlp;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.SparseOptimizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * DLRM (spec section 8): bottom MLP over the dense features, one EmbeddingBag per categorical
 * feature, the dot (or cat) interaction, top MLP, sigmoid, mean binary cross-entropy.
 *
 * <p>Every computation runs through the {@link ComputeBackend}. All MLP parameters share one
 * flat buffer (and their gradients another), so the dense optimiser step is one kernel call.
 * Activations are allocated for the largest batch seen and reused; a training step of a
 * batch no larger than that allocates nothing in the model.
 *
 * <p>Use: {@link #forward(Batch)} returns the loss, {@link #backward(SparseOptimizer)} writes
 * the dense gradients into {@link #gradients()} and updates the embedding tables with the
 * given sparse optimiser (fused); the caller then steps the dense parameters.
 */
public final class DlrmModel implements AutoCloseable {
    private final ComputeBackend be;
    private final ModelConfig config;
    private final Mlp bottom;
    private final Mlp top;
    private final Interaction interaction;
    private final List<EmbeddingBagLayer> tables;
    private final int dim;
    private final FloatBuf params;
    private final FloatBuf grads;
    private final int denseParams;
    private FloatBuf denseIn;
    private FloatBuf labels;
    private FloatBuf probs;
    private float[] hostProbs = new float[0];
    private int capacity;
    private int rows = -1;
    /** The thread that runs the tables beside the MLP, or null when they run inline. */
    private ExecutorService stage;
    /** The tables' backend ({@link #be} unless they run beside the MLP). */
    private ComputeBackend tableBe;
    /**
     * The tables' update of the last {@link #backward}, still running on {@link #stage} (null when
     * done or inline). It overlaps the MLP's optimiser step and the next bottom MLP forward; the
     * next lookups queue behind it on the same single thread, so every table sees the same
     * operations in the same order as inline and the bits do not change.
     */
    private Future<?> pendingUpdate;

    /**
     * Builds the model with tables created by {@link TableFactory}.
     *
     * @return the model
     * @param be     backend
     * @param config the architecture (validated here)
     * @param specs  one spec per table, from {@link TableFactory#plan}
     * @param seed   initialisation seed
     */
    public static DlrmModel build(ComputeBackend be, ModelConfig config, List<EmbeddingTableSpec> specs, long seed) {
        return new DlrmModel(be, config, createTables(be, specs, seed), seed);
    }

    /**
     * Builds the model with its tables on a second backend, {@code tableBe}, whose calls run on a
     * thread of their own beside the MLP's: the lookups of a batch run while the bottom MLP
     * computes, and the tables' backward (with their optimiser) while the bottom MLP's backward,
     * the caller's optimiser step and the next bottom MLP forward run (see {@link #backward}). The
     * two halves share no buffers they write, and each backend is deterministic, so results do
     * not depend on how the two threads interleave. With {@code tableBe == be} this is
     * {@link #build(ComputeBackend, ModelConfig, List, long)}. Host backends only: the tables
     * write into activation buffers that {@code be} allocated. The model takes {@code tableBe}
     * over: {@link #close()} stops the thread and closes it.
     *
     * @param be      backend of the MLPs and the interaction
     * @param tableBe backend of the embedding tables
     * @param config  the architecture (validated here)
     * @param specs   one spec per table, from {@link TableFactory#plan}
     * @param seed    initialisation seed
     * @return the model
     */
    public static DlrmModel build(ComputeBackend be, ComputeBackend tableBe, ModelConfig config,
                                  List<EmbeddingTableSpec> specs, long seed) {
        DlrmModel m = new DlrmModel(be, config, createTables(tableBe, specs, seed), seed);
        m.tableBe = tableBe;
        if (tableBe != be) {
            m.stage = Executors.newSingleThreadExecutor(r -> {
                Thread th = new Thread(r, "ttrec-embeddings");
                th.setDaemon(true);
                return th;
            });
        }
        return m;
    }

    private static List<EmbeddingBagLayer> createTables(ComputeBackend be, List<EmbeddingTableSpec> specs, long seed) {
        List<EmbeddingBagLayer> t = new ArrayList<>();
        for (EmbeddingTableSpec s : specs) {
            t.add(TableFactory.create(be, s, seed * 1_000_003L + 7919L * (s.index() + 1)));
        }
        return t;
    }

    /**
     * Builds the model around tables made elsewhere (any {@link EmbeddingBagLayer}).
     *
     * @param be     backend
     * @param config the architecture
     * @param tables one layer per table, in feature order
     * @param seed   MLP initialisation seed
     */
    public DlrmModel(ComputeBackend be, ModelConfig config, List<EmbeddingBagLayer> tables, long seed) {
        config.validate();
        if (tables.size() != config.tableRows.length) {
            throw new IllegalArgumentException("model has " + config.tableRows.length + " tables configured but "
                    + tables.size() + " given");
        }
        this.be = be;
        this.config = config;
        this.dim = config.embeddingDim;
        for (EmbeddingBagLayer t : tables) {
            if (t.dim() != dim) {
                throw new IllegalArgumentException(t.name() + " has dimension " + t.dim() + ", the model uses " + dim);
            }
        }
        this.tables = List.copyOf(tables);
        for (EmbeddingBagLayer t : this.tables) {
            if (t instanceof TtEmbeddingBag tt) {
                tt.setCoreLearningRateScale(config.tt.lrScale);
            }
        }
        this.interaction = new Interaction(be, config.interaction.equals("cat") ? Interaction.Kind.CAT
                : Interaction.Kind.DOT, 1 + tables.size(), dim, config.selfInteraction);
        this.bottom = new Mlp(config.bottomWidths(), true, 0);
        int[] tw = config.topWidths();
        if (tw[0] != interaction.outputWidth()) {
            throw new IllegalStateException("top MLP input " + tw[0] + " != interaction width " + interaction.outputWidth());
        }
        this.top = new Mlp(tw, false, bottom.parameterCount());
        this.denseParams = bottom.parameterCount() + top.parameterCount();
        float[] host = new float[denseParams];
        Random rnd = new Random(seed);
        bottom.init(host, rnd);
        top.init(host, rnd);
        this.params = be.allocFloats(denseParams);
        this.params.write(host);
        this.grads = be.allocFloats(denseParams);
    }

    /** @return the backend */
    public ComputeBackend backend() {
        return be;
    }

    /** @return the architecture */
    public ModelConfig config() {
        return config;
    }

    /**
     * The embedding tables, after waiting for an update still running beside the MLP (see
     * {@link #backward}); read or change them only between steps.
     *
     * @return the embedding tables
     */
    public List<EmbeddingBagLayer> tables() {
        awaitTables();
        return tables;
    }

    /**
     * Waits until the tables' update of the last {@link #backward} is done, when they run beside
     * the MLP; rethrows its failure here. Inline tables are always done.
     */
    public void awaitTables() {
        Future<?> p = pendingUpdate;
        pendingUpdate = null;
        join(p);
    }

    /** @return the flat MLP parameter buffer (bottom then top; per layer W then b) */
    public FloatBuf parameters() {
        return params;
    }

    /** @return the flat MLP gradient buffer, same layout as {@link #parameters()} */
    public FloatBuf gradients() {
        return grads;
    }

    /** @return the number of MLP parameters */
    public int denseParameterCount() {
        return denseParams;
    }

    /** @return the bottom MLP */
    public Mlp bottomMlp() {
        return bottom;
    }

    /** @return the top MLP */
    public Mlp topMlp() {
        return top;
    }

    /** @return all trainable parameters: MLPs plus what each table holds */
    public long parameterCount() {
        long n = denseParams;
        for (EmbeddingBagLayer t : tables()) { // a cache may be filled by the running update
            n += t.parameterCount();
        }
        return n;
    }

    /** @return parameters of the same model with every table uncompressed */
    public long uncompressedParameterCount() {
        long n = denseParams;
        for (EmbeddingBagLayer t : tables) {
            n += t.uncompressedParameterCount();
        }
        return n;
    }

    /**
     * Grows the activation buffers to {@code batch} rows (no-op when already large enough).
     *
     * @param batch batch capacity
     */
    public void ensureCapacity(int batch) {
        if (batch <= capacity) {
            return;
        }
        bottom.ensureCapacity(be, batch);
        top.ensureCapacity(be, batch);
        interaction.ensureCapacity(be, batch);
        denseIn = be.allocFloats(Math.multiplyExact(batch, config.denseFeatures));
        labels = be.allocFloats(batch);
        probs = be.allocFloats(batch);
        hostProbs = new float[batch];
        capacity = batch;
    }

    private void check(Batch b) {
        if (b.tables() != tables.size()) {
            throw new IllegalArgumentException("batch has " + b.tables() + " sparse features, the model has "
                    + tables.size() + " tables");
        }
        if (b.size() > 0 && b.dense().length < b.size() * config.denseFeatures) {
            throw new IllegalArgumentException("batch has " + b.dense().length + " dense values for " + b.size()
                    + " samples, the model needs " + config.denseFeatures + " per sample");
        }
        if (b.size() == 0) {
            throw new IllegalArgumentException("empty batch");
        }
    }

    private void forwardToProbs(Batch b) {
        check(b);
        int n = b.size();
        ensureCapacity(n);
        rows = n;
        denseIn.write(0, b.dense(), 0, n * config.denseFeatures);
        FloatBuf t = interaction.stacked();
        int ld = (1 + tables.size()) * dim;
        // tables side by side where the backend allows (each writes its own columns of t)
        Runnable lookups = () -> tablesBackend().forEachTable(tables.size(),
                i -> tables.get(i).forward(b.indices()[i], b.offsets()[i], n, null, t, (1 + i) * dim, ld));
        // with the tables beside the MLP, these lookups queue behind the last update (one thread)
        Future<?> side = beside(lookups);
        FloatBuf bot = bottom.forward(be, n, params, denseIn, 0);
        try {
            awaitTables(); // its failure first: the lookups then ran on a half-updated table
        } finally {
            join(side);
        }
        FloatBuf r = interaction.forward(be, n, bot);
        FloatBuf logits = top.forward(be, n, params, r, 0);
        be.sigmoid(n, logits, 0, probs, 0);
    }

    /**
     * Training forward pass.
     *
     * @param b the batch (labels included)
     * @return the mean binary cross-entropy of the batch
     */
    public double forward(Batch b) {
        forwardToProbs(b);
        labels.write(0, b.labels(), 0, b.size());
        return be.bceLoss(b.size(), probs, 0, labels, 0);
    }

    /**
     * Backward of the last {@link #forward}: MLP gradients into {@link #gradients()} (overwritten),
     * embedding tables updated by {@code embeddingOpt} (or their gradient accumulated, for
     * {@link SparseOptimizer.Kind#ACCUMULATE}). When the tables run beside the MLP, this returns
     * once the MLP's gradients are ready and the tables' update goes on meanwhile: the next
     * {@link #forward}, {@link #predict}, {@link #tables()} and {@link #awaitTables()} wait for it
     * (and rethrow its failure).
     *
     * @param embeddingOpt the sparse update of the tables
     */
    public void backward(SparseOptimizer embeddingOpt) {
        if (rows < 0) {
            throw new IllegalStateException("backward without a forward pass");
        }
        int n = rows;
        be.bceSigmoidBackward(n, 1f / n, probs, 0, labels, 0, top.outputGradient(), 0);
        top.backward(be, params, grads, interaction.outputGradient());
        interaction.backward(be, n, bottom.outputGradient());
        FloatBuf dt = interaction.stackedGradient();
        int ld = (1 + tables.size()) * dim;
        rows = -1;
        // finishes beside the bottom MLP's backward, the caller's optimiser step and the next
        // bottom MLP forward
        pendingUpdate = beside(() -> tablesBackend().forEachTable(tables.size(),
                i -> tables.get(i).backward(dt, (1 + i) * dim, ld, embeddingOpt)));
        bottom.backward(be, params, grads, null);
    }

    /** The backend the tables run on. */
    private ComputeBackend tablesBackend() {
        return tableBe != null ? tableBe : be;
    }

    /** Runs the table work on the table thread (returns its future), or inline (returns null). */
    private Future<?> beside(Runnable work) {
        if (stage == null) {
            work.run();
            return null;
        }
        return stage.submit(work);
    }

    /** Waits for the table work; its failure is rethrown here, on the caller's thread. */
    private static void join(Future<?> side) {
        if (side == null) {
            return;
        }
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    side.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true; // the tables are mid-update: finish them before giving up
                }
            }
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("embedding tables failed", c);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Waits for the tables' last update, then stops the thread that runs them beside the MLP and
     * closes their backend, if the model has them
     * ({@link #build(ComputeBackend, ComputeBackend, ModelConfig, List, long)}); the model must not
     * be used afterwards. The MLP's backend belongs to the caller.
     */
    @Override
    public void close() {
        ExecutorService s = stage;
        if (s != null) {
            try {
                awaitTables();
            } finally {
                stage = null;
                s.shutdown();
                tableBe.close();
            }
        }
    }

    /**
     * Click probabilities of a batch (no gradients).
     *
     * @param b the batch
     * @return a host array whose first {@code b.size()} entries are the probabilities; it is
     *         reused by the next call
     */
    public float[] predict(Batch b) {
        forwardToProbs(b);
        rows = -1;
        probs.read(0, hostProbs, 0, b.size());
        return hostProbs;
    }

    /** @return one line per table plus a summary line */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("DLRM: %s, %,d MLP parameters%n", config, denseParams));
        for (EmbeddingBagLayer t : tables()) {
            sb.append("  ").append(t.describe()).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
