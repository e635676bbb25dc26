package org.ttrec.dlrm.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.io.AtomicFiles;
import org.ttrec.dlrm.io.FileMagic;
import org.ttrec.dlrm.io.FloatIO;
import org.ttrec.dlrm.io.StrictUtf8;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;

/**
 * The checkpoint file format, read and written here so that a service can load a trained model
 * with dlrm-model alone; the trainer's {@code Checkpoint} adds its training position and optimiser
 * to the sections this class leaves open.
 *
 * <pre>
 * "TTRECCKP" | int format | int n | n bytes of JSON header (config, tables with kinds and TT
 * shapes, train state, provenance) | MLP parameters | optimiser section | each table's save()
 * | long CRC32 of everything before | "TTRECEND"
 * </pre>
 * The optimiser section is the trainer's: {@code writeUTF(kind)}, {@code int n}, then for
 * {@code ADAGRAD} n little-endian floats of state (none for SGD). A reader that wants only the
 * model skips it by that rule ({@link #restore} with a null optimiser reader), so no class of the
 * trainer is needed to score a checkpoint.
 *
 * <p>Files are written to a temporary file in the same folder, forced to disk and renamed over
 * the target, so a crash never leaves a half-written checkpoint under the real name. On load
 * the checksum is verified over the whole file before anything is read into the model.
 */
public final class CheckpointFile {
    private static final byte[] MAGIC = "TTRECCKP".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "TTRECEND".getBytes(StandardCharsets.US_ASCII);
    private static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private CheckpointFile() {}

    /** Writes the optimiser section (the trainer's dense optimiser state). */
    @FunctionalInterface
    public interface Section {
        /**
         * @param data the checkpoint stream at the optimiser section
         * @throws IOException if writing fails
         */
        void accept(DataOutputStream data) throws IOException;
    }

    /** Reads the optimiser section. */
    @FunctionalInterface
    public interface SectionReader {
        /**
         * @param data the checkpoint stream at the optimiser section
         * @throws IOException if reading fails or the section does not fit
         */
        void accept(DataInputStream data) throws IOException;
    }

    /**
     * What a checkpoint says about itself, without the trainer's interpretation of it.
     *
     * @param config the run configuration
     * @param header the whole JSON header (config, state, tables, provenance, ...)
     */
    public record Header(RunConfig config, JsonNode header) {}

    /**
     * The header fields that describe the model: the configuration, the MLP size and one entry per
     * table (name, rows, dim, parameters, describe, and from the plan kind, cacheRows and the TT
     * shape's p, q and ranks).
     *
     * @param model  the model
     * @param config the run configuration
     * @param specs  the table plan, or null
     * @return a new header object to which the caller adds its own fields
     * @throws IOException if the configuration cannot be written as JSON
     */
    public static ObjectNode modelHeader(DlrmModel model, RunConfig config, List<EmbeddingTableSpec> specs)
            throws IOException {
        ObjectNode h = JSON.createObjectNode();
        h.set("config", JSON.readTree(config.toJson()));
        h.put("denseParameters", model.denseParameterCount());
        ArrayNode tables = h.putArray("tables");
        for (int i = 0; i < model.tables().size(); i++) {
            EmbeddingBagLayer l = model.tables().get(i);
            ObjectNode t = tables.addObject();
            t.put("name", l.name());
            t.put("rows", l.rows());
            t.put("dim", l.dim());
            t.put("parameters", l.parameterCount());
            t.put("describe", l.describe());
            if (specs != null && i < specs.size()) {
                EmbeddingTableSpec s = specs.get(i);
                t.put("kind", s.kind().name());
                t.put("cacheRows", s.cacheRows());
                if (s.ttShape() != null) {
                    t.put("p", Arrays.toString(s.ttShape().p()));
                    t.put("q", Arrays.toString(s.ttShape().q()));
                    t.put("ranks", Arrays.toString(s.ttShape().ranks()));
                }
            }
        }
        return h;
    }

