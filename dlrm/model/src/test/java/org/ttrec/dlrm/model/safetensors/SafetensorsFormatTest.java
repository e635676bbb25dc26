package org.ttrec.dlrm.model.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The safetensors container on its own: the bytes the writer produces follow the public format
 * (length, JSON header, contiguous little-endian data), the reader gives back exactly what was
 * written, and every kind of damage is refused with a message that names the tensor at fault.
 */
class SafetensorsFormatTest {
    @TempDir
    Path dir;

    private static final float[] A = {1.5f, -0f, Float.MIN_VALUE, Float.intBitsToFloat(0x7fc00123), 3e38f, -7f};
    private static final long[] B = {0, -1, Long.MAX_VALUE, 42};

    private Path writeSample() throws IOException {
        Path f = dir.resolve("sample.safetensors");
        new SafetensorsWriter().metadata("k", "v")
                .add("a", Dtype.F32, new long[] {2, 3}, s -> s.floats(A, 0, A.length))
                .add("b", Dtype.I64, new long[] {4}, s -> s.longs(B, 0, B.length))
                .add("c", Dtype.F32, new long[] {0, 5}, s -> { })
                .write(f);
        return f;
    }

    @Test
    void writtenBytesFollowThePublicFormat() throws IOException {
        byte[] bytes = Files.readAllBytes(writeSample());
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + n) % 8, "data starts 8-aligned");
        assertEquals(8 + n + 6 * 4 + 4 * 8, bytes.length, "header, then exactly the tensors' bytes");
        JsonNode h = new ObjectMapper().readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        assertEquals("v", h.get("__metadata__").get("k").asText());
        assertEquals("F32", h.get("a").get("dtype").asText());
        assertEquals("[2,3]", h.get("a").get("shape").toString());
        assertEquals("[0,24]", h.get("a").get("data_offsets").toString());
        assertEquals("[24,56]", h.get("b").get("data_offsets").toString());
        assertEquals("[56,56]", h.get("c").get("data_offsets").toString());
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) (8 + n), 24).slice().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < A.length; i++) {
            assertEquals(Float.floatToRawIntBits(A[i]), data.getInt(4 * i), "element " + i + " little-endian, raw bits");
        }
    }

    @Test
    void roundTripIsExactIncludingNaNPayloads() throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(writeSample())) {
            assertEquals(List.of("a", "b", "c"), List.copyOf(r.tensors().keySet()));
            float[] a = r.readFloats(r.tensor("a"));
            for (int i = 0; i < A.length; i++) {
                assertEquals(Float.floatToRawIntBits(A[i]), Float.floatToRawIntBits(a[i]), "element " + i);
            }
            assertArrayEquals(B, r.readLongs(r.tensor("b")));
            assertEquals(0, r.readFloats(r.tensor("c")).length);
            float[] part = new float[2];
            r.readFloats(r.tensor("a"), 3, part, 0, 2);
            assertEquals(3e38f, part[1]);
            assertTrue(r.verify(r.tensor("b"), true), "the writer's checksum is checked");
            assertEquals("v", r.metadata().get("k"));
            assertNull(r.tensor("d"));
        }
    }

    @Test
    void aReaderOfTheFormatWithoutChecksumsIsAccepted() throws IOException {
        Path f = raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertFalse(r.verify(r.tensor("x"), true), "no checksum recorded, none checked");
            assertTrue(r.metadata().isEmpty());
        }
    }

    // ------------------------------------------------------------------ damage

    /** A file with the given header text and {@code dataBytes} zero bytes of data. */
    private Path raw(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = dir.resolve("raw-" + System.nanoTime() + ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    private SafetensorsFormatException refused(Path f) {
        return assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(f).close());
    }

    @Test
    void aFileShorterThanItsHeaderLengthIsRefused() throws IOException {
        Path f = raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, 20));
        String m = refused(f).getMessage();
        assertTrue(m.contains("shorter than its header says") && m.contains("the file has 20"), m);
        Files.write(f, new byte[5]);
        assertTrue(refused(f).getMessage().contains("fewer than the 8-byte header length"));
        ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-3);
        Files.write(f, huge.array());
        assertTrue(refused(f).getMessage().contains("implausible"), "a negative (huge unsigned) length");
    }

    @Test
    void aHeaderThatIsNotJsonIsRefused() throws IOException {
        assertTrue(refused(raw("{\"x\": [1, 2", 0)).getMessage().contains("header is not JSON"));
        assertTrue(refused(raw("[1, 2]", 0)).getMessage().contains("not a JSON object"));
        byte[] bad = {'{', (byte) 0xff, '}'};
        Path f = dir.resolve("utf.safetensors");
        Files.write(f, ByteBuffer.allocate(8 + 3).order(ByteOrder.LITTLE_ENDIAN).putLong(3).put(bad).array());
        assertTrue(refused(f).getMessage().contains("not UTF-8"));
        String dup = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        assertTrue(refused(raw(dup, 8)).getMessage().contains("header is not JSON"), "a duplicate name");
        assertTrue(refused(raw("{\"__metadata__\":{\"a\":1}}", 0)).getMessage().contains("only strings"));
    }

    @Test
    void badEntriesAreRefusedNamingTheTensor() throws IOException {
        String[][] cases = {
            {"{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unknown dtype 'F33'"},
            {"{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,4]}}", "hold 4 bytes, but shape [3] of F32 needs 12"},
            {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "not a non-negative integer"},
            {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "end before they begin"},
            {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "expected an array of 2"},
            {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", "data_offsets is missing"},
            {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", "unknown header field 'extra'"},
            {"{\"w\":[1]}", "expected an object with dtype"},
        };
        for (String[] c : cases) {
            SafetensorsFormatException e = refused(raw(c[0], 4));
            assertEquals("w", e.tensor(), c[0]);
            assertTrue(e.getMessage().contains("tensor w") && e.getMessage().contains(c[1]), e.getMessage());
        }
    }

    @Test
    void overlappingGappedAndOutOfRangeOffsetsAreRefused() throws IOException {
        String overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        SafetensorsFormatException e = refused(raw(overlap, 12));
        assertTrue(e.getMessage().contains("tensors a [0, 8) and b [4, 12) overlap"), e.getMessage());
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        e = refused(raw(gap, 12));
        assertTrue(e.getMessage().contains("bytes [4, 8) of the data belong to no tensor (before b)"), e.getMessage());
        String past = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        e = refused(raw(past, 10));
        assertEquals("b", e.tensor());
        assertTrue(e.getMessage().contains("run past the end of the data, which has 10 bytes"), e.getMessage());
        String trailing = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertTrue(refused(raw(trailing, 9)).getMessage().contains("5 bytes after the last tensor"));
    }

    @Test
    void aTruncatedFileNamesTheFirstTensorItCutsInto() throws IOException {
        Path f = writeSample();
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 10));
        SafetensorsFormatException e = refused(f);
        assertEquals("b", e.tensor(), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void aDamagedByteFailsItsTensorsChecksum() throws IOException {
        Path f = writeSample();
        byte[] all = Files.readAllBytes(f);
        all[all.length - 3] ^= 0x10; // inside b's last element
        Files.write(f, all);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            r.verify(r.tensor("a"), false);
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> r.verify(r.tensor("b"), true));
            assertEquals("b", e.tensor());
            assertTrue(e.getMessage().contains("do not match their checksum"), e.getMessage());
        }
    }

    @Test
    void aNonFiniteValueIsRefusedWhenAsked() throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(writeSample())) {
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> r.verify(r.tensor("a"), true));
            assertTrue(e.getMessage().contains("tensor a: element 3 is NaN"), e.getMessage());
        }
    }

    @Test
    void readingTheWrongDtypeIsRefused() throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(writeSample())) {
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> r.readFloats(r.tensor("b")));
            assertTrue(e.getMessage().contains("tensor b has dtype I64, expected F32"), e.getMessage());
        }
    }

    @Test
    void aSourceOfTheWrongLengthLeavesNoFile() {
        Path f = dir.resolve("short.safetensors");
        IOException e = assertThrows(IOException.class, () -> new SafetensorsWriter()
                .add("a", Dtype.F32, new long[] {3}, s -> s.floats(A, 0, 2)).write(f));
        assertTrue(e.getMessage().contains("tensor a: its source gave 8 bytes"), e.getMessage());
        assertFalse(Files.exists(f));
    }
}
