package org.ttrec.spark.preprocess;

import org.apache.spark.api.java.JavaSparkContext;
import org.ttrec.dlrm.data.DatasetMetadata;
import org.ttrec.dlrm.data.PreprocessOptions;
import org.ttrec.dlrm.data.Preprocessor;
import org.ttrec.dlrm.data.Progress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Not a test: times SparkPreprocessor in local[N] against Preprocessor.run with N threads on one
 * raw file, alternating, and checks once that both wrote the same bytes. Run with the test class
 * path: {@code java ... org.ttrec.spark.preprocess.SparkPreprocessBench FILE WORKDIR [RUNS] [CORES]}.
 */
public final class SparkPreprocessBench {
    private SparkPreprocessBench() {}

    public static void main(String[] args) throws IOException {
        Path input = Path.of(args[0]);
        Path work = Path.of(args[1]);
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int cores = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        PreprocessOptions o = PreprocessOptions.defaults().withThreads(cores);
        // the distributed run reports per stage: print how long each took
        PreprocessOptions timed = o.withProgress((task, bytes) -> new Progress() {
            final long t0 = System.nanoTime();

            @Override
            public void update(long b, long r) {}

            @Override
            public void close() {
                System.out.printf("  %s: %.2f s%n", task, (System.nanoTime() - t0) / 1e9);
            }
        });
        List<Double> spark = new ArrayList<>();
        List<Double> single = new ArrayList<>();
        long rows = 0;
        try (JavaSparkContext sc = Folders.localSpark("bench", "spark.master", "local[" + cores + "]",
                "spark.local.dir", work.resolve("spark-local").toString())) {
            for (int i = 0; i < runs; i++) {
                Path s = work.resolve("spark-" + i);
                long t0 = System.nanoTime();
                DatasetMetadata m = SparkPreprocessor.run(sc, List.of(input.toString()), s.toString(), timed);
                double secSpark = (System.nanoTime() - t0) / 1e9;
                rows = m.rows();
                Path p = work.resolve("single-" + i);
                t0 = System.nanoTime();
                Preprocessor.run(List.of(input), p, o);
                double secSingle = (System.nanoTime() - t0) / 1e9;
                if (i == 0) {
                    Folders.assertSameFolder(p, s);
                    System.out.println("outputs byte-identical (" + m.shards().size() + " shards)");
                }
                spark.add(secSpark);
                single.add(secSingle);
                System.out.printf("run %d: spark local[%d] %.2f s (%.0f rows/s), single %d threads %.2f s (%.0f rows/s)%n",
                        i, cores, secSpark, rows / secSpark, cores, secSingle, rows / secSingle);
                delete(s);
                delete(p);
            }
        }
        double ms = median(spark);
        double mp = median(single);
        System.out.printf("%d rows; median spark %.2f s = %.0f rows/s; median single %.2f s = %.0f rows/s; "
                + "spark / single throughput %.3f%n", rows, ms, rows / ms, mp, rows / mp, mp / ms);
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> w = Files.walk(dir)) {
            for (Path x : w.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }
}
