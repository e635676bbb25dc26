package org.ttrec.dlrm.config;

/**
 * Where samples come from. {@code source} is "synthetic" (the data pipeline's teacher-labelled
 * generator shaped like the model's tables, sized and tuned by the fields below) or a path or
 * specification handed to {@link org.ttrec.dlrm.data.Datasets#open}.
 */
public final class DataConfig {
    /** "synthetic" or a data specification for the Criteo pipeline. */
    public String source = "synthetic";
    /** Synthetic: training samples; validation and test each get one twelfth of this (dlrm's day split). */
    public long trainSamples = 200_000;
    /** Synthetic: Zipf exponent of categorical values (0 = uniform). */
    public double zipf = 1.05;
    /** Synthetic: AUC the hidden teacher is calibrated to (the ceiling a model can reach). */
    public double teacherAuc = 0.80;
    /** Synthetic: mean click rate. */
    public double ctr = 0.25;
    /** Synthetic: pairwise categorical interaction terms of the teacher. */
    public int interactions = 4;

    /** @throws IllegalArgumentException naming the wrong field */
    public void validate() {
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("data.source is empty");
        }
        if (trainSamples < 6) {
            throw new IllegalArgumentException("data.trainSamples must be >= 6, got " + trainSamples);
        }
        if (!(zipf >= 0 && zipf <= 10)) {
            throw new IllegalArgumentException("data.zipf must be in [0, 10], got " + zipf);
        }
        if (!(teacherAuc > 0.55 && teacherAuc < 0.97)) {
            throw new IllegalArgumentException("data.teacherAuc must be in (0.55, 0.97), got " + teacherAuc);
        }
        if (!(ctr > 0.01 && ctr < 0.99)) {
            throw new IllegalArgumentException("data.ctr must be in (0.01, 0.99), got " + ctr);
        }
        if (interactions < 0) {
            throw new IllegalArgumentException("data.interactions must be >= 0, got " + interactions);
        }
    }
}
