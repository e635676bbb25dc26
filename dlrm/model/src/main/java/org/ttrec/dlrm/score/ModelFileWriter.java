package org.ttrec.dlrm.score;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.data.ShardFormat;
import org.ttrec.dlrm.io.AtomicFiles;
import org.ttrec.dlrm.layers.DenseEmbeddingBag;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.model.CheckpointFile;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.model.MemoryPlan;
import org.ttrec.dlrm.model.TableFactory;
import org.ttrec.dlrm.tt.TtEmbeddingBag;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.scalar.ScalarBackend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Writes model files (docs/model-file.md) from checkpoints: the checkpoint's model is built on the
 * scalar backend, restored (its checksum verified on the way), and its configuration, MLP
 * parameters, tables and dictionaries are written as aligned little-endian sections behind a
 * fixed header, with the JSON description last, since it records where every section lies.
 */
final class ModelFileWriter {
    static final byte[] MAGIC = "TTRECMDL".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_BYTES = 64;
    /** Sections start at multiples of this: a cache line, and more than any SIMD load needs. */
    static final int ALIGN = 64;
    static final String LATEST = "checkpoint.ttrec";
    static final String BEST = "best.ttrec";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelFileWriter() {}

    /**
     * The checkpoint a path stands for: a file is itself; a run folder its newest checkpoint (the
     * highest {@code checkpoints/step-N.ttrec}, else {@code checkpoint.ttrec}) or, with {@code best},
     * {@code best.ttrec}. The same rule as the trainer's run folders, restated here because a
     * service has no dlrm-train.
     */
    static Path resolveCheckpoint(Path path, boolean best) throws IOException {
        if (!Files.isDirectory(path)) {
            if (!Files.exists(path)) {
                throw new IOException("model " + path + " does not exist");
            }
            return path;
        }
        if (best) {
            if (Files.isRegularFile(path.resolve(BEST))) {
                return path.resolve(BEST);
            }
            throw new IOException(path + " has no " + BEST + " (no checkpoint was validated); load its newest instead");
        }
        TreeMap<Long, Path> steps = new TreeMap<>();
        Path dir = path.resolve("checkpoints");
        if (Files.isDirectory(dir)) {
            try (var s = Files.newDirectoryStream(dir, "step-*.ttrec")) {
                for (Path p : s) {
                    String n = p.getFileName().toString();
                    try {
                        steps.put(Long.parseLong(n.substring(5, n.length() - 6)), p);
                    } catch (NumberFormatException e) {
                        // not one of ours
                    }
                }
            }
        }
        if (!steps.isEmpty()) {
            return steps.lastEntry().getValue();
        }
        if (Files.isRegularFile(path.resolve(LATEST))) {
            return path.resolve(LATEST);
        }
        throw new IOException(path + " is a folder without checkpoints (no checkpoints/step-*.ttrec or " + LATEST
                + "); give a model file, a checkpoint or a run folder written by 'ttrec train'");
    }

    /**
     * Where a checkpoint's dictionaries are: {@code explicit} if given; else {@code dictionaries.ttrd}
     * of its run folder (raw text training saves them there), else of the folder its data came from
     * (a preprocessed folder); null if none exists (data whose values are indices already).
     */
    static Path findDictionaries(Path checkpoint, RunConfig config, Path explicit) throws IOException {
        if (explicit != null) {
            if (!Files.isRegularFile(explicit)) {
                throw new IOException("dictionaries " + explicit + " do not exist");
            }
            return explicit;
        }
        // RUN/checkpoint.ttrec, RUN/best.ttrec, RUN/checkpoints/step-N.ttrec: the run folder is RUN
        Path parent = checkpoint.toAbsolutePath().normalize().getParent();
        Path run = parent.getFileName() != null && parent.getFileName().toString().equals("checkpoints")
                && parent.getParent() != null ? parent.getParent() : parent;
        if (Files.isRegularFile(run.resolve(ShardFormat.DICTIONARIES))) {
            return run.resolve(ShardFormat.DICTIONARIES);
        }
        String src = config.data.source;
        if (src != null && !src.startsWith("synthetic") && !src.contains(",")) {
            try {
                Path d = Path.of(src);
                if (Files.isDirectory(d) && Files.isRegularFile(d.resolve(ShardFormat.DICTIONARIES))) {
                    return d.resolve(ShardFormat.DICTIONARIES);
                }
            } catch (java.nio.file.InvalidPathException e) {
                return null;
            }
        }
        return null;
    }

    /** The table plan a checkpoint's configuration implies, as the trainer makes it. */
    static List<EmbeddingTableSpec> plan(RunConfig c) {
        c.validate();
        int stateFactor = c.train.optimizer.equals("adagrad") ? 1 : 0;
        return TableFactory.plan(c.model, MemoryPlan.denseParameters(c), stateFactor);
    }

