package org.ttrec.engine.tornado;

import org.ttrec.engine.Checks;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.scalar.ScalarTt;
import org.ttrec.engine.table.BufferTtTable;

/**
 * A TT table of the tornado backend: cores and optimiser state stay in device memory for the
 * life of the table; a batch arrives once per step through its {@link TornadoLookupPlan}. d = 3
 * shapes run the fast kernels, others the generic ones (whose shape descriptor, naming the
 * cores' places, is written once here). Cores, states, reads and writes are
 * {@link BufferTtTable}'s; the plan, the two kernels and materialise are the device's.
 */
final class TornadoTtTable extends BufferTtTable {
    private final TornadoBackend tornado;
    /** The generic kernels' shape descriptor on the device, or null for the fast d = 3 kernels (or once closed). */
    private TornadoIntBuf desc;

    TornadoTtTable(TornadoBackend be, String name, TtShape shape) {
        Checks.notNull("table name", name);
        Checks.notNull(name, ": TT shape", shape);
        TableOps.checkShape(name, shape); // before any core is allocated
        super(be, name, shape);
        this.tornado = be;
        if (!TableOps.fast(shape)) {
            FloatBuf[] cores = coreBuffers();
            int[] offs = new int[cores.length];
            for (int k = 0; k < cores.length; k++) {
                offs[k] = TornadoBackend.off(region(cores[k]));
            }
            int[] d = TableOps.descriptor(shape, offs);
            desc = be.intBuf(d.length);
            desc.write(0, d, 0, d.length);
        }
    }

    @Override
    public LookupPlan newPlan() {
        open();
        return new TornadoLookupPlan(this, tornado, shape().p());
    }

    @Override
    public void forward(LookupPlan plan, Pooling pooling, boolean accumulate, FloatBuf out, int outOff, int ldOut) {
        open();
        TornadoLookupPlan p = TornadoLookupPlan.of(this, plan);
        Checks.notNull("pooling", pooling);
        Checks.matrix("TT-EmbeddingBag out", out, outOff, p.bags(), shape().dim(), ldOut);
        TableOps.ttForward(tornado, shape(), regions(coreBuffers()), desc == null ? null : desc.region, p.device(),
                pooling, accumulate, tornado.fr(out, "out"), outOff, ldOut);
    }

    @Override
    public void backward(LookupPlan plan, Pooling pooling, FloatBuf gradOut, int gradOff, int ldGrad,
                         SparseOptimizer opt) {
        open();
        Checks.notNull(name(), ": optimizer", opt);
        TornadoLookupPlan p = TornadoLookupPlan.of(this, plan);
        Checks.notNull("pooling", pooling);
        Checks.matrix("TT-EmbeddingBag gradOut", gradOut, gradOff, p.bags(), shape().dim(), ldGrad);
        ensureStates(opt.kind());
        FloatBuf[] states = stateBuffers();
        TableOps.ttBackward(tornado, shape(), regions(coreBuffers()), states == null ? null : regions(states),
                desc == null ? null : desc.region, p.device(), pooling, tornado.fr(gradOut, "gradOut"), gradOff, ldGrad,
                opt);
    }

    /** Rows computed on the host from the cores, as the reference computes them. */
    @Override
    public float[] materialize(int[] rowIds) {
        open();
        Checks.notNull(name(), ": rowIds", rowIds);
        TtShape shape = shape();
        Checks.indices(name(), rowIds, 0, rowIds.length, shape.rows());
        FloatBuf[] cores = coreBuffers();
        float[][] host = new float[cores.length][];
        for (int k = 0; k < host.length; k++) {
            host[k] = cores[k].toArray();
        }
        int dim = shape.dim();
        float[] out = new float[Math.multiplyExact(rowIds.length, dim)];
        for (int i = 0; i < rowIds.length; i++) {
            System.arraycopy(ScalarTt.row(shape, host, rowIds[i]), 0, out, i * dim, dim);
        }
        return out;
    }

    @Override
    public void close() {
        super.close();
        if (desc != null) {
            desc.close();
            desc = null;
        }
    }

    /** The device region of one of this backend's buffers (all of them are {@link TornadoFloatBuf}s). */
    private static Region region(FloatBuf b) {
        return ((TornadoFloatBuf) b).region;
    }

    private static Region[] regions(FloatBuf[] bufs) {
        Region[] r = new Region[bufs.length];
        for (int k = 0; k < r.length; k++) {
            r[k] = region(bufs[k]);
        }
        return r;
    }
}
