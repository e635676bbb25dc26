package org.ttrec.dlrm.score;

import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.fuzz.Findings;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.TrainState;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.scalar.ScalarBackend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Fuzz target: a model file through {@link ModelFile#inspect} and {@link ScoringModel#load} (scalar
 * backend), then one row scored. When the first byte is odd, the fixed header's length and the
 * header and JSON checksums are fixed up first, so that mutations reach the JSON description and
 * the section checks behind them. Failures must be IOExceptions naming the file.
 */
public final class ModelFileFuzzer {
    private static final Path FILE = Findings.scratch("modelfile").resolve("fuzz.ttrm");
    private static final ScoringOptions OPTIONS = ScoringOptions.defaults().withBackend("scalar");

    private ModelFileFuzzer() {}

    /** @param data the fuzzer's input */
    public static void fuzzerTestOneInput(byte[] data) {
        if (data.length == 0) {
            return;
        }
        byte[] body = java.util.Arrays.copyOfRange(data, 1, data.length);
        if ((data[0] & 1) == 1 && body.length >= 64) {
            fixUp(body);
        }
        try {
            Files.write(FILE, body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            ModelInfo info = ModelFile.inspect(FILE);
            Findings.check(info.tables() != null, "inspect gave no tables");
            try (ScoringModel m = ScoringModel.load(FILE, OPTIONS)) {
                float p = m.predict(new float[m.denseFeatures()], new int[m.categoricalFeatures()], CategoricalEncoding.INDEX);
                Findings.check(p >= 0 && p <= 1, "probability " + p);
            }
        } catch (Throwable e) {
            if (e instanceof Findings.Finding f) {
                throw f;
            }
            Findings.expectDeclared(e, FILE.toString());
        }
    }

    /** Makes the fixed header consistent with the bytes: length, header CRC32C, JSON CRC32C (if its bounds hold). */
    static void fixUp(byte[] b) {
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(16, b.length);
        long off = h.getLong(24);
        int len = h.getInt(32);
        if (off >= 64 && len > 0 && off + len <= b.length) {
            h.putLong(16, off + len); // a longer file would be refused for its tail before the JSON is read
            CRC32C c = new CRC32C();
            c.update(b, (int) off, len);
            h.putInt(36, (int) c.getValue());
        }
        CRC32C hc = new CRC32C();
        hc.update(b, 16, 24);
        h.putInt(12, (int) hc.getValue());
    }

    /** @return a real model file (TT tables with a cache, dictionaries), with the fix-up off and on */
    public static List<byte[]> seeds() {
        try {
            RunConfig c = Presets.get("tiny");
            c.model.embeddingDim = 4;
            c.model.bottomMlp = "13-8-4";
            c.model.topMlp = "8-1";
            Dictionaries d = new Dictionaries(3, 0, 2);
            for (int t = 0; t < 3; t++) {
                for (int i = 0; i < 150 * (t + 1); i++) {
                    d.feature(t).add(i * 7919 + t);
                    d.feature(t).add(i * 7919 + t);
                }
            }
            d.finish();
            c.model.tableRows = d.cardinalities();
            c.model.tt.threshold = 100;
            c.model.tt.rank = 2;
            List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
            Path dir = Files.createTempDirectory("ttrec-fuzz-seed");
            Path ck = dir.resolve("ck.ttrec"), dict = dir.resolve("d.ttrd"), file = dir.resolve("m.ttrm");
            d.write(dict);
            try (ScalarBackend be = new ScalarBackend(); DlrmModel m = TrainingSetup.build(be, c, specs)) {
                Checkpoint.write(ck, m, Trainer.optimizerFor(c, m), c, specs, TrainState.start(), null);
            }
            ModelFile.write(ck, file, dict, false);
            byte[] mf = Files.readAllBytes(file);
            for (Path p : new Path[] {ck, dict, file}) {
                Files.delete(p);
            }
            Files.delete(dir);
            byte[] a = new byte[mf.length + 1];
            System.arraycopy(mf, 0, a, 1, mf.length);
            byte[] b = a.clone();
            b[0] = 1;
            return List.of(a, b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
