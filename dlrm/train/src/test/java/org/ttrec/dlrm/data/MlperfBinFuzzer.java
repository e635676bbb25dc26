package org.ttrec.dlrm.data;

import org.ttrec.dlrm.fuzz.Findings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fuzz target: MLPerf binary rows ({@code train.bin}, 160 bytes a row, no header) through
 * {@link Datasets#openMlperf} with table sizes scanned from the data, then every batch of the
 * training split. Failures must be declared exceptions naming the file.
 */
public final class MlperfBinFuzzer {
    private static final Path DIR = org.ttrec.dlrm.fuzz.Findings.scratch("mlperf");
    private static final Path FILE = DIR.resolve("train.bin");

    private MlperfBinFuzzer() {}

    /** @param data the fuzzer's input */
    public static void fuzzerTestOneInput(byte[] data) {
        try {
            Files.write(FILE, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Dataset d = Datasets.openMlperf(FILE, null)) {
            int[] card = d.cardinalities();
            for (int c : card) {
                Findings.check(c >= 1, "cardinality " + c);
            }
            try (BatchStream s = d.batches(Split.TRAIN, 4, true, 3)) {
                for (Batch b = s.next(); b != null; b = s.next()) {
                    for (int t = 0; t < card.length; t++) {
                        for (int i = 0; i < b.size(); i++) {
                            int x = b.indices()[t][i];
                            Findings.check(x >= 0 && x < card[t], "index " + x + " of table " + t + " outside " + card[t]);
                        }
                    }
                }
            }
        } catch (Throwable e) {
            if (e instanceof Findings.Finding f) {
                throw f;
            }
            Findings.expectDeclared(e, FILE.toString());
        }
    }

    /** @return two good rows and one cut short */
    public static List<byte[]> seeds() {
        ByteBuffer b = ByteBuffer.allocate(2 * 160).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < 2; r++) {
            b.putInt(r);
            for (int i = 0; i < 13; i++) {
                b.putInt(i * r);
            }
            for (int i = 0; i < 26; i++) {
                b.putInt(i + r);
            }
        }
        return List.of(b.array(), java.util.Arrays.copyOf(b.array(), 200));
    }
}
