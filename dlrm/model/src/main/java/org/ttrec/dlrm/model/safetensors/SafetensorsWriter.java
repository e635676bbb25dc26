package org.ttrec.dlrm.model.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ttrec.dlrm.io.AtomicFiles;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Writes a safetensors file: an 8-byte little-endian header length, a JSON header (tensor name
 * to dtype, shape and [begin, end) byte offsets into the data buffer, plus a string map under
 * {@code "__metadata__"}), then the data buffer, each tensor's elements little-endian and
 * row-major, one after another in the order they were added, with no gaps.
 *
 * <p>Tensors are added with a {@link Source} that streams their elements, so a table far larger
 * than one Java array can be written a chunk of rows at a time. Every source is run twice: once
 * to compute each tensor's CRC-32, which goes into the header's metadata under
 * {@link #CRC_KEY} (a reader can then name the tensor whose bytes are damaged; safetensors itself
 * has no checksum), then to write the file. The second run must give the same bytes, else the
 * write fails rather than leave a file whose checksums lie. The file goes through
 * {@link AtomicFiles}: a crash leaves the old file or the whole new one, never half of one.
 */
public final class SafetensorsWriter {
    /** Metadata key of the per-tensor CRC-32 map (JSON object: name to 8 hex digits). */
    public static final String CRC_KEY = "ttrec.crc32";
    /** The header is padded with spaces to this multiple, so the data buffer starts aligned (as the reference writer does). */
    private static final int ALIGN = 8;

    /** Streams one tensor's elements, in row-major order, into a sink. */
    @FunctionalInterface
    public interface Source {
        /**
         * @param sink where the elements go
         * @throws IOException if writing fails
         */
        void write(Sink sink) throws IOException;
    }

    /** Takes a tensor's elements and writes them little-endian. */
    public interface Sink {
        /**
         * @param a   values
         * @param off first one
         * @param n   how many
         * @throws IOException if writing fails
         */
        void floats(float[] a, int off, int n) throws IOException;

        /**
         * @param a   values
         * @param off first one
         * @param n   how many
         * @throws IOException if writing fails
         */
        void longs(long[] a, int off, int n) throws IOException;
    }

    private record Entry(String name, Dtype dtype, long[] shape, long bytes, Source source) {}

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, Entry> byName = new LinkedHashMap<>();

    /** An empty writer: no metadata, no tensors. */
    public SafetensorsWriter() {}

