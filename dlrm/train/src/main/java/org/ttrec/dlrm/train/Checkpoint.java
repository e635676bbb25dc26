package org.ttrec.dlrm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.model.CheckpointFile;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Checkpoints of a training run: everything needed to resume training bit-identically or to
 * evaluate. The file format and its checks live in dlrm-model ({@link CheckpointFile}), so that a
 * service loads the model part without this module; this class adds what only training needs:
 * the training position in the header ({@code state}) and the dense optimiser's state in the
 * optimiser section.
 */
public final class Checkpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoint() {}

    /**
     * What a checkpoint says about itself.
     *
     * @param config the run configuration
     * @param state  the training position
     * @param header the whole JSON header (tables, provenance)
     */
    public record Header(RunConfig config, TrainState state, JsonNode header) {}

    /**
     * Writes a checkpoint atomically.
     *
     * @param file       target file
     * @param model      the model
     * @param opt        its optimiser
     * @param config     the run configuration
     * @param specs      the table plan (kinds and TT shapes), recorded in the header
     * @param state      the training position
     * @param provenance extra header fields (version, git SHA, backend, ...), may be null
     * @throws IOException if writing fails (the previous file under that name is kept)
     */
    public static void write(Path file, DlrmModel model, DenseOptimizer opt, RunConfig config,
                             List<EmbeddingTableSpec> specs, TrainState state, ObjectNode provenance) throws IOException {
        write(file, model, opt, config, specs, state, provenance, null);
    }

    /**
     * Writes a checkpoint atomically, with extra header sections (the training loop's log window,
     * the validation metrics of this state, ...).
     *
     * @param file       target file
     * @param model      the model
     * @param opt        its optimiser
     * @param config     the run configuration
     * @param specs      the table plan (kinds and TT shapes), recorded in the header
     * @param state      the training position
     * @param provenance extra header fields (version, git SHA, backend, ...), may be null
     * @param extra      more header fields, copied in as they are, may be null
     * @throws IOException if writing fails (the previous file under that name is kept)
     */
    public static void write(Path file, DlrmModel model, DenseOptimizer opt, RunConfig config,
                             List<EmbeddingTableSpec> specs, TrainState state, ObjectNode provenance,
                             ObjectNode extra) throws IOException {
        ObjectNode h = CheckpointFile.modelHeader(model, config, specs);
        // "state" right after the config, where format-1 files have always had it
        ObjectNode ordered = JSON.createObjectNode();
        ordered.set("config", h.get("config"));
        ordered.set("state", JSON.valueToTree(state));
        h.remove("config");
        ordered.setAll(h);
        if (provenance != null) {
            ordered.set("provenance", provenance);
        }
        if (extra != null) {
            ordered.setAll(extra);
        }
        CheckpointFile.write(file, model, ordered, opt::save);
    }

    /**
     * Verifies the checksum and reads the header.
     *
     * @param file checkpoint file
     * @return its header
     * @throws IOException if the file is missing, truncated, corrupt or not a checkpoint
     */
    public static Header readHeader(Path file) throws IOException {
        return withState(file, CheckpointFile.readHeader(file));
    }

    /**
     * Verifies the checksum and loads parameters and optimiser state into a model built from
     * the checkpoint's config.
     *
     * @param file  checkpoint file
     * @param model the model (same architecture and tables)
     * @param opt   its optimiser (same kind), or null to skip optimiser state (evaluation)
     * @return the header
     * @throws IOException if the file is corrupt or does not match the model
     */
    public static Header restore(Path file, DlrmModel model, DenseOptimizer opt) throws IOException {
        return withState(file, CheckpointFile.restore(file, model, opt == null ? null : opt::load));
    }

    private static Header withState(Path file, CheckpointFile.Header h) throws IOException {
        try {
            TrainState state = JSON.treeToValue(h.header().get("state"), TrainState.class);
            if (state.step() < 0 || state.epoch() < 0 || state.batchInEpoch() < 0 || state.samples() < 0) {
                throw new IOException("checkpoint " + file + ": impossible training state " + state);
            }
            return new Header(h.config(), state, h.header());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("checkpoint " + file + ": unreadable header: " + e.getOriginalMessage(), e);
        }
    }
}
