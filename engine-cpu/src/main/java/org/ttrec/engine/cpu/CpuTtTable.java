package org.ttrec.engine.cpu;

import org.ttrec.engine.Checks;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.HeapFloatBuf;
import org.ttrec.engine.HeapIntBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.table.BufferLookupPlan;
import org.ttrec.engine.table.BufferTtTable;

import java.util.concurrent.ForkJoinPool;

/**
 * A TT table of the cpu backend with {@link VectorTtKernels} of its own: calls on different
 * tables share no scratch and may overlap, and since the table is the only writer of its cores
 * (its backward, or {@link #writeCore} and {@link #writeStates}, which tell the kernels), the
 * kernels keep a plan's sort and the forward's partial products for the backward of the same
 * plan without checking them.
 */
final class CpuTtTable extends BufferTtTable {
    private final VectorTtKernels kernels;
    private final float[][] coreArrays;

    CpuTtTable(CpuBackend be, String name, TtShape shape, ForkJoinPool pool, int threads) {
        super(be, name, shape);
        FloatBuf[] cores = coreBuffers();
        coreArrays = new float[cores.length][];
        for (int k = 0; k < cores.length; k++) {
            coreArrays[k] = HeapFloatBuf.array(cores[k], name + " core " + k);
        }
        // an eighth of the per-instance budget of forward products: seven Kaggle tables then
        // keep at most what one shared instance would, and a table's own batch (512 bytes per
        // distinct row at D16 R32) fits up to 65k rows at the default budget
        kernels = new VectorTtKernels(pool, threads, VectorTtKernels.REUSE_BUDGET / 8,
                VectorTtKernels.REUSE_MIN_FLOPS_PER_BYTE, VectorTtKernels.MIN_ROWS_PER_THREAD);
        kernels.own(coreArrays);
    }

    @Override
    public void forward(LookupPlan plan, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut) {
        open();
        BufferLookupPlan p = BufferLookupPlan.of(this, plan);
        Checks.notNull("pooling", pooling);
        Checks.matrix(name() + ": out", out, outOff, p.bags(), dim(), ldOut);
        int[] off = HeapIntBuf.array(p.offsets(), "offsets");
        kernels.forward(shape(), coreArrays, HeapIntBuf.array(p.indices(), "indices"), off, p.bags(),
                weights(p), pooling, accumulate, HeapFloatBuf.array(out, "out"), outOff, ldOut);
    }

    @Override
    public void backward(LookupPlan plan, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad,
                         SparseOptimizer opt) {
        open();
        Checks.notNull(name() + ": optimizer", opt);
        Checks.notNull("pooling", pooling);
        BufferLookupPlan p = BufferLookupPlan.of(this, plan);
        Checks.matrix(name() + ": gradOut", gradOut, gradOff, p.bags(), dim(), ldGrad);
        ensureStates(opt.kind());
        FloatBuf[] st = stateBuffers();
        float[][] states = null;
        if (st != null) {
            states = new float[st.length][];
            for (int k = 0; k < st.length; k++) {
                states[k] = HeapFloatBuf.array(st[k], "state");
            }
        }
        kernels.backward(shape(), coreArrays, states, HeapIntBuf.array(p.indices(), "indices"),
                HeapIntBuf.array(p.offsets(), "offsets"), p.bags(), weights(p), pooling,
                HeapFloatBuf.array(gradOut, "gradOut"), gradOff, ldGrad, opt);
    }

    private static float[] weights(BufferLookupPlan p) {
        return p.weights() == null ? null : HeapFloatBuf.array(p.weights(), "perSampleWeights");
    }

    @Override
    protected void coresChanged() {
        kernels.changed(coreArrays);
    }
}