    /**
     * Adds a metadata entry (the format allows only string values).
     *
     * @param key   key; not {@link #CRC_KEY}, which the writer fills
     * @param value value
     * @return this writer
     */
    public SafetensorsWriter metadata(String key, String value) {
        if (key == null || value == null) {
            throw new IllegalArgumentException("safetensors metadata needs a key and a value, got " + key + " = " + value);
        }
        if (key.equals(CRC_KEY)) {
            throw new IllegalArgumentException("metadata key " + CRC_KEY + " is written by the writer itself");
        }
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds a tensor; its data follows the previous tensor's in the file.
     *
     * @param name   unique name, not "__metadata__"
     * @param dtype  {@link Dtype#F32} or {@link Dtype#I64} (the sink writes only these)
     * @param shape  dimensions, each >= 0
     * @param source streams exactly the product of the shape elements
     * @return this writer
     */
    public SafetensorsWriter add(String name, Dtype dtype, long[] shape, Source source) {
        if (name == null || name.isEmpty() || name.equals(SafetensorsReader.METADATA)) {
            throw new IllegalArgumentException("bad safetensors tensor name '" + name + "'");
        }
        if (byName.containsKey(name)) {
            throw new IllegalArgumentException("tensor " + name + " added twice");
        }
        if (dtype != Dtype.F32 && dtype != Dtype.I64) {
            throw new IllegalArgumentException("tensor " + name + ": this writer writes F32 and I64, not " + dtype);
        }
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": negative dimension in " + TensorInfo.format(shape));
            }
        }
        long n = TensorInfo.elements(shape);
        if (n < 0 || n > Long.MAX_VALUE / dtype.bytes()) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + TensorInfo.format(shape) + " is too large");
        }
        Entry e = new Entry(name, dtype, shape.clone(), n * dtype.bytes(), source);
        entries.add(e);
        byName.put(name, e);
        return this;
    }

    /**
     * Writes the file atomically.
     *
     * @param target the file
     * @throws IOException if writing fails, or a source gives the wrong number of elements or
     *                     different bytes on its second run (the target is then untouched)
     */
    public void write(Path target) throws IOException {
        long[] crc = new long[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            crc[i] = run(entries.get(i), OutputStream.nullOutputStream());
        }
        byte[] header = header(crc);
        AtomicFiles.write(target, out -> {
            byte[] len = new byte[8];
            long n = header.length;
            for (int i = 0; i < 8; i++) {
                len[i] = (byte) (n >>> (8 * i));
            }
            out.write(len);
            out.write(header);
            for (int i = 0; i < entries.size(); i++) {
                if (run(entries.get(i), out) != crc[i]) {
                    throw new IOException("tensor " + entries.get(i).name() + " changed while " + target
                            + " was being written (its source gave other bytes the second time)");
                }
            }
        });
    }

    private byte[] header(long[] crc) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        ObjectNode meta = root.putObject(SafetensorsReader.METADATA);
        metadata.forEach(meta::put);
        ObjectNode sums = json.createObjectNode();
        for (int i = 0; i < entries.size(); i++) {
            sums.put(entries.get(i).name(), String.format(Locale.ROOT, "%08x", crc[i]));
        }
        meta.put(CRC_KEY, json.writeValueAsString(sums));
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", e.dtype().name());
            ArrayNode s = t.putArray("shape");
            for (long d : e.shape()) {
                s.add(d);
            }
            ArrayNode o = t.putArray("data_offsets");
            o.add(offset);
            o.add(offset + e.bytes());
            offset += e.bytes();
        }
        byte[] raw = json.writeValueAsBytes(root);
        int padded = (raw.length + ALIGN - 1) / ALIGN * ALIGN;
        byte[] h = new byte[padded];
        System.arraycopy(raw, 0, h, 0, raw.length);
        for (int i = raw.length; i < padded; i++) {
            h[i] = ' '; // the format allows trailing spaces in the header
        }
        return h;
    }

    /** Runs a tensor's source into {@code out}; checks its length and returns the CRC-32 of its bytes. */
    private static long run(Entry e, OutputStream out) throws IOException {
        LeSink sink = new LeSink(out, e.dtype());
        e.source().write(sink);
        sink.flush();
        if (sink.written != e.bytes()) {
            throw new IOException("tensor " + e.name() + ": its source gave " + sink.written + " bytes, shape "
                    + TensorInfo.format(e.shape()) + " " + e.dtype() + " needs " + e.bytes());
        }
        return sink.crc.getValue();
    }

    /** Encodes elements little-endian through a small buffer, counting and checksumming the bytes. */
    private static final class LeSink implements Sink {
        private final OutputStream out;
        private final Dtype dtype;
        private final byte[] buf = new byte[1 << 16];
        private final CRC32 crc = new CRC32();
        private int used;
        private long written;

        LeSink(OutputStream out, Dtype dtype) {
            this.out = out;
            this.dtype = dtype;
        }

        @Override
        public void floats(float[] a, int off, int n) throws IOException {
            if (dtype != Dtype.F32) {
                throw new IOException("floats given for a tensor of dtype " + dtype);
            }
            for (int i = 0; i < n; i++) {
                if (used + 4 > buf.length) {
                    flush();
                }
                int bits = Float.floatToRawIntBits(a[off + i]); // raw: NaN payloads survive a round trip
                buf[used] = (byte) bits;
                buf[used + 1] = (byte) (bits >>> 8);
                buf[used + 2] = (byte) (bits >>> 16);
                buf[used + 3] = (byte) (bits >>> 24);
                used += 4;
            }
        }

        @Override
        public void longs(long[] a, int off, int n) throws IOException {
            if (dtype != Dtype.I64) {
                throw new IOException("longs given for a tensor of dtype " + dtype);
            }
            for (int i = 0; i < n; i++) {
                if (used + 8 > buf.length) {
                    flush();
                }
                long v = a[off + i];
                for (int b = 0; b < 8; b++) {
                    buf[used + b] = (byte) (v >>> (8 * b));
                }
                used += 8;
            }
        }

        void flush() throws IOException {
            out.write(buf, 0, used);
            crc.update(buf, 0, used);
            written += used;
            used = 0;
        }
    }
}
