package org.ttrec.dlrm.data;

import org.ttrec.dlrm.fuzz.Findings;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Fuzz target: a ttrec shard ({@code .ttrs}): header validation ({@link ShardFile#parse}), the
 * payload checksum, and every batch built from its rows (labels and indices are range-checked as
 * batches are built). When the first byte is odd the header checksum is fixed up first, so that
 * mutations reach the field checks behind it. Failures must be {@link CriteoFormatException}s
 * naming the shard.
 */
public final class ShardFuzzer {
    static final String NAME = "fuzz-shard-00000.ttrs";

    private ShardFuzzer() {}

    /** @param data the fuzzer's input */
    public static void fuzzerTestOneInput(byte[] data) {
        if (data.length == 0) {
            return;
        }
        byte[] body = java.util.Arrays.copyOfRange(data, 1, data.length);
        if ((data[0] & 1) == 1 && body.length >= 40) {
            fixHeaderCrc(body);
        }
        ByteBuffer b = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
        try {
            ShardFile sf = ShardFile.parse(Path.of(NAME), b, body.length);
            MemorySegment seg = MemorySegment.ofArray(body);
            if ((data[0] & 2) == 0) {
                sf.verifyPayload(seg);
            }
            try (SegmentRowStore store = new SegmentRowStore(1 + sf.dense() + sf.sparse())) {
                store.add(NAME, seg, sf.headerBytes(), sf.rows());
                Map<Split, long[]> ranges = new EnumMap<>(Split.class);
                long half = sf.rows() / 2;
                ranges.put(Split.TRAIN, new long[] {0, half});
                ranges.put(Split.TEST, new long[] {half, sf.rows()});
                ranges.put(Split.VALIDATION, new long[] {sf.rows(), sf.rows()});
                RowDataset d = new RowDataset(store, sf.dense(), sf.cardinalities(), ranges, NAME);
                for (Split s : Split.values()) {
                    try (BatchStream st = d.batches(s, 3, s == Split.TRAIN, 7)) {
                        for (Batch x = st.next(); x != null; x = st.next()) {
                            for (int i = 0; i < x.size(); i++) {
                                Findings.check(x.labels()[i] == 0f || x.labels()[i] == 1f, "label " + x.labels()[i]);
                            }
                        }
                    }
                }
            }
        } catch (Throwable e) {
            if (e instanceof Findings.Finding f) {
                throw f;
            }
            Findings.expectDeclared(e, NAME);
        }
    }

    /** Writes the header CRC32C that the header's own sparse count implies, where it fits. */
    static void fixHeaderCrc(byte[] body) {
        ByteBuffer b = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
        int sparse = b.getInt(28);
        if (sparse < 0 || sparse > 4096) {
            return;
        }
        int end = 36 + 4 * sparse;
        if (end + 4 > body.length) {
            return;
        }
        CRC32C c = new CRC32C();
        c.update(body, 0, end);
        b.putInt(end, (int) c.getValue());
    }

    /** @return a real shard of a few rows, as written by ttrec preprocess, with the header fix-up on and off */
    public static List<byte[]> seeds() {
        byte[] shard = FuzzSeeds.preprocessed().shard();
        byte[] a = new byte[shard.length + 1];
        System.arraycopy(shard, 0, a, 1, shard.length);
        byte[] b = a.clone();
        b[0] = 1;
        return List.of(a, b);
    }
}