    /**
     * Writes the model file of a checkpoint atomically.
     *
     * @param checkpoint   the checkpoint file
     * @param target       the model file to write
     * @param dictionaries the dictionaries file to embed, or null for none
     * @throws IOException if the checkpoint is unreadable or does not match its own configuration,
     *                     or writing fails
     */
    static void write(Path checkpoint, Path target, Path dictionaries) throws IOException {
        CheckpointFile.Header h = CheckpointFile.readHeader(checkpoint);
        RunConfig c = h.config();
        List<EmbeddingTableSpec> specs;
        try {
            specs = plan(c);
        } catch (IllegalArgumentException e) {
            throw new IOException("checkpoint " + checkpoint + ": its configuration is invalid: " + e.getMessage(), e);
        }
        checkTables(checkpoint, h.header(), specs);
        byte[] dict = null;
        if (dictionaries != null) {
            dict = Files.readAllBytes(dictionaries);
            // read once to check them and that they fit the tables before anything is written
            Dictionaries d = Dictionaries.read(new java.io.ByteArrayInputStream(dict), dictionaries.toString(), dict.length);
            checkDictionaries(dictionaries.toString(), d, c.model.effectiveRows());
        }
        try (ScalarBackend be = new ScalarBackend();
             DlrmModel model = DlrmModel.build(be, c.model, specs, c.train.seed)) {
            CheckpointFile.restore(checkpoint, model, null);
            ObjectNode source = JSON.createObjectNode();
            source.put("checkpoint", checkpoint.toAbsolutePath().normalize().toString());
            source.set("state", h.header().path("state"));
            if (h.header().has("validation")) {
                source.set("validation", h.header().get("validation"));
            }
            if (dictionaries != null) {
                source.put("dictionaries", dictionaries.toAbsolutePath().normalize().toString());
            }
            Path tmp = AtomicFiles.tempNear(target);
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                    new Sections(ch).write(model, c, specs, dict, source, h.header().path("provenance"));
                    ch.force(true);
                }
                AtomicFiles.commit(tmp, target);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }

    static void checkDictionaries(String name, Dictionaries d, int[] rows) throws IOException {
        int[] card = d.cardinalities();
        if (!Arrays.equals(card, rows)) {
            throw new IOException("dictionaries " + name + " give table sizes " + Arrays.toString(card)
                    + ", the model has " + Arrays.toString(rows) + ": they belong to other data");
        }
    }

    /** The checkpoint's recorded tables must be those its configuration plans (else it was trained otherwise). */
    private static void checkTables(Path file, JsonNode header, List<EmbeddingTableSpec> specs) throws IOException {
        JsonNode tables = header.path("tables");
        if (tables.size() != specs.size()) {
            throw new IOException("checkpoint " + file + " records " + tables.size() + " tables, its configuration plans "
                    + specs.size());
        }
        for (int i = 0; i < specs.size(); i++) {
            EmbeddingTableSpec s = specs.get(i);
            JsonNode t = tables.get(i);
            boolean same = t.path("rows").asLong() == s.rows() && t.path("dim").asInt() == s.dim()
                    && t.path("kind").asText(s.kind().name()).equals(s.kind().name());
            if (same && s.ttShape() != null) {
                same = t.path("p").asText(Arrays.toString(s.ttShape().p())).equals(Arrays.toString(s.ttShape().p()))
                        && t.path("ranks").asText(Arrays.toString(s.ttShape().ranks()))
                        .equals(Arrays.toString(s.ttShape().ranks()));
            }
            if (!same) {
                throw new IOException("checkpoint " + file + ": " + s.name() + " is recorded as " + t.path("describe").asText()
                        + " but its configuration plans " + s.describe());
            }
        }
    }

    /** Lays the sections out one after another on a channel, then the JSON, then the fixed header. */
    private static final class Sections {
        private final FileChannel ch;
        private final ArrayNode list = JSON.createArrayNode();
        private long pos = HEADER_BYTES;

        Sections(FileChannel ch) {
            this.ch = ch;
        }

