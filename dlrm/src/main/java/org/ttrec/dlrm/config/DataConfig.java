package org.ttrec.dlrm.config;

/**
 * Where samples come from. {@code source} is "synthetic" (the built-in stand-in generator,
 * sized by the fields below) or a path/spec handed to the data pipeline.
 */
public final class DataConfig {
    /** "synthetic" or a data specification for the Criteo pipeline. */
    public String source = "synthetic";
    /** Synthetic: training samples. */
    public long trainSamples = 200_000;
    /** Synthetic: validation samples. */
    public long validationSamples = 20_000;
    /** Synthetic: test samples. */
    public long testSamples = 20_000;
    /** Synthetic: skew of the index distribution (row = floor(N u^skew), 1 = uniform). */
    public double skew = 3.0;
    /** Synthetic: standard deviation of the teacher's logit. */
    public double teacherScale = 2.5;

    /** @throws IllegalArgumentException naming the wrong field */
    public void validate() {
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("data.source is empty");
        }
        if (trainSamples < 1 || validationSamples < 1 || testSamples < 1) {
            throw new IllegalArgumentException("data: synthetic split sizes must be >= 1");
        }
        if (!(skew >= 1)) {
            throw new IllegalArgumentException("data.skew must be >= 1, got " + skew);
        }
    }
}
