package org.ttrec.spark.train;

import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.layers.TrainableState;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.train.DenseOptimizer;
import org.ttrec.engine.SparseOptimizer;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Everything training changes in a model, as host arrays that Spark can ship: the MLP weights,
 * the dense optimiser's state, and each embedding table's weights and optimiser state
 * ({@link TrainableState}). A replica sends its state this way, the averaged state comes back
 * this way, and {@link #install} puts it into a model of the same configuration.
 *
 * <p>{@link #arrays()} lists every array in a fixed order that depends only on the model's shape
 * and optimisers ({@link Layout}), so the arrays of any two replicas line up one to one and can
 * be averaged without names.
 */
public final class ModelState implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The shape of a state without its values: the optimiser of each table, whether the dense
     * optimiser keeps state, and the length of every array of {@link #arrays()} in order.
     *
     * @param tableKinds   per table, the optimiser kind's name, or null before the first update
     * @param tableWeights per table, how many weight arrays it has
     * @param tableStates  per table, how many optimiser-state arrays follow its weights
     * @param lengths      the length of every array, in the order of {@link #arrays()}
     * @param accumulators which arrays, in the same order, are optimiser state: running sums over
     *                     the gradients seen (every optimiser state here is one: Adagrad's and
     *                     row-wise Adagrad's squared gradients, accumulated gradients)
     * @param owners       which table each array belongs to, -1 for the MLPs and their optimiser
     * @param positions    each array's index among its owner's weights, or among its optimiser states
     * @param denseState   whether the dense optimiser keeps state (Adagrad)
     */
    public record Layout(String[] tableKinds, int[] tableWeights, int[] tableStates, int[] lengths,
                         boolean[] accumulators, int[] owners, int[] positions, boolean denseState)
            implements Serializable {}

    private final float[] dense;
    private final float[] denseState;
    private final String[] tableKinds;
    private final float[][][] tableWeights;
    private final float[][][] tableStates;

    private ModelState(float[] dense, float[] denseState, String[] tableKinds, float[][][] tableWeights,
                       float[][][] tableStates) {
        this.dense = dense;
        this.denseState = denseState;
        this.tableKinds = tableKinds;
        this.tableWeights = tableWeights;
        this.tableStates = tableStates;
    }

    /**
     * Reads a model's state (host copies).
     *
     * @param model the model
     * @param opt   its dense optimiser
     * @return the state
     * @throws UnsupportedOperationException if a table cannot be averaged (a TT hot-row cache)
     */
    public static ModelState capture(DlrmModel model, DenseOptimizer opt) {
        List<EmbeddingBagLayer> tables = model.tables();
        int n = tables.size();
        String[] kinds = new String[n];
        float[][][] w = new float[n][][];
        float[][][] s = new float[n][][];
        for (int t = 0; t < n; t++) {
            TrainableState ts = tables.get(t).trainableState();
            kinds[t] = ts.stateKind() == null ? null : ts.stateKind().name();
            w[t] = ts.weights().toArray(new float[0][]);
            s[t] = ts.optimizerState().toArray(new float[0][]);
        }
        return new ModelState(model.parameters().toArray(), opt.readState(), kinds, w, s);
    }

    /**
     * Writes this state into a model and its optimiser (same configuration as the one it was
     * read from).
     *
     * @param model the model
     * @param opt   its dense optimiser
     * @throws IllegalArgumentException if the state does not fit the model, naming what differs
     */
    public void install(DlrmModel model, DenseOptimizer opt) {
        List<EmbeddingBagLayer> tables = model.tables();
        if (tables.size() != tableWeights.length || model.denseParameterCount() != dense.length) {
            throw new IllegalArgumentException("model state of " + tableWeights.length + " tables and " + dense.length
                    + " MLP parameters does not fit a model of " + tables.size() + " tables and "
                    + model.denseParameterCount());
        }
        model.parameters().write(dense);
        opt.writeState(denseState);
        for (int t = 0; t < tables.size(); t++) {
            SparseOptimizer.Kind kind = tableKinds[t] == null ? null : SparseOptimizer.Kind.valueOf(tableKinds[t]);
            tables.get(t).loadTrainableState(new TrainableState(Arrays.asList(tableWeights[t]), kind,
                    Arrays.asList(tableStates[t])));
        }
    }

    /**
     * Finds an array by what it is rather than by its place in the layout, which shifts when
     * optimiser state appears after the first update.
     *
     * @param owner       a table, or -1 for the MLPs
     * @param accumulator whether the optimiser state is meant (else the weights)
     * @param position    the index among the owner's weights or states
     * @return the array, or null if this state has no such array (no optimiser state yet)
     */
    public float[] find(int owner, boolean accumulator, int position) {
        if (owner < 0) {
            return accumulator ? denseState : dense;
        }
        float[][] group = accumulator ? tableStates[owner] : tableWeights[owner];
        return position < group.length ? group[position] : null;
    }

    /** @return this state's layout */
    public Layout layout() {
        int[] weights = new int[tableWeights.length];
        int[] states = new int[tableWeights.length];
        for (int t = 0; t < weights.length; t++) {
            weights[t] = tableWeights[t].length;
            states[t] = tableStates[t].length;
        }
        List<float[]> a = arrays();
        int[] lengths = new int[a.size()];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = a.get(i).length;
        }
        boolean[] acc = new boolean[a.size()];
        int[] owners = new int[a.size()];
        int[] positions = new int[a.size()];
        owners[0] = -1;
        int k = 1;
        if (denseState != null) {
            owners[k] = -1;
            acc[k++] = true;
        }
        for (int t = 0; t < weights.length; t++) {
            for (int j = 0; j < weights[t]; j++) {
                owners[k] = t;
                positions[k++] = j;
            }
            for (int j = 0; j < states[t]; j++) {
                owners[k] = t;
                positions[k] = j;
                acc[k++] = true;
            }
        }
        return new Layout(tableKinds.clone(), weights, states, lengths, acc, owners, positions, denseState != null);
    }

    /**
     * @return every array, in layout order: the MLP weights, the dense optimiser's state (if
     *         any), then per table its weights and its optimiser state. The arrays are this
     *         state's own, not copies.
     */
    public List<float[]> arrays() {
        List<float[]> a = new ArrayList<>();
        a.add(dense);
        if (denseState != null) {
            a.add(denseState);
        }
        for (int t = 0; t < tableWeights.length; t++) {
            a.addAll(Arrays.asList(tableWeights[t]));
            a.addAll(Arrays.asList(tableStates[t]));
        }
        return a;
    }

    /**
     * Builds a state from a layout and its arrays in layout order (the inverse of
     * {@link #layout()} and {@link #arrays()}).
     *
     * @param layout the layout
     * @param arrays the arrays, in layout order
     * @return the state
     * @throws IllegalArgumentException if the arrays do not match the layout
     */
    public static ModelState of(Layout layout, List<float[]> arrays) {
        if (arrays.size() != layout.lengths().length) {
            throw new IllegalArgumentException(arrays.size() + " arrays for a layout of " + layout.lengths().length);
        }
        for (int i = 0; i < arrays.size(); i++) {
            if (arrays.get(i).length != layout.lengths()[i]) {
                throw new IllegalArgumentException("array " + i + " has " + arrays.get(i).length + " floats, the layout "
                        + layout.lengths()[i]);
            }
        }
        int k = 0;
        float[] dense = arrays.get(k++);
        float[] denseState = layout.denseState() ? arrays.get(k++) : null;
        int n = layout.tableWeights().length;
        float[][][] w = new float[n][][];
        float[][][] s = new float[n][][];
        for (int t = 0; t < n; t++) {
            w[t] = new float[layout.tableWeights()[t]][];
            for (int j = 0; j < w[t].length; j++) {
                w[t][j] = arrays.get(k++);
            }
            s[t] = new float[layout.tableStates()[t]][];
            for (int j = 0; j < s[t].length; j++) {
                s[t][j] = arrays.get(k++);
            }
        }
        if (k != arrays.size()) {
            throw new IllegalArgumentException("layout and arrays disagree: " + (arrays.size() - k) + " arrays left over");
        }
        return new ModelState(dense, denseState, layout.tableKinds().clone(), w, s);
    }
}
