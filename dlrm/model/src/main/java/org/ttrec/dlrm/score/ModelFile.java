package org.ttrec.dlrm.score;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Model files ({@code .ttrm}, docs/model-file.md): a trained model in one checksummed file that a
 * scoring service maps into memory and starts from without parsing (several JVMs mapping the same
 * file share its pages). Written from a checkpoint or a run folder; read by {@link ScoringModel#load}.
 */
public final class ModelFile {
    /** The usual file name extension. */
    public static final String EXTENSION = ".ttrm";

    private ModelFile() {}

    /**
     * Writes the model file of a checkpoint atomically (a temporary file renamed over the target).
     *
     * @param source       a checkpoint, or a run folder (its newest checkpoint, or with {@code best} its best)
     * @param target       the model file to write
     * @param dictionaries the dictionaries to embed, or null to take the run folder's
     *                     {@code dictionaries.ttrd} (raw text training saves them there) or the
     *                     preprocessed data folder's, if either exists
     * @param best         for a run folder: its {@code best.ttrec} instead of its newest checkpoint
     * @return the checkpoint that was written out
     * @throws IOException if the checkpoint is unreadable, corrupt or inconsistent, the dictionaries do
     *                     not fit its tables, or writing fails
     */
    public static Path write(Path source, Path target, Path dictionaries, boolean best) throws IOException {
        Path ckpt = ModelFileWriter.resolveCheckpoint(source, best);
        Path dict = ModelFileWriter.findDictionaries(ckpt,
                org.ttrec.dlrm.model.CheckpointFile.readHeader(ckpt).config(), dictionaries);
        ModelFileWriter.write(ckpt, target, dict);
        return ckpt;
    }

    /**
     * Maps a model file, verifies every checksum and describes it.
     *
     * @param file a model file
     * @return what it holds
     * @throws IOException if it is missing, not a model file, truncated or corrupt (naming the section)
     */
    public static ModelInfo inspect(Path file) throws IOException {
        try (ModelImage image = ModelImage.open(file)) {
            return ScoringModel.describe(image);
        }
    }
}
