package org.ttrec.dlrm.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Real files written by the preprocessor, to seed the binary-format fuzzers. */
final class FuzzSeeds {
    private FuzzSeeds() {}

    /** Real preprocessed files to seed the fuzzers with. */
    record Preprocessed(byte[] shard, byte[] dictionaries) {}

    private static Preprocessed cached;

    /** @return a shard and a dictionaries file of 14 rows (min-count 2, so a rare bucket exists) */
    static synchronized Preprocessed preprocessed() {
        if (cached != null) {
            return cached;
        }
        try {
            Path dir = Files.createTempDirectory("ttrec-fuzz-seed");
            String seed = new String(RawTextFuzzer.seeds().get(0), StandardCharsets.ISO_8859_1).substring(1);
            String row = seed.substring(0, seed.indexOf('\n') + 1);
            List<String> rows = new ArrayList<>();
            for (int i = 0; i < 14; i++) {
                rows.add(row.replace("\t5\t", "\t" + i + "\t").replace("68fd1e64", String.format("%08x", i % 3))
                        .replace("1\t", i % 2 == 0 ? "0\t" : "1\t").strip());
            }
            Path tsv = Files.write(dir.resolve("in.tsv"), rows);
            Path out = dir.resolve("out");
            Preprocessor.run(List.of(tsv), out, new PreprocessOptions(1, BadRowPolicy.FAIL, 2, 0, 1 << 20,
                    SplitRule.KAGGLE, Progress.Factory.NONE));
            cached = new Preprocessed(Files.readAllBytes(out.resolve(ShardFormat.shardName(0))),
                    Files.readAllBytes(out.resolve(ShardFormat.DICTIONARIES)));
            return cached;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
