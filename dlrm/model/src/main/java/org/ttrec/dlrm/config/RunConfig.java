package org.ttrec.dlrm.config;

import org.ttrec.dlrm.io.StrictUtf8;
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

    /**
     * @return a mapper that rejects unknown fields (a typo in a config file is an error) and
     *         merges nested sections, so a file that sets one field of "model" keeps the rest
     *         (arrays are replaced, not appended to)
     */
    public static ObjectMapper mapper() {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        m.setDefaultMergeable(Boolean.TRUE);
        return m;
    }

    /**
     * Applies a JSON file on top of this config (fields it does not name keep their values).
     *
     * @param file JSON file
     * @throws IOException if it cannot be read or names unknown fields
     */
    public void apply(Path file) throws IOException {
        if (!java.nio.file.Files.isRegularFile(file)) {
            throw new IOException("config file " + file + " does not exist");
        }
        try {
            mapper().readerForUpdating(this).readValue(StrictUtf8.read(file));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("config " + file + ": " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Sets one field by its path, e.g. {@code train.lr=0.05}, {@code model.tableRows=[10,20]} or
     * {@code model.tt.perTable={"2":{"rank":16}}}: the value is read as JSON when it parses as
     * JSON, else as a string. Unknown paths are errors.
     *
     * @param assignment "path=value"
     * @throws IllegalArgumentException if it is malformed or names an unknown field
     */
    public void set(String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("--set '" + assignment + "': expected path=value, e.g. train.lr=0.05");
        }
        String[] path = assignment.substring(0, eq).trim().split("\\.");
        String raw = assignment.substring(eq + 1).trim();
        ObjectMapper m = mapper();
        com.fasterxml.jackson.databind.JsonNode value;
        try {
            value = m.readTree(raw);
            if (value == null || value.isMissingNode()) {
                value = m.getNodeFactory().textNode(raw);
            }
        } catch (IOException e) {
            value = m.getNodeFactory().textNode(raw);
        }
        com.fasterxml.jackson.databind.node.ObjectNode root = m.createObjectNode();
        com.fasterxml.jackson.databind.node.ObjectNode cur = root;
        for (int i = 0; i < path.length - 1; i++) {
            cur = cur.putObject(path[i]);
        }
        cur.set(path[path.length - 1], value);
        try {
            m.readerForUpdating(this).readValue(m.writeValueAsString(root));
        } catch (IOException e) {
            throw new IllegalArgumentException("--set '" + assignment + "': " + (e instanceof com.fasterxml.jackson.core.JacksonException je
                    ? je.getOriginalMessage() : e.getMessage()), e);
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

    /**
     * Reads the config a checkpoint stored. Checkpoints written before {@code model.tt.optimizer}
     * existed trained their cores with train.optimizer at its plain rate; a stored config without
     * the field gets "same", that rule, so such a run resumes as it was trained rather than
     * switching to today's default halfway.
     *
     * @param json the stored config, as its checkpoint's header holds it
     * @return the config it holds
     * @throws IOException if it is not a config
     */
    public static RunConfig fromStoredJson(com.fasterxml.jackson.databind.JsonNode json) throws IOException {
        RunConfig c = mapper().treeToValue(json, RunConfig.class);
        if (!json.path("model").path("tt").has("optimizer")) {
            c.model.tt.optimizer = "same";
        }
        return c;
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
