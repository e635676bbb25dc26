package org.ttrec.dlrm.train;

import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Dataset;
import org.ttrec.dlrm.data.Split;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import org.ttrec.dlrm.model.DlrmModel;

import java.io.IOException;

/** Runs a model over a split and computes accuracy, ROC AUC and log loss. */
public final class Evaluator {
    private Evaluator() {}

    /**
     * @param model     the model
     * @param data      the data set
     * @param split     which split
     * @param batchSize evaluation batch size
     * @return the metrics over the whole split
     * @throws IOException if the data cannot be read
     */
    public static BinaryMetrics.Result evaluate(DlrmModel model, Dataset data, Split split, int batchSize)
            throws IOException {
        BinaryMetrics m = new BinaryMetrics();
        try (BatchStream s = data.batches(split, batchSize, false, 0)) {
            for (Batch b = s.next(); b != null; b = s.next()) {
                float[] p = model.predict(b);
                m.add(p, b.labels(), b.size());
            }
        }
        return m.result();
    }
}
