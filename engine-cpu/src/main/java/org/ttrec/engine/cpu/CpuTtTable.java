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


/**
 * A TT table of the cpu backend with {@link VectorTtKernels} of its own: calls on different
 * tables share no scratch and may overlap. The kernels hold one prepared batch (the sort of a
 * {@link LookupPlan}'s lookups), made by the first forward or backward on a plan's batch and
 * shared by the other. Since the table is the only writer of its cores (its backward, or
 * {@link #writeCore} and {@link #writeStates}, which tell the kernels), they also keep a
 * forward's partial products for the backward of the same batch without checking them.
 */
final class CpuTtTable extends BufferTtTable {
    private final VectorTtKernels kernels;
    private final float[][] coreArrays;
    private final float[][] stateArrays;
    /** The plan and batch (its version) the kernels hold prepared, or null. */
    private BufferLookupPlan prepared;
    private long preparedVersion;

    CpuTtTable(CpuBackend be, String name, TtShape shape, WorkerPool pool, int threads) {
        super(be, name, shape);
        FloatBuf[] cores = coreBuffers();
        coreArrays = new float[cores.length][];
        for (int k = 0; k < cores.length; k++) {
            coreArrays[k] = HeapFloatBuf.array(cores[k], name + " core " + k);
        }
        stateArrays = new float[cores.length][];
        kernels = new VectorTtKernels(pool, threads, true);
    }

    /** The plan checked, and its batch prepared in the kernels unless they hold it already. */
    private BufferLookupPlan prepare(LookupPlan plan, Pooling pooling, String matName, FloatBuf mat, int off, int ld) {
        open();
        BufferLookupPlan p = BufferLookupPlan.of(this, plan);
        Checks.notNull("pooling", pooling);
        if (!Checks.fits(mat, off, p.bags(), dim(), ld)) {
            Checks.matrix(name() + ": " + matName, mat, off, p.bags(), dim(), ld);
        }
        if (p != prepared || p.version() != preparedVersion) {
            kernels.prepare(shape(), HeapIntBuf.array(p.indices(), "indices"), HeapIntBuf.array(p.offsets(), "offsets"),
                    p.bags());
            prepared = p;
            preparedVersion = p.version();
        }
        return p;
    }

    @Override
    public void forward(LookupPlan plan, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut) {
        BufferLookupPlan p = prepare(plan, pooling, "out", out, outOff, ldOut);
        kernels.forward(coreArrays, weights(p), pooling, accumulate, HeapFloatBuf.array(out, "out"), outOff, ldOut);
    }

    @Override
    public void backward(LookupPlan plan, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad,
                         SparseOptimizer opt) {
        Checks.notNull(name(), ": optimizer", opt);
        BufferLookupPlan p = prepare(plan, pooling, "gradOut", gradOut, gradOff, ldGrad);
        ensureStates(opt.kind());
        FloatBuf[] st = stateBuffers();
        for (int k = 0; k < stateArrays.length; k++) {
            stateArrays[k] = st == null ? null : HeapFloatBuf.array(st[k], "state");
        }
        kernels.backward(coreArrays, st == null ? null : stateArrays, weights(p), pooling,
                HeapFloatBuf.array(gradOut, "gradOut"), gradOff, ldGrad, opt);
    }

    private static float[] weights(BufferLookupPlan p) {
        return p.weights() == null ? null : HeapFloatBuf.array(p.weights(), "perSampleWeights");
    }

    /** @return the table's kernels (tests count their reuse) */
    VectorTtKernels kernels() {
        return kernels;
    }

    @Override
    protected void coresChanged() {
        kernels.coresChanged();
    }

    @Override
    public void close() {
        prepared = null;
        super.close();
    }
}
