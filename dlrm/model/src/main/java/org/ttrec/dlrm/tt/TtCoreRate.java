package org.ttrec.dlrm.tt;

import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.tt.TtInit;

/**
 * The learning rate of TT cores relative to the model's rate, from the shape and the
 * initialisation (bench/quality/README.md has the measurements behind the rule).
 *
 * <p>Why the cores need their own rule: a core slice's SGD gradient is the row's gradient times
 * the product of the other cores along the rank paths, and an SGD step moves a looked-up TT row by
 * about {@code lr * gain * g} where a plain row moves by {@code lr * g}. With iid core entries of
 * std s the gain is {@code d * s^(2(d-1)) * prod R} = d Var(W) / s^2 (docs/tt-init.md): 7e-3 for
 * 87,712 rows at rank 32 under the variance-matched initialisation, 3e-4 for Kaggle's 10M-row
 * table. At the model's rate the cores barely move (0.021 AUC below the uncompressed model in the
 * measurements), and any fixed SGD multiplier is wrong at one end of training or the other,
 * because the gain grows as the cores do.
 *
 * <p>Adagrad removes the gradient's scale: each entry moves by about its rate per step at first,
 * whatever the gain. The rate that matters is then the step relative to the entries' own size, so
 * the rule is {@code rate_k = lr * ADAGRAD_STEP * s_k}, with s_k the initial std of core k's
 * entries: a table with larger entries (fewer rows, lower rank) takes proportionally larger
 * steps. Under SGD the cores keep the model's rate.
 */
public final class TtCoreRate {
    /**
     * Adagrad's rate of a core in units of lr * (its initial entry std): at the Kaggle rate 0.1 the
     * first step moves an entry by a quarter of its initial std (1.25 and 2.5 tied on three data
     * sets, 5 was worse; bench/quality/README.md).
     */
    public static final double ADAGRAD_STEP = 2.5;

    private TtCoreRate() {}

    /**
     * @param shape the TT shape
     * @param init  the cores' initialisation
     * @return the std of a core entry at initialisation (the same for every core)
     */
    public static double initStd(TtShape shape, TtInit init) {
        return init.kind() == TtInit.Kind.NORMAL ? init.std() : TtInit.matchedStd(shape);
    }

    /**
     * @param shape the TT shape
     * @param init  the cores' initialisation
     * @return how far one SGD step moves a looked-up TT row at initialisation, per unit of the step
     *         that moves a plain row: d * s^(2(d-1)) * prod R
     */
    public static double sgdGainAtInit(TtShape shape, TtInit init) {
        int d = shape.cores();
        double logRanks = 0;
        for (int k = 1; k < d; k++) {
            logRanks += Math.log(shape.rank(k));
        }
        return d * Math.exp(2 * (d - 1) * Math.log(initStd(shape, init)) + logRanks);
    }

    /**
     * @param kind  the cores' update rule, or null for the model's optimiser at its plain rate
     * @param shape the TT shape
     * @param init  the cores' initialisation
     * @return the multiplier on the model's learning rate for the cores: ADAGRAD_STEP * s for the
     *         Adagrad kinds, 1 for SGD and null
     */
    public static double scale(SparseOptimizer.Kind kind, TtShape shape, TtInit init) {
        if (kind == null) {
            return 1;
        }
        return switch (kind) {
            case ADAGRAD, ROWWISE_ADAGRAD -> ADAGRAD_STEP * initStd(shape, init);
            case SGD, ACCUMULATE -> 1;
        };
    }
}
