package org.ttrec.dlrm.model;

import org.ttrec.dlrm.config.ModelConfig;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.layers.Interaction;
import org.ttrec.dlrm.layers.Mlp;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.Pending;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.scalar.ScalarBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * DLRM (docs/dlrm.md): bottom MLP over the dense features, one EmbeddingBag per categorical
 * feature, the dot (or cat) interaction, top MLP, sigmoid, mean binary cross-entropy.
 *
 * <p>Every computation runs through the {@link ComputeBackend}, and a training step reads
 * nothing back: the loss stays in a backend buffer ({@link #lossBuffer()}) for the trainer to
 * add up and check. All MLP parameters share one flat buffer (and their gradients another), so
 * the dense optimiser step is one kernel call. Activations are allocated for the largest batch
 * seen and reused; a training step of a batch no larger than that allocates no backend buffer.
 *
 * <p>The embedding tables live on {@link ComputeBackend#tableBackend()} and their work of a step
 * goes through {@link ComputeBackend#submitTables}: a backend may run them side by side, or
 * beside the MLP, in which case the tables' update of one step overlaps the caller's optimiser
 * step and the next bottom MLP forward.
 *
 * <p>Use: {@link #forward(Batch)} computes the loss, {@link #backward(SparseOptimizer)} writes
 * the dense gradients into {@link #gradients()} and updates the embedding tables with the
 * given sparse optimiser (fused); the caller then steps the dense parameters. {@link #close()}
 * releases every buffer and table the model holds.
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
    private final FloatBuf loss;
    private final int denseParams;
    private FloatBuf denseIn;
    private FloatBuf labels;
    private FloatBuf probs;
    private float[] hostProbs = new float[0];
    private int capacity;
    private int rows = -1;
    /**
     * The tables' update of the last {@link #backward}, possibly still running (null when awaited).
     * The next lookups are submitted behind it, so every table sees the same operations in the
     * same order as when they run inline and the bits do not change.
     */
    private Pending pendingUpdate;
    private boolean closed;

    /**
     * Builds the model with tables created by {@link TableFactory} on the backend's
     * {@link ComputeBackend#tableBackend()}.
     *
     * @return the model
     * @param be     backend
     * @param config the architecture (validated here)
     * @param specs  one spec per table, from {@link TableFactory#plan}
     * @param seed   initialisation seed
     */
    public static DlrmModel build(ComputeBackend be, ModelConfig config, List<EmbeddingTableSpec> specs, long seed) {
        List<EmbeddingBagLayer> t = new ArrayList<>();
        try {
            for (EmbeddingTableSpec s : specs) {
                t.add(TableFactory.create(be.tableBackend(), s, seed * 1_000_003L + 7919L * (s.index() + 1)));
            }
            return new DlrmModel(be, config, t, seed);
        } catch (RuntimeException | Error e) {
            for (EmbeddingBagLayer l : t) {
                l.close();
            }
            throw e;
        }
    }

    /**
     * Builds the model around tables made elsewhere (any {@link EmbeddingBagLayer}); the model
     * takes them over and closes them with itself.
     *
     * @param be     backend
     * @param config the architecture
     * @param tables one layer per table, in feature order
     * @param seed   MLP initialisation seed
     */
    public DlrmModel(ComputeBackend be, ModelConfig config, List<EmbeddingBagLayer> tables, long seed) {
        this(be, config, tables, seed, null);
    }

    /**
     * Builds the model around tables made elsewhere with given MLP parameters, e.g. the trained
     * parameters of a model file: nothing is drawn at random. The model takes the tables over and
     * closes them with itself.
     *
     * @param be              backend
     * @param config          the architecture
     * @param tables          one layer per table, in feature order
     * @param denseParameters the MLP parameters, laid out as {@link #parameters()} (copied)
     */
    public DlrmModel(ComputeBackend be, ModelConfig config, List<EmbeddingBagLayer> tables, float[] denseParameters) {
        this(be, config, tables, 0, java.util.Objects.requireNonNull(denseParameters, "denseParameters"));
    }

    private DlrmModel(ComputeBackend be, ModelConfig config, List<EmbeddingBagLayer> tables, long seed, float[] given) {
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
                tt.setCoreTraining(config.tt.coreOptimizerKind(), config.tt.lrScale);
            }
        }
        this.interaction = new Interaction(config.interaction.equals("cat") ? Interaction.Kind.CAT
                : Interaction.Kind.DOT, 1 + tables.size(), dim, config.selfInteraction);
        this.bottom = new Mlp(config.bottomWidths(), true, 0);
        int[] tw = config.topWidths();
        if (tw[0] != interaction.outputWidth()) {
            throw new IllegalStateException("top MLP input " + tw[0] + " != interaction width " + interaction.outputWidth());
        }
        this.top = new Mlp(tw, false, bottom.parameterCount());
        this.denseParams = bottom.parameterCount() + top.parameterCount();
        float[] host;
        if (given != null) {
            if (given.length != denseParams) {
                throw new IllegalArgumentException(given.length + " MLP parameters given, the architecture " + config
                        + " has " + denseParams);
            }
            host = given;
        } else {
            host = new float[denseParams];
            Random rnd = new Random(seed);
            bottom.init(host, rnd);
            top.init(host, rnd);
        }
        this.params = be.upload(host);
        this.grads = be.allocFloats(denseParams);
        this.loss = be.allocFloats(1);
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
     * Waits until the tables' update of the last {@link #backward} is done; rethrows its failure
     * here.
     */
    public void awaitTables() {
        Pending p = pendingUpdate;
        pendingUpdate = null;
        if (p != null) {
            p.await();
        }
    }

    /** @return the flat MLP parameter buffer (bottom then top; per layer W then b) */
    public FloatBuf parameters() {
        return params;
    }

    /** @return the flat MLP gradient buffer, same layout as {@link #parameters()} */
    public FloatBuf gradients() {
        return grads;
    }

    /** @return a one-float backend buffer holding the mean loss of the last {@link #forward} */
    public FloatBuf lossBuffer() {
        return loss;
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
        closeBatchBuffers();
        denseIn = be.allocFloats(Math.multiplyExact(batch, config.denseFeatures));
        labels = be.allocFloats(batch);
        probs = be.allocFloats(batch);
        hostProbs = new float[batch];
        capacity = batch;
    }

    private void closeBatchBuffers() {
        for (FloatBuf b : new FloatBuf[] {denseIn, labels, probs}) {
            if (b != null) {
                b.close();
            }
        }
    }

    private void check(Batch b) {
        if (closed) {
            throw new IllegalStateException("model used after close()");
        }
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
        // each table writes its own columns of T; submitted behind the last update
        Pending lookups = be.submitTables(tables.size(),
                i -> tables.get(i).forward(b.indices()[i], b.offsets()[i], n, null, t, (1 + i) * dim, ld));
        FloatBuf bot = bottom.forward(be, n, params, denseIn, 0);
        try {
            awaitTables(); // its failure first: the lookups then ran on a half-updated table
        } finally {
            lookups.await();
        }
        FloatBuf r = interaction.forward(be, n, bot);
        FloatBuf logits = top.forward(be, n, params, r, 0);
        be.sigmoid(n, logits, 0, probs, 0);
    }

    /**
     * Training forward pass: the batch's mean binary cross-entropy goes to {@link #lossBuffer()},
     * on the backend; nothing is read back.
     *
     * @param b the batch (labels included)
     */
    public void forward(Batch b) {
        forwardToProbs(b);
        labels.write(0, b.labels(), 0, b.size());
        be.bceLoss(b.size(), probs, 0, labels, 0, loss, 0);
    }

    /**
     * {@link #forward}, then reads the probabilities back and returns the batch's mean binary
     * cross-entropy computed on the host in double (the clamp of {@link ComputeBackend#bceLoss}),
     * not rounded to float: for gradient checks and tools, not for the training loop.
     *
     * @param b the batch (labels included)
     * @return the mean loss
     */
    public double forwardReadLoss(Batch b) {
        forward(b);
        int n = b.size();
        probs.read(0, hostProbs, 0, n);
        float[] y = b.labels();
        double s = 0;
        for (int j = 0; j < n; j++) {
            double pv = Math.min(Math.max(hostProbs[j], ScalarBackend.BCE_EPS), 1f - ScalarBackend.BCE_EPS);
            s -= y[j] * Math.log(pv) + (1 - y[j]) * Math.log(1 - pv);
        }
        return s / n;
    }

    /**
     * Backward of the last {@link #forward}: MLP gradients into {@link #gradients()} (overwritten),
     * embedding tables updated by {@code embeddingOpt} (or their gradient accumulated, for
     * {@link SparseOptimizer.Kind#ACCUMULATE}). When the backend runs the tables beside the MLP,
     * this returns once the MLP's gradients are ready and the tables' update goes on meanwhile:
     * the next {@link #forward}, {@link #predict}, {@link #tables()} and {@link #awaitTables()}
     * wait for it (and rethrow its failure).
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
        // may finish beside the bottom MLP's backward, the caller's optimiser step and the next
        // bottom MLP forward
        pendingUpdate = be.submitTables(tables.size(),
                i -> tables.get(i).backward(dt, (1 + i) * dim, ld, embeddingOpt));
        bottom.backward(be, params, grads, null);
    }

    /**
     * Waits for the tables' last update, then releases every table and buffer of the model; the
     * model must not be used afterwards. The backend belongs to the caller.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            awaitTables();
        } finally {
            for (EmbeddingBagLayer t : tables) {
                t.close();
            }
            bottom.close();
            top.close();
            interaction.close();
            closeBatchBuffers();
            params.close();
            grads.close();
            loss.close();
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
