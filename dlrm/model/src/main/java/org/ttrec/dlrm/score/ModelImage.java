package org.ttrec.dlrm.score;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.io.FileMagic;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A model file mapped into memory (docs/model-file.md): the fixed header, the JSON description and
 * every section checked (lengths, bounds, CRC32C) before anything is used. The mapping is read-only
 * and shared: several JVMs mapping the same file share its page-cache pages, and scoring replicas
 * copy their parameters out of it without parsing anything.
 */
final class ModelImage implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One section: where it lies and what it holds. */
    record Section(String name, String type, long offset, long count) {
        long bytes() {
            return type.equals("u8") ? count : 4 * count;
        }
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment seg;
    private final JsonNode root;
    private final RunConfig config;
    private final Map<String, Section> sections = new HashMap<>();

    private ModelImage(Path file, Arena arena, MemorySegment seg, JsonNode root, RunConfig config) {
        this.file = file;
        this.arena = arena;
        this.seg = seg;
        this.root = root;
        this.config = config;
    }

    /**
     * Maps and checks a model file.
     *
     * @param file the file
     * @return the image (close it to unmap)
     * @throws IOException naming the file and what is wrong where: not a model file, truncated,
     *                     a header or section whose checksum fails, an impossible layout
     */
    static ModelImage open(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IOException(file + " is a folder, not a model file");
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException("model file " + file + " does not exist");
        }
        byte[] head = FileMagic.head(file, 16);
        if (!FileMagic.prefixOf(head, "TTRECMDL")) {
            String what = FileMagic.describe(head);
            throw new IOException(file + " is not a ttrec model file: it starts with bytes " + FileMagic.hex(head)
                    + (what == null ? "" : ", " + what) + " (model files start with TTRECMDL)");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < ModelFileWriter.HEADER_BYTES) {
                throw new IOException("model file " + file + " is truncated: " + size + " bytes, the fixed header alone has "
                        + ModelFileWriter.HEADER_BYTES);
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            ModelImage m = check(file, arena, seg);
            return m;
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static ModelImage check(Path file, Arena arena, MemorySegment seg) throws IOException {
        String where = "model file " + file;
        long size = seg.byteSize();
        int version = seg.get(I32, 8);
        if (version != ModelFileWriter.VERSION) {
            throw new IOException(where + " has format version " + version + ", this ttrec reads "
                    + ModelFileWriter.VERSION);
        }
        int headCrc = seg.get(I32, 12);
        int headActual = crc(seg, 16, 24);
        if (headCrc != headActual) {
            throw new IOException(String.format("%s: the fixed header (bytes 16..40) is corrupt: CRC32C %08x, stored %08x",
                    where, headActual, headCrc));
        }
        long length = seg.get(I64, 16);
        long jsonOff = seg.get(I64, 24);
        int jsonLen = seg.get(I32, 32);
        int jsonCrc = seg.get(I32, 36);
        if (size < length) {
            throw new IOException(where + " is truncated: " + size + " bytes, its header says " + length
                    + " (an interrupted copy?)");
        }
        if (size > length) {
            throw new IOException(where + " has " + (size - length) + " bytes after its end at byte " + length
                    + " (corrupt or appended to)");
        }
        if (jsonOff < ModelFileWriter.HEADER_BYTES || jsonLen < 2 || jsonOff + jsonLen != length) {
            throw new IOException(where + ": impossible JSON description at bytes " + jsonOff + ".." + (jsonOff + jsonLen)
                    + " of " + length + " (corrupt header)");
        }
        int actual = crc(seg, jsonOff, jsonLen);
        if (actual != jsonCrc) {
            throw new IOException(String.format("%s: the JSON description (bytes %d..%d) is corrupt: CRC32C %08x, stored %08x",
                    where, jsonOff, jsonOff + jsonLen, actual, jsonCrc));
        }
        byte[] json = seg.asSlice(jsonOff, jsonLen).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root;
        RunConfig config;
        try {
            // strictly UTF-8, as the format says: Jackson's own guess at the encoding throws exceptions
            // of its own on garbage, which would not name the file
            root = JSON.readTree(org.ttrec.dlrm.io.StrictUtf8.decode(json, where + ": the JSON description"));
            if (root == null || !root.path("config").isObject() || !root.path("model").isObject()
                    || !root.path("sections").isArray()) {
                throw new IOException(where + ": the JSON description lacks config, model or sections");
            }
            config = RunConfig.fromJson(root.get("config").toString());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(where + ": unreadable JSON description: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains(file.toString())) {
                throw e;
            }
            throw new IOException(where + ": unreadable JSON description: " + e.getMessage(), e);
        }
        ModelImage m = new ModelImage(file, arena, seg, root, config);
        for (JsonNode s : root.get("sections")) {
            Section sec = new Section(s.path("name").asText(), s.path("type").asText(), s.path("offset").asLong(-1),
                    s.path("count").asLong(-1));
            if (!(sec.type.equals("f32") || sec.type.equals("i32") || sec.type.equals("u8")) || sec.count < 0
                    || sec.offset < ModelFileWriter.HEADER_BYTES || sec.offset % ModelFileWriter.ALIGN != 0
                    || sec.offset + sec.bytes() > jsonOff) {
                throw new IOException(where + ": section '" + sec.name + "' (" + sec.type + " x " + sec.count + " at byte "
                        + sec.offset + ") does not lie within the data before byte " + jsonOff);
            }
            long stored;
            try {
                stored = Long.parseLong(s.path("crc32c").asText(), 16);
            } catch (NumberFormatException e) {
                throw new IOException(where + ": section '" + sec.name + "' has no checksum");
            }
            int got = crc(seg, sec.offset, sec.bytes());
            if (got != (int) stored) {
                throw new IOException(String.format("%s: section '%s' (bytes %d..%d) is corrupt: CRC32C %08x, stored %08x",
                        where, sec.name, sec.offset, sec.offset + sec.bytes(), got, (int) stored));
            }
            m.sections.put(sec.name, sec);
        }
        return m;
    }

    private static int crc(MemorySegment seg, long off, long len) {
        CRC32C c = new CRC32C();
        for (long done = 0; done < len; ) {
            long n = Math.min(len - done, 1 << 30);
            c.update(seg.asSlice(off + done, n).asByteBuffer());
            done += n;
        }
        return (int) c.getValue();
    }

    /** @return the file */
    Path file() {
        return file;
    }

    /** @return the JSON description */
    JsonNode root() {
        return root;
    }

    /** @return the run configuration the model was trained with */
    RunConfig config() {
        return config.copy();
    }

    /** @return whether a section exists */
    boolean has(String name) {
        return sections.containsKey(name);
    }

    private Section section(String name, String type, long count) throws IOException {
        Section s = sections.get(name);
        if (s == null) {
            throw new IOException("model file " + file + " has no section '" + name + "'");
        }
        if (!s.type.equals(type) || (count >= 0 && s.count != count)) {
            throw new IOException("model file " + file + ": section '" + name + "' holds " + s.type + " x " + s.count
                    + ", the model needs " + type + " x " + count);
        }
        return s;
    }

    /**
     * Checks that a section exists and holds {@code count} elements of {@code type}.
     *
     * @throws IOException naming the file and section if not
     */
    void require(String name, String type, long count) throws IOException {
        section(name, type, count);
    }

    /** @return a copy of a float section, checked to hold {@code count} floats */
    float[] floats(String name, long count) throws IOException {
        Section s = section(name, "f32", count);
        if (s.count > Integer.MAX_VALUE - 16) {
            throw new IOException("model file " + file + ": section '" + name + "' does not fit one array");
        }
        float[] a = new float[(int) s.count];
        MemorySegment.copy(seg, F32, s.offset, a, 0, a.length);
        return a;
    }

    /** Copies floats {@code [from, from + n)} of a float section into {@code dst}. */
    void floats(String name, long from, float[] dst, int n) throws IOException {
        Section s = section(name, "f32", -1);
        if (from < 0 || from + n > s.count) {
            throw new IllegalArgumentException(name + ": floats " + from + ".." + (from + n) + " of " + s.count);
        }
        MemorySegment.copy(seg, F32, s.offset + 4 * from, dst, 0, n);
    }

    /** @return a copy of an int section */
    int[] ints(String name) throws IOException {
        Section s = section(name, "i32", -1);
        int[] a = new int[(int) s.count];
        MemorySegment.copy(seg, I32, s.offset, a, 0, a.length);
        return a;
    }

    /** @return the embedded dictionaries, or null if the file has none */
    Dictionaries dictionaries() throws IOException {
        if (!has("dictionaries")) {
            return null;
        }
        Section s = section("dictionaries", "u8", -1);
        byte[] b = seg.asSlice(s.offset, s.count).toArray(ValueLayout.JAVA_BYTE);
        return Dictionaries.read(new java.io.ByteArrayInputStream(b), file + " (section 'dictionaries')", b.length);
    }

    /** Unmaps the file; nothing read from it may be used after. */
    @Override
    public void close() {
        arena.close();
    }
}
