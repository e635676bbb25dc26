package org.ttrec.dlrm.model;

import org.ttrec.dlrm.io.FloatIO;
import org.ttrec.dlrm.config.RunConfig;

import java.util.List;

/**
 * Estimates the memory a run needs before anything is allocated, so impossible configurations
 * fail at once with a message naming the biggest consumers instead of an OutOfMemoryError
 * minutes into table initialisation.
 *
 * @param tableBytes      bytes of every table (parameters and optimiser state, and a TT table's
 *                        hot-row cache counts: one int per row)
 * @param denseBytes      MLP parameters, gradients and optimiser state
 * @param activationBytes activations and their gradients at the largest batch size
 */
public record MemoryPlan(long[] tableBytes, long denseBytes, long activationBytes) {

    /** @return the total estimate in bytes */
    public long total() {
        long s = denseBytes + activationBytes;
        for (long b : tableBytes) {
            s += b;
        }
        return s;
    }

    /**
     * @param c     the run configuration
     * @param specs the table plan
     * @return the estimate
     */
    public static MemoryPlan estimate(RunConfig c, List<EmbeddingTableSpec> specs) {
        int stateFactor = c.train.optimizer.equals("adagrad") ? 1 : 0;
        long[] tb = new long[specs.size()];
        for (int i = 0; i < tb.length; i++) {
            EmbeddingTableSpec s = specs.get(i);
            tb[i] = s.bytes(stateFactor);
            if (s.kind() == EmbeddingTableSpec.Kind.TT && s.cacheRows() > 0) {
                tb[i] += 4L * s.rows(); // the cache's lookup counts (TtEmbeddingBag.counts)
            }
        }
        long dense = denseParameters(c) * 4L * (2 + stateFactor);
        int batch = Math.max(c.train.batchSize, c.train.testBatchSize);
        long perRow = 0;
        for (int w : c.model.bottomWidths()) {
            perRow += 2L * w;
        }
        for (int w : c.model.topWidths()) {
            perRow += 2L * w;
        }
        int f = c.model.interactionVectors();
        perRow += 2L * f * c.model.embeddingDim;
        if (c.model.interaction.equals("dot")) {
            perRow += 2L * f * f;
        }
        return new MemoryPlan(tb, dense, perRow * 4L * batch);
    }

    /**
     * @param c the run configuration
     * @return the number of MLP parameters it implies
     */
    public static long denseParameters(RunConfig c) {
        long n = 0;
        for (int[] w : new int[][] {c.model.bottomWidths(), c.model.topWidths()}) {
            for (int i = 0; i + 1 < w.length; i++) {
                n += (long) w[i] * w[i + 1] + w[i + 1];
            }
        }
        return n;
    }

    /**
     * Throws unless the run fits.
     *
     * @param specs     the table plan
     * @param available bytes available ({@link org.ttrec.engine.ComputeBackend#memoryAvailable()} of
     *                  the backend that will hold the model)
     * @throws IllegalArgumentException naming the largest table and the byte counts
     */
    public void check(List<EmbeddingTableSpec> specs, long available) {
        for (EmbeddingTableSpec s : specs) {
            if (s.kind() == EmbeddingTableSpec.Kind.DENSE && (long) s.rows() * s.dim() > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException(String.format("%s: an uncompressed %,d x %d table (%s) does not fit "
                        + "one buffer (at most 2^31 floats); make it TT (--tt-threshold) or cap rows (--max-ind-range)",
                        s.name(), s.rows(), s.dim(), FloatIO.bytes(4L * s.rows() * s.dim())));
            }
        }
        if (total() <= available) {
            return;
        }
        int big = 0;
        for (int i = 1; i < tableBytes.length; i++) {
            if (tableBytes[i] > tableBytes[big]) {
                big = i;
            }
        }
        EmbeddingTableSpec s = specs.get(big);
        throw new IllegalArgumentException(String.format("the model needs about %s but only %s is available on the backend; "
                        + "largest: %s (%s %,d x %d) needs %s. Compress more tables (--tt-threshold, --tt-rank, "
                        + "--memory-budget), cap rows (--max-ind-range) or raise the heap (TTREC_HEAP=-Xmx...)",
                FloatIO.bytes(total()), FloatIO.bytes(available), s.name(), s.kind() == EmbeddingTableSpec.Kind.TT
                        ? "TT" : "uncompressed", s.rows(), s.dim(), FloatIO.bytes(tableBytes[big])));
    }
}
