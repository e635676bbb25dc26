package org.ttrec.jmh;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.ttrec.dlrm.score.ScoringModel;
import org.ttrec.dlrm.score.ScoringOptions;
import org.ttrec.dlrm.serve.ScoreServer;
import org.ttrec.dlrm.train.TrainState;

/**
 * Latency of {@code ttrec serve} over loopback: the Kaggle-shaped TT model of {@link TrainBenchmark}
 * (as {@link ScoreHarness} builds it) behind a {@link ScoreServer}, and closed-loop clients that each
 * send one {@code POST /v1/score} of {@code rows} rows (table indices, JSON) at a time and wait for
 * the answer. Prints, per client count, the p50 / p90 / p99 / max latency of the measured requests
 * (after a warm-up) and the rows scored per second. Every answer is checked to be a 200 holding one
 * score per row, so a fast error cannot pass for a fast score.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -Xmx3g -cp <benchmarks.jar>
 * org.ttrec.jmh.HttpScoreHarness [rows per request] [seconds per client count] [client counts, e.g. 1,2]}
 * ({@code -DscoringThreads=N}: the server's scoring threads, default 2).
 */
public final class HttpScoreHarness {
    private HttpScoreHarness() {
    }

    /**
     * Entry point.
     *
     * @param a rows per request, seconds per measurement, client counts
     * @throws Exception on set-up failure or a wrong answer
     */
    public static void main(String[] a) throws Exception {
        int rowsPerRequest = a.length > 0 ? Integer.parseInt(a[0]) : 64;
        double secs = a.length > 1 ? Double.parseDouble(a[1]) : 10;
        int[] clientCounts = Arrays.stream((a.length > 2 ? a[2] : "1,2").split(",")).mapToInt(Integer::parseInt).toArray();
        int scoringThreads = Integer.getInteger("scoringThreads", 2);
        Path dir = Files.createTempDirectory("ttrec-http-harness");
        Path file;
        int[][] rows;
        try (TrainWorkload w = new TrainWorkload("tt", 512, "cpu", 1, 0, 1_000_000, 0)) {
            file = w.writeModelFile(dir, TrainState.start());
            rows = w.rowIndices();
        }
        List<String> bodies = bodies(rows, rowsPerRequest);
        try (ScoringModel model = ScoringModel.load(file, ScoringOptions.defaults().withBackend("cpu"));
             ScoreServer server = ScoreServer.start(model, new ScoreServer.Options("127.0.0.1", 0, scoringThreads,
                     Math.max(1024, rowsPerRequest), 16 << 20, 5))) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/score");
            System.out.printf(Locale.ROOT, "ttrec serve, loopback, %d rows per request (JSON, table indices), "
                    + "%d scoring threads, Kaggle-shaped TT model (%,d parameters, %,d uncompressed)%n", rowsPerRequest,
                    scoringThreads, model.info().parameters(), model.info().uncompressedParameters());
            for (int clients : clientCounts) {
                run(uri, bodies, rowsPerRequest, clients, Math.max(2, secs / 2)); // warm-up: JIT, connections
                long[] lat = run(uri, bodies, rowsPerRequest, clients, secs);
                Arrays.sort(lat);
                System.out.printf(Locale.ROOT, "%d client(s): %,d requests, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; "
                        + "%,.0f rows/s%n", clients, lat.length, pct(lat, 0.50), pct(lat, 0.90), pct(lat, 0.99),
                        lat[lat.length - 1] / 1e6, lat.length * (double) rowsPerRequest / secs);
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir.resolve("ck.ttrec"));
            Files.deleteIfExists(dir);
        }
    }

    private static double pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
    }

    /** Closed loop: each client sends the next request when the last is answered, for {@code secs}. */
    private static long[] run(URI uri, List<String> bodies, int rowsPerRequest, int clients, double secs) throws Exception {
        long end = System.nanoTime() + (long) (secs * 1e9);
        List<long[]> perClient = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        AtomicLong failures = new AtomicLong();
        for (int c = 0; c < clients; c++) {
            long[][] mine = {new long[1 << 16]};
            int[] n = {0};
            int seed = c;
            perClient.add(null);
            int slot = c;
            Thread t = Thread.ofPlatform().start(() -> {
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                SplittableRandom rnd = new SplittableRandom(seed);
                try {
                    while (System.nanoTime() < end) {
                        String body = bodies.get(rnd.nextInt(bodies.size()));
                        long t0 = System.nanoTime();
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri)
                                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                        long dt = System.nanoTime() - t0;
                        if (r.statusCode() != 200 || count(r.body(), ',') != rowsPerRequest) {
                            failures.incrementAndGet();
                            System.err.println("unexpected answer " + r.statusCode() + ": "
                                    + r.body().substring(0, Math.min(200, r.body().length())));
                            return;
                        }
                        if (n[0] == mine[0].length) {
                            mine[0] = Arrays.copyOf(mine[0], n[0] * 2);
                        }
                        mine[0][n[0]++] = dt;
                    }
                } catch (Exception e) {
                    failures.incrementAndGet();
                    e.printStackTrace();
                } finally {
                    synchronized (perClient) {
                        perClient.set(slot, Arrays.copyOf(mine[0], n[0]));
                    }
                }
            });
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " client(s) got a wrong answer or failed");
        }
        return perClient.stream().flatMapToLong(Arrays::stream).toArray();
    }

    /** Commas in an answer: rows - 1 between the scores and one before "encoding", so rows in all. */
    private static int count(String s, char ch) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ch) {
                n++;
            }
        }
        return n;
    }

    /** Request bodies of the workload's rows with random raw counts as dense features. */
    private static List<String> bodies(int[][] rows, int rowsPerRequest) {
        SplittableRandom rnd = new SplittableRandom(7);
        List<String> out = new ArrayList<>();
        for (int start = 0; start + rowsPerRequest <= rows.length && out.size() < 64; start += rowsPerRequest) {
            StringBuilder b = new StringBuilder("{\"encoding\": \"index\", \"rows\": [");
            for (int r = 0; r < rowsPerRequest; r++) {
                b.append(r == 0 ? "" : ",").append("{\"dense\": [");
                for (int j = 0; j < 13; j++) {
                    b.append(j == 0 ? "" : ",").append(rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(1000));
                }
                b.append("], \"categorical\": [");
                int[] row = rows[start + r];
                for (int t = 0; t < row.length; t++) {
                    b.append(t == 0 ? "" : ",").append(row[t]);
                }
                b.append("]}");
            }
            out.add(b.append("]}").toString());
        }
        return out;
    }
}
