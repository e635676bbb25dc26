package org.ttrec.spark.train;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.RunConfig;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Training on a real (if small) Spark cluster: Spark's local-cluster mode starts a master and two
 * workers in this JVM, and each worker an executor JVM of its own, so replicas are serialised
 * across processes and kept in executors that are not the driver; the result must be local[2]'s,
 * bit for bit, also when an executor JVM dies in the middle of a round.
 */
class SparkClusterTest {

    @Test
    void twoExecutorJvmsTrainWhatLocalModeTrains(@TempDir Path dir) throws IOException {
        RunConfig c = SparkTrainerTest.config(6_000);
        c.train.maxSteps = 20;
        SparkTrainOptions o = SparkTrainOptions.of(2, 5);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());

        SparkTrainer.Result local;
        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("local")
                .set("spark.ui.enabled", "false").set("spark.serializer.extraDebugInfo", "false"))) {
            local = SparkTrainer.run(sc, c, o, dir.resolve("local"), false, quiet);
        }

        // The workers launch executors the way a Spark installation does: they need a "Spark home"
        // with a jars folder (here empty: the executors get this JVM's class path instead).
        Path home = dir.resolve("spark-home");
        Files.createDirectories(home.resolve("jars"));
        String opts = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED";
        SparkConf conf = new SparkConf().setMaster("local-cluster[2,1,1024]").setAppName("cluster")
                .set("spark.ui.enabled", "false").set("spark.serializer.extraDebugInfo", "false")
                .set("spark.executorEnv.SPARK_HOME", home.toString()).set("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .set("spark.executor.extraJavaOptions", opts);
        SparkTrainer.Result cluster;
        SparkTrainer.Result lost;
        // a worker in this JVM takes its Spark home from these (SPARK_HOME otherwise)
        System.setProperty("spark.testing", "true");
        System.setProperty("spark.test.home", home.toString());
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            cluster = SparkTrainer.run(sc, c, o, dir.resolve("cluster"), false, quiet);
            assertEquals(2, sc.sc().getExecutorMemoryStatus().size() - 1, "two executors besides the driver");
            // an executor JVM that dies in round 2 (test hook): its replica is rebuilt elsewhere, same bits
            lost = SparkTrainer.run(sc, c, o.withFailOnce("1:0:exit"), dir.resolve("lost"), false, quiet);
        } finally {
            System.clearProperty("spark.testing");
            System.clearProperty("spark.test.home");
        }
        assertEquals(local.rounds().size(), cluster.rounds().size());
        for (int i = 0; i < local.state().arrays().size(); i++) {
            assertArrayEquals(local.state().arrays().get(i), cluster.state().arrays().get(i), "array " + i);
        }
        assertEquals(local.test(), cluster.test());
        for (int i = 0; i < local.state().arrays().size(); i++) {
            assertArrayEquals(local.state().arrays().get(i), lost.state().arrays().get(i), "after a lost executor, array " + i);
        }
    }
}
