package org.ttrec.dlrm.layers;

import org.ttrec.engine.SparseOptimizer;

import java.util.List;

/**
 * What training changes in an embedding layer, as host arrays: its weights and its optimiser's
 * state. Data-parallel training reads it from every replica, averages the arrays element by
 * element and loads the average back ({@link EmbeddingBagLayer#loadTrainableState}); the order
 * and sizes of the arrays depend only on the layer's shape and optimiser, so the arrays of two
 * replicas of one layer line up.
 *
 * @param weights        the weights (a dense table's rows; a TT table's cores in order)
 * @param stateKind      the optimiser that updated the layer, or null before the first update
 * @param optimizerState its state, in the same order as the weights (empty when there is none:
 *                       before the first update, or SGD)
 */
public record TrainableState(List<float[]> weights, SparseOptimizer.Kind stateKind, List<float[]> optimizerState) {
    /** Copies the lists (not the arrays) and checks that state and kind agree. */
    public TrainableState {
        weights = List.copyOf(weights);
        optimizerState = List.copyOf(optimizerState);
        if (stateKind == null && !optimizerState.isEmpty()) {
            throw new IllegalArgumentException("optimiser state without an optimiser kind");
        }
    }
}
