package org.ttrec.dlrm.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Everything a training run is configured by: a preset, then a JSON file, then command-line
 * flags, each overriding the one before. Recorded in the run folder and in checkpoints.
 */
public final class RunConfig {
    /** Name of the preset this started from. */
    public String preset = "tiny";
    /** The architecture. */
    public ModelConfig model = new ModelConfig();
    /** The training procedure. */
    public TrainConfig train = new TrainConfig();
    /** The data. */
    public DataConfig data = new DataConfig();

    /** @return a mapper that rejects unknown fields (a typo in a config file is an error) */
    public static ObjectMapper mapper() {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /**
     * Applies a JSON file on top of this config (fields it does not name keep their values).
     *
     * @param file JSON file
     * @throws IOException if it cannot be read or names unknown fields
     */
    public void apply(Path file) throws IOException {
        try {
            mapper().readerForUpdating(this).readValue(file.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("config " + file + ": " + e.getOriginalMessage(), e);
        }
    }

    /** @return this config as JSON */
    public String toJson() {
        try {
            return mapper().writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * @param json JSON text
     * @return the config it holds
     * @throws IOException if it is not a config
     */
    public static RunConfig fromJson(String json) throws IOException {
        return mapper().readValue(json, RunConfig.class);
    }

    /** @return a deep copy */
    public RunConfig copy() {
        try {
            return fromJson(toJson());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Validates every part. */
    public void validate() {
        model.validate();
        train.validate();
        data.validate();
    }
}
