package org.ttrec.dlrm.train;

import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.fuzz.Findings;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.engine.scalar.ScalarBackend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Fuzz target: a checkpoint through {@link Checkpoint#readHeader} and {@link Checkpoint#restore}
 * into a small model (dense tables, a TT table with a hot-row cache, Adagrad state). When the
 * first byte is odd the CRC32 trailer and end marker are fixed up first, so that mutations reach
 * the header and payload parsers behind the checksum. Failures must be IOExceptions naming the file.
 */
public final class CheckpointFuzzer {
    private static final Path FILE = Findings.scratch("checkpoint").resolve("fuzz.ttrec");
    private static final RunConfig CONFIG = config();
    private static final DlrmModel MODEL;
    private static final DenseOptimizer OPT;

    static {
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(CONFIG, Long.MAX_VALUE);
        MODEL = TrainingSetup.build(new ScalarBackend(), CONFIG, specs);
        OPT = Trainer.optimizerFor(CONFIG, MODEL);
    }

    private CheckpointFuzzer() {}

    static RunConfig config() {
        RunConfig c = Presets.get("tiny");
        c.model.embeddingDim = 4;
        c.model.bottomMlp = "13-8-4";
        c.model.topMlp = "8-1";
        c.model.tableRows = new int[] {3, 40, 300};
        c.model.tt.threshold = 100;
        c.model.tt.rank = 2;
        c.model.tt.cacheFraction = 0.05;
        c.train.optimizer = "adagrad";
        c.train.batchSize = 4;
        c.train.testBatchSize = 4;
        return c;
    }

    /** @param data the fuzzer's input */
    public static void fuzzerTestOneInput(byte[] data) {
        if (data.length == 0) {
            return;
        }
        byte[] body = java.util.Arrays.copyOfRange(data, 1, data.length);
        if ((data[0] & 1) == 1 && body.length >= 32) {
            CRC32 crc = new CRC32();
            crc.update(body, 0, body.length - 16);
            ByteBuffer.wrap(body).putLong(body.length - 16, crc.getValue());
            System.arraycopy("TTRECEND".getBytes(StandardCharsets.US_ASCII), 0, body, body.length - 8, 8);
        }
        try {
            Files.write(FILE, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Checkpoint.Header h = Checkpoint.readHeader(FILE);
            Findings.check(h.config() != null && h.state() != null, "header without config or state");
            if ((data[0] & 2) == 0) {
                Checkpoint.restore(FILE, MODEL, OPT);
            } else {
                Checkpoint.restore(FILE, MODEL, null);
            }
        } catch (Throwable e) {
            if (e instanceof Findings.Finding f) {
                throw f;
            }
            Findings.expectDeclared(e, FILE.toString());
        }
    }

    /** @return a real checkpoint of the small model, with the trailer fix-up on and off */
    public static List<byte[]> seeds() {
        try {
            Path f = Files.createTempFile("ttrec-fuzz-seed", ".ttrec");
            Checkpoint.write(f, MODEL, OPT, CONFIG, TrainingSetup.plan(CONFIG, Long.MAX_VALUE),
                    new TrainState(3, 0, 3, 12), null);
            byte[] ck = Files.readAllBytes(f);
            Files.delete(f);
            byte[] a = new byte[ck.length + 1];
            System.arraycopy(ck, 0, a, 1, ck.length);
            byte[] b = a.clone();
            b[0] = 1;
            byte[] c = a.clone();
            c[0] = 3;
            return List.of(a, b, c);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
