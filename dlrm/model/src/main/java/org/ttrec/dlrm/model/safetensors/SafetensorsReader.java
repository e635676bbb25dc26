package org.ttrec.dlrm.model.safetensors;

import org.ttrec.dlrm.io.StrictUtf8;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Reads a safetensors file (the format {@link SafetensorsWriter} describes), checking all of its
 * structure when it is opened, before any tensor is read: the header length against the file
 * size, the header as JSON, every entry's dtype, shape and offsets, the byte length of each
 * tensor against its shape, and that the tensors tile the data buffer exactly (no overlap, no gap,
 * nothing past the end: a truncated file is caught here and the message names the first tensor
 * whose bytes are missing). Every failure is a {@link SafetensorsFormatException} naming the file
 * and, where one is at fault, the tensor.
 *
 * <p>Data is read on demand through positional reads, a chunk at a time, so a table larger than
 * one Java array can be loaded row block by row block. {@link #verify} checks a tensor's bytes
 * against the CRC-32 that {@link SafetensorsWriter} records (files from other writers carry none).
 */
public final class SafetensorsReader implements AutoCloseable {
    /** The header key of the metadata map. */
    public static final String METADATA = "__metadata__";
    /** Largest header accepted (as the reference implementation): a bigger one is corrupt, not a model. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final int CHUNK_BYTES = 1 << 20;

    private final Path file;
    private final FileChannel ch;
    private final long dataStart;
    private final long dataSize;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final Map<String, Long> crcs;

    private SafetensorsReader(Path file, FileChannel ch, long dataStart, long dataSize, Map<String, TensorInfo> tensors,
                              Map<String, String> metadata, Map<String, Long> crcs) {
        this.file = file;
        this.ch = ch;
        this.dataStart = dataStart;
        this.dataSize = dataSize;
        this.tensors = tensors;
        this.metadata = metadata;
        this.crcs = crcs;
    }

    /**
     * Opens a file and checks its structure.
     *
     * @param file the file
     * @return a reader (close it)
     * @throws SafetensorsFormatException if the file is not a well-formed safetensors file
     * @throws IOException                if it cannot be read
     */
    public static SafetensorsReader open(Path file) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such safetensors file");
        }
        try {
            return parse(file, ch);
        } catch (IOException | RuntimeException | Error e) {
            ch.close();
            throw e;
        }
    }

    private static SafetensorsReader parse(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw fail(file, null, "the file has " + size + " bytes, fewer than the 8-byte header length every safetensors file starts with");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, null, ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n < 2 || n > MAX_HEADER_BYTES) {
            throw fail(file, null, "header length " + Long.toUnsignedString(n) + " is implausible (at most "
                    + MAX_HEADER_BYTES + " bytes; not a safetensors file, or a corrupt one)");
        }
        if (8 + n > size) {
            throw fail(file, null, "the file is shorter than its header says: the header length " + n + " needs " + (8 + n)
                    + " bytes before any tensor data, the file has " + size + " (truncated?)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(file, null, ch, hb, 8);
        String text;
        try {
            text = StrictUtf8.decode(hb.flip());
        } catch (CharacterCodingException e) {
            throw fail(file, null, "header is not UTF-8 text (not a safetensors file, or a corrupt header)");
        }
        JsonNode root;
        try {
            ObjectMapper json = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            root = json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException(null, file + ": header is not JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw fail(file, null, "header is not a JSON object but " + (root == null ? "empty" : root.getNodeType()));
        }
        long dataSize = size - 8 - n;
        Map<String, String> meta = new LinkedHashMap<>();
        List<TensorInfo> list = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            if (f.getKey().equals(METADATA)) {
                readMetadata(file, f.getValue(), meta);
            } else {
                list.add(entry(file, f.getKey(), f.getValue(), dataSize));
            }
        }
        checkTiling(file, list, dataSize);
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        list.sort(Comparator.comparingLong(TensorInfo::begin));
        for (TensorInfo t : list) {
            byName.put(t.name(), t);
        }
        Map<String, Long> crcs = readCrcs(file, meta.get(SafetensorsWriter.CRC_KEY), byName);
        return new SafetensorsReader(file, ch, 8 + n, dataSize, Collections.unmodifiableMap(byName),
                Collections.unmodifiableMap(meta), crcs);
    }

    private static void readMetadata(Path file, JsonNode m, Map<String, String> out) throws SafetensorsFormatException {
        if (!m.isObject()) {
            throw fail(file, null, METADATA + " is not a JSON object of strings but " + m.getNodeType());
        }
        for (Map.Entry<String, JsonNode> e : m.properties()) {
            if (!e.getValue().isTextual()) {
                throw fail(file, null, METADATA + " entry '" + e.getKey() + "' is " + e.getValue().getNodeType()
                        + ", the format allows only strings");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo entry(Path file, String name, JsonNode e, long dataSize) throws SafetensorsFormatException {
        if (name.isEmpty()) {
            throw fail(file, name, "the header has a tensor with an empty name");
        }
        if (!e.isObject()) {
            throw fail(file, name, "tensor " + name + ": header entry is " + e.getNodeType()
                    + ", expected an object with dtype, shape and data_offsets");
        }
        for (Iterator<String> it = e.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw fail(file, name, "tensor " + name + ": unknown header field '" + k + "'");
            }
        }
        JsonNode dt = e.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw fail(file, name, "tensor " + name + ": no dtype string");
        }
        Dtype dtype = Dtype.parse(dt.textValue());
        if (dtype == null) {
            throw fail(file, name, "tensor " + name + ": unknown dtype '" + dt.textValue() + "' (the format has "
                    + Dtype.known() + ")");
        }
        long[] shape = longs(file, name, e.get("shape"), "shape", -1);
        long[] off = longs(file, name, e.get("data_offsets"), "data_offsets", 2);
        long begin = off[0], end = off[1];
        if (begin > end) {
            throw fail(file, name, "tensor " + name + ": data_offsets [" + begin + ", " + end + ") end before they begin");
        }
        long elements = TensorInfo.elements(shape);
        if (elements < 0 || elements > Long.MAX_VALUE / dtype.bytes()) {
            throw fail(file, name, "tensor " + name + ": shape " + TensorInfo.format(shape) + " is too large");
        }
        if (end - begin != elements * dtype.bytes()) {
            throw fail(file, name, "tensor " + name + ": data_offsets [" + begin + ", " + end + ") hold "
                    + (end - begin) + " bytes, but shape " + TensorInfo.format(shape) + " of " + dtype + " needs "
                    + elements * dtype.bytes());
        }
        if (end > dataSize) {
            throw fail(file, name, "tensor " + name + ": data_offsets [" + begin + ", " + end + ") run past the end of "
                    + "the data, which has " + dataSize + " bytes: the file is truncated (or the offsets are corrupt)");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] longs(Path file, String name, JsonNode a, String what, int len) throws SafetensorsFormatException {
        if (a == null || !a.isArray() || (len >= 0 && a.size() != len)) {
            throw fail(file, name, "tensor " + name + ": " + what + " is " + (a == null ? "missing" : a.toString())
                    + ", expected an array of " + (len >= 0 ? len + " " : "") + "non-negative integers");
        }
        long[] v = new long[a.size()];
        for (int i = 0; i < v.length; i++) {
            JsonNode x = a.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToLong() || x.longValue() < 0) {
                throw fail(file, name, "tensor " + name + ": " + what + " " + a + " holds " + x
                        + ", not a non-negative integer");
            }
            v[i] = x.longValue();
        }
        return v;
    }

    /** The format requires the tensors to cover the data buffer exactly, in some order. */
    private static void checkTiling(Path file, List<TensorInfo> list, long dataSize) throws SafetensorsFormatException {
        List<TensorInfo> sorted = new ArrayList<>(list);
        // ties on begin: the empty tensor first, so an empty tensor inside another is not an overlap
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long at = 0;
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < at) {
                throw fail(file, t.name(), "tensors " + prev.name() + " [" + prev.begin() + ", " + prev.end() + ") and "
                        + t.name() + " [" + t.begin() + ", " + t.end() + ") overlap");
            }
            if (t.begin() > at) {
                throw fail(file, t.name(), "bytes [" + at + ", " + t.begin() + ") of the data belong to no tensor (before "
                        + t.name() + "); the format allows no gaps");
            }
            at = t.end();
            prev = t;
        }
        if (at != dataSize) {
            throw fail(file, null, "the file has " + (dataSize - at) + " bytes after the last tensor's data"
                    + (prev == null ? "" : " (" + prev.name() + " ends at " + at + ")") + "; the format allows none");
        }
    }

    private static Map<String, Long> readCrcs(Path file, String json, Map<String, TensorInfo> tensors)
            throws SafetensorsFormatException {
        if (json == null) {
            return Map.of();
        }
        JsonNode m;
        try {
            m = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw fail(file, null, "metadata " + SafetensorsWriter.CRC_KEY + " is not JSON: " + e.getOriginalMessage());
        }
        Map<String, Long> out = new LinkedHashMap<>();
        if (m == null || !m.isObject()) {
            throw fail(file, null, "metadata " + SafetensorsWriter.CRC_KEY + " is not a JSON object");
        }
        for (Map.Entry<String, JsonNode> e : m.properties()) {
            String v = e.getValue().asText("");
            if (!v.matches("[0-9a-f]{8}")) {
                throw fail(file, e.getKey(), "metadata " + SafetensorsWriter.CRC_KEY + " has a bad entry for '"
                        + e.getKey() + "': " + e.getValue());
            }
            // an entry for a tensor the file lacks is not this reader's concern: whoever needs the
            // tensor says that it is missing, which is the clearer message
            if (tensors.containsKey(e.getKey())) {
                out.put(e.getKey(), Long.parseLong(v, 16));
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /** @return the file */
    public Path file() {
        return file;
    }

    /** @return the tensors by name, in the order of their data */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /**
     * @param name a tensor name
     * @return its description, or null when the file has no such tensor
     */
    public TensorInfo tensor(String name) {
        return tensors.get(name);
    }

    /** @return the {@code __metadata__} map (empty when the header has none) */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** @return bytes of the data buffer */
    public long dataSize() {
        return dataSize;
    }

    /**
     * Reads F32 elements [first, first + n) of a tensor (row-major order).
     *
     * @param t     the tensor, from this reader
     * @param first first element
     * @param dst   destination
     * @param off   first slot of dst
     * @param n     elements to read
     * @throws IOException if the tensor is not F32 or the file ends early (changed after it was opened)
     */
    public void readFloats(TensorInfo t, long first, float[] dst, int off, int n) throws IOException {
        check(t, Dtype.F32, first, n);
        ByteBuffer b = ByteBuffer.allocate((int) Math.min((long) n * 4, CHUNK_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        int done = 0;
        while (done < n) {
            int m = Math.min(n - done, b.capacity() / 4);
            b.clear().limit(m * 4);
            readFully(file, t.name(), ch, b, dataStart + t.begin() + 4 * (first + done));
            b.flip().asFloatBuffer().get(dst, off + done, m);
            done += m;
        }
    }

    /**
     * @param t an F32 tensor of at most 2^31 - 1 elements
     * @return all its elements
     * @throws IOException as {@link #readFloats}
     */
    public float[] readFloats(TensorInfo t) throws IOException {
        float[] a = new float[arrayLength(t)];
        readFloats(t, 0, a, 0, a.length);
        return a;
    }

    /**
     * @param t an I64 tensor of at most 2^31 - 1 elements
     * @return all its elements
     * @throws IOException if the tensor is not I64 or the file ends early
     */
    public long[] readLongs(TensorInfo t) throws IOException {
        int n = arrayLength(t);
        check(t, Dtype.I64, 0, n);
        long[] a = new long[n];
        ByteBuffer b = ByteBuffer.allocate((int) Math.min((long) n * 8, CHUNK_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        int done = 0;
        while (done < n) {
            int m = Math.min(n - done, b.capacity() / 8);
            b.clear().limit(m * 8);
            readFully(file, t.name(), ch, b, dataStart + t.begin() + 8L * done);
            b.flip().asLongBuffer().get(a, done, m);
            done += m;
        }
        return a;
    }

    /**
     * Reads a tensor's bytes once: checks them against the CRC-32 the header's metadata records for
     * it (when it records one), and for F32 tensors, when asked, that every value is finite.
     *
     * @param t             the tensor, from this reader
     * @param requireFinite whether a NaN or infinite F32 value is an error
     * @return whether a checksum was checked
     * @throws SafetensorsFormatException naming the tensor (and the element, for a non-finite value)
     * @throws IOException                if the file cannot be read
     */
    public boolean verify(TensorInfo t, boolean requireFinite) throws IOException {
        own(t);
        CRC32 crc = new CRC32();
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(Math.max(t.byteLength(), 8), CHUNK_BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        boolean finite = requireFinite && t.dtype() == Dtype.F32;
        for (long at = 0; at < t.byteLength(); ) {
            int m = (int) Math.min(t.byteLength() - at, b.capacity());
            b.clear().limit(m);
            readFully(file, t.name(), ch, b, dataStart + t.begin() + at);
            b.flip();
            crc.update(b.duplicate());
            if (finite) {
                for (int i = 0; i < m; i += 4) {
                    float v = b.getFloat(i);
                    if (!Float.isFinite(v)) {
                        throw fail(file, t.name(), "tensor " + t.name() + ": element " + (at + i) / 4 + " is " + v
                                + " (a model's parameters are finite; the file is corrupt or the model diverged)");
                    }
                }
            }
            at += m;
        }
        Long want = crcs.get(t.name());
        if (want != null && want != crc.getValue()) {
            throw fail(file, t.name(), "tensor " + t.name() + ": its bytes do not match their checksum ("
                    + String.format(Locale.ROOT, "CRC-32 %08x, the header records %08x", crc.getValue(), want)
                    + "): the data is corrupt");
        }
        return want != null;
    }

    private void check(TensorInfo t, Dtype want, long first, int n) throws SafetensorsFormatException {
        own(t);
        if (t.dtype() != want) {
            throw fail(file, t.name(), "tensor " + t.name() + " has dtype " + t.dtype() + ", expected " + want);
        }
        if (first < 0 || n < 0 || first + n > t.elements()) {
            throw new IndexOutOfBoundsException("tensor " + t.name() + ": elements [" + first + ", " + (first + n)
                    + ") of " + t.elements());
        }
    }

    private void own(TensorInfo t) {
        if (!t.equals(tensors.get(t.name()))) {
            throw new IllegalArgumentException("tensor " + t.name() + " is not one of " + file);
        }
    }

    private int arrayLength(TensorInfo t) throws SafetensorsFormatException {
        if (t.elements() > Integer.MAX_VALUE - 16) {
            throw fail(file, t.name(), "tensor " + t.name() + " has " + t.elements() + " elements, more than one array holds");
        }
        return (int) t.elements();
    }

    private static void readFully(Path file, String tensor, FileChannel ch, ByteBuffer b, long pos) throws IOException {
        long p = pos;
        while (b.hasRemaining()) {
            int r = ch.read(b, p);
            if (r < 0) {
                throw fail(file, tensor, (tensor == null ? "" : "tensor " + tensor + ": ") + "the file ends at byte " + p
                        + " (it was truncated after it was opened)");
            }
            p += r;
        }
    }

    private static SafetensorsFormatException fail(Path file, String tensor, String what) {
        return new SafetensorsFormatException(tensor, file + ": " + what);
    }

    /** Closes the file. */
    @Override
    public void close() throws IOException {
        ch.close();
    }
}
