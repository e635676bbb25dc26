package org.ttrec.spark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ttrec-spark command line in-process, local[2]. */
class SparkMainTest {
    private static int run(StringWriter err, String... args) {
        CommandLine cl = SparkMain.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void trainWritesARunFolderThatEvalReads(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        StringWriter err = new StringWriter();
        int code = run(err, "train", "--master", "local[2]", "--replicas", "2", "--steps-per-round", "20",
                "--set", "data.trainSamples=4000", "--batch-size", "64", "--set", "train.testBatchSize=500", "--out", out.toString());
        assertEquals(0, code, err.toString());
        assertTrue(Files.isRegularFile(out.resolve("checkpoint.ttrec")), "a checkpoint");
        assertTrue(Files.readString(out.resolve("metrics.jsonl")).contains("\"test\""), "test metrics logged");
        assertEquals(0, run(err, "eval", "--master", "local[2]", "--checkpoint", out.toString(), "--tasks", "3"), err.toString());
        // a second new run into the same folder is refused, a resume of a finished run has nothing to do
        StringWriter refused = new StringWriter();
        assertEquals(2, run(refused, "train", "--master", "local[2]", "--replicas", "2", "--out", out.toString(),
                "--set", "data.trainSamples=4000"));
        assertTrue(refused.toString().contains("not empty"), refused.toString());
    }

    @Test
    void preprocessWritesWhatTtrecPreprocessWrites(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("sample.tsv");
        try (var s = SparkMainTest.class.getResourceAsStream("/criteo/criteo_kaggle_raw_sample_100.tsv")) {
            Files.copy(s, in);
        }
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "preprocess", "--master", "local[2]", "--partitions", "3", "--rows-per-shard", "40",
                "-o", dir.resolve("spark").toString(), in.toString()), err.toString());
        org.ttrec.dlrm.data.Preprocessor.run(java.util.List.of(in), dir.resolve("one"),
                org.ttrec.dlrm.data.PreprocessOptions.defaults().withRowsPerShard(40));
        try (var files = Files.list(dir.resolve("one"))) {
            for (Path f : files.toList()) {
                assertTrue(java.util.Arrays.equals(Files.readAllBytes(f), Files.readAllBytes(dir.resolve("spark").resolve(f.getFileName()))),
                        f.getFileName() + " differs");
            }
        }
        StringWriter bad = new StringWriter();
        assertEquals(2, run(bad, "preprocess", "--master", "local[1]", "--on-bad-row", "maybe", "-o",
                dir.resolve("x").toString(), in.toString()));
        assertTrue(bad.toString().contains("--on-bad-row must be fail or skip"), bad.toString());
    }

    @Test
    void aDivergingReplicaEndsTheJobWithExitCode3(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        assertEquals(3, run(err, "train", "--master", "local[2]", "--replicas", "2", "--steps-per-round", "20",
                "--lr", "1000000", "--set", "data.trainSamples=4000", "--out", dir.resolve("div").toString()));
        assertTrue(err.toString().contains("training diverged: replica"), err.toString());
        assertFalse(Files.exists(dir.resolve("div").resolve("checkpoint.ttrec")), "no checkpoint of a diverged model");
    }

    @Test
    void badOptionsEndWithOneLineAndExitCode2(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "train", "--master", "local[1]", "--combine-weights", "median", "--out", dir.toString()));
        assertTrue(err.toString().contains("--combine-weights must be average or sum"), err.toString());
        StringWriter err2 = new StringWriter();
        assertEquals(2, run(err2, "train", "--master", "local[1]", "--steps-per-round", "0", "--out", dir.resolve("b").toString()));
        assertTrue(err2.toString().contains("steps per round"), err2.toString());
        StringWriter err3 = new StringWriter();
        assertEquals(2, run(err3, "train", "--master", "local[1]", "--resume"));
        assertTrue(err3.toString().contains("--resume needs --out"), err3.toString());
        assertFalse(err3.toString().contains("\tat "), "no stack trace: " + err3);
    }
}