        void write(DlrmModel model, RunConfig c, List<EmbeddingTableSpec> specs, byte[] dict, ObjectNode source,
                   JsonNode provenance) throws IOException {
            ObjectNode root = JSON.createObjectNode();
            root.put("format", "ttrec-model");
            root.put("version", VERSION);
            root.set("config", JSON.readTree(c.toJson()));
            ObjectNode m = root.putObject("model");
            m.put("denseFeatures", c.model.denseFeatures);
            m.put("embeddingDim", c.model.embeddingDim);
            m.put("mlpParameters", model.denseParameterCount());
            m.put("parameters", model.parameterCount());
            m.put("uncompressedParameters", model.uncompressedParameterCount());
            floats("mlp", model.parameters().toArray());
            ArrayNode tables = m.putArray("tables");
            for (int i = 0; i < specs.size(); i++) {
                EmbeddingTableSpec s = specs.get(i);
                EmbeddingBagLayer l = model.tables().get(i);
                ObjectNode t = tables.addObject();
                t.put("name", s.name());
                t.put("kind", s.kind().name());
                t.put("rows", s.rows());
                t.put("dim", s.dim());
                t.put("pooling", s.pooling().name());
                t.put("parameters", l.parameterCount());
                String prefix = "table " + i;
                if (l instanceof TtEmbeddingBag tt) {
                    TtShape sh = tt.shape();
                    t.set("p", JSON.valueToTree(sh.p()));
                    t.set("q", JSON.valueToTree(sh.q()));
                    t.set("ranks", JSON.valueToTree(sh.ranks()));
                    for (int k = 0; k < sh.cores(); k++) {
                        floats(prefix + " core " + k, tt.table().readCore(k));
                    }
                    // -1: no cache in use; k >= 0: a populated cache of k rows, which pools as a cache
                    int[] cached = tt.cachePopulated() ? tt.cachedRows() : null;
                    t.put("cacheRows", cached == null ? -1 : cached.length);
                    if (cached != null) {
                        ints(prefix + " cache rows", cached);
                        floats(prefix + " cache values", tt.materialize(cached));
                    }
                } else if (l instanceof DenseEmbeddingBag d) {
                    denseRows(prefix + " rows", d);
                } else {
                    throw new IOException(s.name() + ": no model-file form for " + l.getClass().getSimpleName());
                }
            }
            if (dict != null) {
                bytes("dictionaries", ByteBuffer.wrap(dict));
            }
            root.set("source", source);
            if (!provenance.isMissingNode()) {
                root.set("provenance", provenance);
            }
            root.set("sections", list);
            byte[] json = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
            long jsonOff = align();
            writeFully(ByteBuffer.wrap(json), jsonOff);
            long length = jsonOff + json.length;
            CRC32C jc = new CRC32C();
            jc.update(json);
            ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            head.put(MAGIC).putInt(VERSION).putInt(0).putLong(length).putLong(jsonOff).putInt(json.length)
                    .putInt((int) jc.getValue());
            CRC32C hc = new CRC32C();
            hc.update(head.array(), 16, 24);
            head.putInt(12, (int) hc.getValue());
            head.position(0).limit(HEADER_BYTES);
            writeFully(head, 0);
        }

        private long align() {
            pos = (pos + ALIGN - 1) / ALIGN * ALIGN;
            return pos;
        }

        private void writeFully(ByteBuffer b, long at) throws IOException {
            while (b.hasRemaining()) {
                at += ch.write(b, at);
            }
        }

        private ObjectNode section(String name, String type, long count) {
            ObjectNode s = list.addObject();
            s.put("name", name);
            s.put("type", type);
            s.put("offset", align());
            s.put("count", count);
            return s;
        }

        private void floats(String name, float[] a) throws IOException {
            ObjectNode s = section(name, "f32", a.length);
            ByteBuffer b = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(a);
            finish(s, b);
        }

        private void ints(String name, int[] a) throws IOException {
            ObjectNode s = section(name, "i32", a.length);
            ByteBuffer b = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asIntBuffer().put(a);
            finish(s, b);
        }

        private void bytes(String name, ByteBuffer b) throws IOException {
            finish(section(name, "u8", b.remaining()), b);
        }

        /** Rows of an uncompressed table in chunks: it may be larger than one array. */
        private void denseRows(String name, DenseEmbeddingBag d) throws IOException {
            int dim = d.dim(), rows = d.rows();
            ObjectNode s = section(name, "f32", (long) rows * dim);
            CRC32C crc = new CRC32C();
            int chunkRows = Math.max(1, (1 << 16) / dim);
            float[] f = new float[Math.min(rows, chunkRows) * dim];
            ByteBuffer b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
            for (int r = 0; r < rows; r += chunkRows) {
                int n = Math.min(chunkRows, rows - r);
                d.table().readRows(r, f, 0, n);
                b.clear();
                b.asFloatBuffer().put(f, 0, n * dim);
                b.limit(4 * n * dim);
                crc.update(b.duplicate());
                writeFully(b, pos);
                pos += 4L * n * dim;
            }
            s.put("crc32c", Integer.toUnsignedString((int) crc.getValue(), 16));
        }

        private void finish(ObjectNode s, ByteBuffer b) throws IOException {
            CRC32C crc = new CRC32C();
            crc.update(b.duplicate());
            s.put("crc32c", Integer.toUnsignedString((int) crc.getValue(), 16));
            int n = b.remaining();
            writeFully(b, pos);
            pos += n;
        }
    }
}
