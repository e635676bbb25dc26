package org.ttrec.engine.tornado;

import org.ttrec.engine.Checks;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.table.BufferDenseTable;

/**
 * An uncompressed table of the tornado backend: rows and optimiser state stay in device memory;
 * a batch arrives once per step through its {@link TornadoLookupPlan}, whose row sort the
 * backward's deterministic per-row sums use. Rows, state, reads and writes are
 * {@link BufferDenseTable}'s; the plan and the two kernels are the device's.
 */
final class TornadoDenseTable extends BufferDenseTable {
    private final TornadoBackend tornado;

    TornadoDenseTable(TornadoBackend be, String name, int rows, int dim) {
        super(be, name, rows, dim, Integer.MAX_VALUE - 64);
        this.tornado = be;
    }

    @Override
    public LookupPlan newPlan() {
        open();
        return new TornadoLookupPlan(this, tornado, null);
    }

    @Override
    public void forward(LookupPlan plan, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut) {
        open();
        TornadoLookupPlan p = TornadoLookupPlan.of(this, plan);
        Checks.notNull("pooling", pooling);
        Checks.matrix("embeddingBag out", out, outOff, p.bags(), dim(), ldOut);
        TableOps.denseForward(tornado, region(table()), dim(), p.device(), pooling, accumulate, tornado.fr(out, "out"),
                outOff, ldOut);
    }

    @Override
    public void backward(LookupPlan plan, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad,
                         SparseOptimizer opt) {
        open();
        Checks.notNull(name(), ": optimizer", opt);
        TornadoLookupPlan p = TornadoLookupPlan.of(this, plan);
        Checks.notNull("pooling", pooling);
        Checks.matrix("embeddingBag gradOut", gradOut, gradOff, p.bags(), dim(), ldGrad);
        ensureState(opt.kind());
        TableOps.denseBackward(tornado, region(table()), dim(), state() == null ? null : region(state()), p.device(),
                pooling, tornado.fr(gradOut, "gradOut"), gradOff, ldGrad, opt);
    }

    /** The device region of one of this backend's buffers (all of them are {@link TornadoFloatBuf}s). */
    private static Region region(FloatBuf b) {
        return ((TornadoFloatBuf) b).region;
    }
}