    /**
     * Writes a checkpoint atomically.
     *
     * @param file      target file
     * @param model     the model
     * @param header    the JSON header (from {@link #modelHeader} plus the caller's fields)
     * @param optimizer writes the optimiser section
     * @throws IOException if writing fails (the previous file under that name is kept)
     */
    public static void write(Path file, DlrmModel model, ObjectNode header, Section optimizer) throws IOException {
        byte[] h = JSON.writeValueAsBytes(header);
        Path tmp = AtomicFiles.tempNear(file);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                OutputStream raw = Channels.newOutputStream(ch);
                CRC32 crc = new CRC32();
                CheckedOutputStream checked = new CheckedOutputStream(new BufferedOutputStream(raw, 1 << 20), crc);
                DataOutputStream out = new DataOutputStream(checked);
                out.write(MAGIC);
                out.writeInt(FORMAT);
                out.writeInt(h.length);
                out.write(h);
                FloatIO.write(out, model.parameters(), 0, model.denseParameterCount());
                optimizer.accept(out);
                for (EmbeddingBagLayer l : model.tables()) {
                    l.save(out);
                }
                out.flush();
                DataOutputStream tail = new DataOutputStream(new BufferedOutputStream(raw));
                tail.writeLong(crc.getValue());
                tail.write(END);
                tail.flush();
                ch.force(true);
            }
            pauseBeforeCommit();
            AtomicFiles.commit(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Test hook: {@code -Dttrec.test.checkpointCommitDelayMs=N} sleeps N ms between the finished
     * temporary file and the rename, so that a crash test can land kills there.
     */
    private static void pauseBeforeCommit() {
        long ms = Long.getLong("ttrec.test.checkpointCommitDelayMs", 0);
        if (ms > 0) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Verifies the checksum and reads the header.
     *
     * @param file checkpoint file
     * @return its header
     * @throws IOException if the file is missing, truncated, corrupt or not a checkpoint
     */
    public static Header readHeader(Path file) throws IOException {
        verify(file);
        try (DataInputStream in = open(file)) {
            return parseHeader(file, in);
        }
    }

    /**
     * Verifies the checksum and loads the parameters into a model built from the checkpoint's
     * config (the tables in the same order, kinds and shapes).
     *
     * @param file      checkpoint file
     * @param model     the model
     * @param optimizer reads the optimiser section, or null to skip it (evaluation, scoring)
     * @return the header
     * @throws IOException if the file is corrupt or does not match the model
     */
    public static Header restore(Path file, DlrmModel model, SectionReader optimizer) throws IOException {
        verify(file);
        try (DataInputStream in = open(file)) {
            Header h = parseHeader(file, in);
            int n = h.header().path("denseParameters").asInt(-1);
            if (n != model.denseParameterCount()) {
                throw new IOException("checkpoint " + file + " holds " + n + " MLP parameters, the model has "
                        + model.denseParameterCount() + " (different architecture)");
            }
            int tables = h.header().path("tables").size();
            if (tables != model.tables().size()) {
                throw new IOException("checkpoint " + file + " holds " + tables + " tables, the model has "
                        + model.tables().size());
            }
            FloatIO.read(in, model.parameters(), 0, n);
            if (optimizer != null) {
                optimizer.accept(in);
            } else {
                skipOptimizer(in);
            }
            for (EmbeddingBagLayer l : model.tables()) {
                l.load(in);
            }
            return h;
        } catch (EOFException e) {
            throw new IOException("checkpoint " + file + " is truncated: " + e.getMessage(), e);
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains(file.toString())) {
                throw e;
            }
            throw new IOException("checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /** Skips the optimiser section by the rule in the class comment. */
    private static void skipOptimizer(DataInputStream in) throws IOException {
        String kind = in.readUTF();
        int n = in.readInt();
        if (kind.equals("ADAGRAD")) {
            in.skipNBytes(4L * n);
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        return new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20));
    }

    private static Header parseHeader(Path file, DataInputStream in) throws IOException {
        byte[] magic = new byte[MAGIC.length];
        in.readFully(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException(file + " is not a ttrec checkpoint (bad magic)");
        }
        int format = in.readInt();
        if (format != FORMAT) {
            throw new IOException("checkpoint " + file + " has format " + format + ", this ttrec reads " + FORMAT);
        }
        int len = in.readInt();
        long size = Files.size(file);
        if (len < 2 || len > (64 << 20) || len > size - MAGIC.length - 8 - 8 - END.length) {
            throw new IOException("checkpoint " + file + ": header length " + len + " is implausible (corrupt file)");
        }
        byte[] header = new byte[len];
        in.readFully(header);
        String text = StrictUtf8.decode(header, "checkpoint " + file + ": the header");
        try {
            JsonNode h = JSON.readTree(text);
            if (h == null || !h.path("config").isObject() || !h.path("state").isObject()) {
                throw new IOException("checkpoint " + file + ": the header has no config or state (corrupt file)");
            }
            return new Header(RunConfig.fromStoredJson(h.get("config")), h);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("checkpoint " + file + ": unreadable header: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Streams the file through CRC32 and compares with the stored value.
     *
     * @param file a checkpoint file
     * @throws IOException if it is a folder, missing, not a checkpoint, truncated or corrupt
     */
    public static void verify(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IOException(file + " is a folder, not a checkpoint file (give a run folder to --resume or "
                    + "--checkpoint: its newest checkpoint is used)");
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException("checkpoint " + file + " does not exist");
        }
        byte[] head = FileMagic.head(file, 16);
        if (!FileMagic.prefixOf(head, "TTRECCKP")) {
            String what = FileMagic.describe(head);
            throw new IOException(file + " is not a ttrec checkpoint: it starts with bytes " + FileMagic.hex(head)
                    + (what == null ? "" : ", " + what) + " (checkpoints start with TTRECCKP)");
        }
        long size = Files.size(file);
        int trailer = 8 + END.length;
        if (size < MAGIC.length + 8 + trailer) {
            throw new IOException("checkpoint " + file + " is truncated (" + size + " bytes)");
        }
        CRC32 crc = new CRC32();
        byte[] tail = new byte[trailer];
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
            byte[] buf = new byte[1 << 20];
            long left = size - trailer;
            while (left > 0) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (r < 0) {
                    throw new IOException("checkpoint " + file + " is truncated");
                }
                crc.update(buf, 0, r);
                left -= r;
            }
            new DataInputStream(in).readFully(tail);
        }
        if (!Arrays.equals(Arrays.copyOfRange(tail, 8, trailer), END)) {
            throw new IOException("checkpoint " + file + " is truncated or incomplete (no end marker)");
        }
        long stored = java.nio.ByteBuffer.wrap(tail, 0, 8).getLong();
        if (stored != crc.getValue()) {
            throw new IOException(String.format("checkpoint %s is corrupt: CRC32 %08x, expected %08x", file,
                    crc.getValue(), stored));
        }
    }
}
