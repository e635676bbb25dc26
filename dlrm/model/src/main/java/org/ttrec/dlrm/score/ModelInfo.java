package org.ttrec.dlrm.score;

import java.util.List;

/**
 * What a loaded model is: its input shape, tables and compression, and where it came from.
 *
 * @param denseFeatures          dense features per row
 * @param embeddingDim           embedding dimension D
 * @param tables                 one entry per categorical feature, in order
 * @param mlpParameters          parameters of the two MLPs
 * @param parameters             all parameters (MLPs, TT cores, uncompressed tables, cache rows)
 * @param uncompressedParameters parameters of the same model with every table uncompressed
 * @param source                 the checkpoint the model file was written from
 * @param step                   the training step of that checkpoint (-1 if unknown)
 * @param dictionaries           whether raw categorical values can be scored (the model has dictionaries)
 * @param provenanceJson         the training run's provenance (version, git SHA, backend, JVM, ...) as JSON,
 *                               "{}" if none was recorded
 */
public record ModelInfo(int denseFeatures, int embeddingDim, List<Table> tables, long mlpParameters,
                        long parameters, long uncompressedParameters, String source, long step,
                        boolean dictionaries, String provenanceJson) {

    /**
     * One embedding table.
     *
     * @param name       its name ("table 3")
     * @param kind       "TT" or "DENSE"
     * @param rows       N
     * @param parameters parameters it holds
     * @param p          TT row factors (empty for an uncompressed table)
     * @param q          TT column factors (empty for an uncompressed table)
     * @param ranks      TT ranks R_0..R_d (empty for an uncompressed table)
     * @param cacheRows  rows of its hot-row cache in use, -1 for none
     */
    public record Table(String name, String kind, int rows, long parameters, List<Integer> p, List<Integer> q,
                       List<Integer> ranks, int cacheRows) {}

    /** @return the tables' row counts, in feature order */
    public int[] tableRows() {
        return tables.stream().mapToInt(Table::rows).toArray();
    }

    /** @return uncompressed parameters over held parameters, the whole model's compression ratio */
    public double compressionRatio() {
        return (double) uncompressedParameters / parameters;
    }
}
