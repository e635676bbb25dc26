package org.ttrec.dlrm.train;

import org.ttrec.dlrm.io.FileMagic;
import org.ttrec.dlrm.io.FloatIO;
import org.ttrec.dlrm.io.StrictUtf8;
import org.ttrec.dlrm.io.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;

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
 * Checkpoint files: everything needed to resume training bit-identically or to evaluate.
 *
 * <pre>
 * "TTRECCKP" | int format | int n | n bytes of JSON header (config, tables with kinds and TT
 * shapes, train state, provenance) | MLP parameters | optimiser state | each table's save()
 * | long CRC32 of everything before | "TTRECEND"
 * </pre>
 * Files are written to a temporary file in the same folder, forced to disk and renamed over
 * the target, so a crash never leaves a half-written checkpoint under the real name. On load
 * the checksum is verified over the whole file before anything is read into the model.
 */
public final class Checkpoint {
    private static final byte[] MAGIC = "TTRECCKP".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "TTRECEND".getBytes(StandardCharsets.US_ASCII);
    private static final int FORMAT = 1;
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
        ObjectNode h = JSON.createObjectNode();
        h.set("config", JSON.readTree(config.toJson()));
        h.set("state", JSON.valueToTree(state));
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
        if (provenance != null) {
            h.set("provenance", provenance);
        }
        if (extra != null) {
            h.setAll(extra);
        }
        byte[] header = JSON.writeValueAsBytes(h);

        Path tmp = AtomicFiles.tempNear(file);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                OutputStream raw = Channels.newOutputStream(ch);
                CRC32 crc = new CRC32();
                CheckedOutputStream checked = new CheckedOutputStream(new BufferedOutputStream(raw, 1 << 20), crc);
                DataOutputStream out = new DataOutputStream(checked);
                out.write(MAGIC);
                out.writeInt(FORMAT);
                out.writeInt(header.length);
                out.write(header);
                FloatIO.write(out, model.parameters(), 0, model.denseParameterCount());
                opt.save(out);
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
            if (opt != null) {
                opt.load(in);
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
            RunConfig config = RunConfig.fromJson(h.get("config").toString());
            TrainState state = JSON.treeToValue(h.get("state"), TrainState.class);
            if (state.step() < 0 || state.epoch() < 0 || state.batchInEpoch() < 0 || state.samples() < 0) {
                throw new IOException("checkpoint " + file + ": impossible training state " + state);
            }
            return new Header(config, state, h);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException("checkpoint " + file + ": unreadable header: " + e.getOriginalMessage(), e);
        }
    }

    /** Streams the file through CRC32 and compares with the stored value. */
    private static void verify(Path file) throws IOException {
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
