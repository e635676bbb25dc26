package org.ttrec.spark.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.data.PreprocessOptions;
import org.ttrec.dlrm.data.Preprocessor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Preprocessing from and to HDFS (an in-process MiniDFSCluster with one data node): the same
 * shards and dictionaries as {@code ttrec preprocess} on a local copy, and the same metadata but
 * for the input's name.
 */
class SparkPreprocessorHdfsTest {
    private static MiniDFSCluster dfs;
    private static JavaSparkContext sc;
    @TempDir
    static Path base;

    @BeforeAll
    static void start() throws IOException {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.resolve("dfs").toString());
        dfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        dfs.waitActive();
        sc = Folders.localSpark("SparkPreprocessorHdfsTest");
    }

    @AfterAll
    static void stop() {
        try {
            sc.close();
        } finally {
            dfs.shutdown();
        }
    }

    @Test
    void hdfsInAndOutMatchesTheSingleMachineRun(@TempDir Path tmp) throws IOException {
        Path local = Folders.sample(Folders.CSV, tmp);
        FileSystem fs = dfs.getFileSystem();
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path("/criteo/" + Folders.CSV);
        fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(local.toString()), in);
        String root = fs.getUri().toString();
        PreprocessOptions o = PreprocessOptions.defaults().withRowsPerShard(300).withMapping(2, 0);

        SparkPreprocessor.run(sc, List.of(root + "/criteo/" + Folders.CSV), root + "/shards", o, 3);
        Preprocessor.run(List.of(local), tmp.resolve("single"), o);

        Path got = tmp.resolve("from-hdfs");
        fs.copyToLocalFile(false, new org.apache.hadoop.fs.Path("/shards"), new org.apache.hadoop.fs.Path(got.toString()), true);
        List<String> names = Folders.names(tmp.resolve("single"));
        assertEquals(names, Folders.names(got), "files written to HDFS");
        assertTrue(names.size() > 3, "several shards: " + names);
        for (String n : names) {
            if (n.equals("metadata.json")) {
                continue;
            }
            long at = Files.mismatch(tmp.resolve("single").resolve(n), got.resolve(n));
            if (at != -1) {
                fail(n + " differs at byte " + at);
            }
        }
        // metadata.json names its input as given: an hdfs:// URI here, a local path there
        assertEquals(withoutSourceNames(tmp.resolve("single").resolve("metadata.json")),
                withoutSourceNames(got.resolve("metadata.json")));
        assertTrue(Files.readString(got.resolve("metadata.json")).contains(root + "/criteo/"), "the HDFS input is named");
    }

    private static JsonNode withoutSourceNames(Path metadata) throws IOException {
        JsonNode n = new ObjectMapper().readTree(metadata.toFile());
        for (JsonNode s : n.path("sources")) {
            ((ObjectNode) s).put("file", "");
        }
        return n;
    }
}
