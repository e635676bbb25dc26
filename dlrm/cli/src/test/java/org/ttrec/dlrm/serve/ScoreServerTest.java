package org.ttrec.dlrm.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.Presets;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.data.Dictionaries;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.dlrm.model.EmbeddingTableSpec;
import org.ttrec.dlrm.score.CategoricalEncoding;
import org.ttrec.dlrm.score.ModelFile;
import org.ttrec.dlrm.score.ScoringModel;
import org.ttrec.dlrm.score.ScoringOptions;
import org.ttrec.dlrm.train.Checkpoint;
import org.ttrec.dlrm.train.TrainState;
import org.ttrec.dlrm.train.Trainer;
import org.ttrec.dlrm.train.TrainingSetup;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * {@code ttrec serve}'s server on loopback: a load of valid and malformed requests from many
 * concurrent clients gets an answer each, never a 5xx, the right status and a message naming the
 * field, and valid rows get exactly the API's scores; a shutdown answers the requests in flight.
 */
class ScoreServerTest {
    static final int[] DISTINCT = {3, 40, 300, 1999, 50};
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    static ScoringModel model;
    static Path file;

    @BeforeAll
    static void setUp() throws Exception {
        Dictionaries d = new Dictionaries(DISTINCT.length, 0, 1);
        for (int t = 0; t < DISTINCT.length; t++) {
            for (int i = 0; i < DISTINCT[t]; i++) {
                d.feature(t).add(hash(t, i));
            }
        }
        d.finish();
        Path dict = dir.resolve("dictionaries.ttrd");
        d.write(dict);
        RunConfig c = Presets.get("tiny");
        c.model.bottomMlp = "13-16-8";
        c.model.topMlp = "16-1";
        c.model.tableRows = d.cardinalities();
        c.model.tt.threshold = 100;
        c.model.tt.rank = 4;
        List<EmbeddingTableSpec> specs = TrainingSetup.plan(c, Long.MAX_VALUE);
        Path ck = dir.resolve("ck.ttrec");
        try (ComputeBackend be = Backends.create("cpu", 1); DlrmModel m = TrainingSetup.build(be, c, specs)) {
            Checkpoint.write(ck, m, Trainer.optimizerFor(c, m), c, specs, TrainState.start(), null);
        }
        file = dir.resolve("m.ttrm");
        ModelFile.write(ck, file, dict, false);
        model = ScoringModel.load(file, ScoringOptions.defaults().withBackend("cpu"));
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    static int hash(int t, int i) {
        return (i * 0x9E3779B1) ^ (t * 0x85EBCA77) ^ 0x5bd1e995;
    }

    /** One request of the load and what must come back. */
    record Case(String kind, String method, String path, String body, int status, String mention, float[] scores) {}

    @Test
    void aMixedLoadGetsAnAnswerEachAndNoServerError() throws Exception {
        try (ScoreServer server = ScoreServer.start(model, new ScoreServer.Options("127.0.0.1", 0, 2, 64, 64 * 1024, 10));
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
             HttpClient http = HttpClient.newBuilder().executor(clients).build()) {
            String base = "http://127.0.0.1:" + server.port();
            SplittableRandom rnd = new SplittableRandom(1);
            List<Case> cases = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                cases.add(randomCase(rnd));
            }
            Semaphore concurrent = new Semaphore(32);
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (Case k : cases) {
                concurrent.acquire();
                answers.add(clients.submit(() -> {
                    try {
                        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + k.path()));
                        b = k.method().equals("POST") ? b.POST(HttpRequest.BodyPublishers.ofString(k.body())) : b.GET();
                        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                    } finally {
                        concurrent.release();
                    }
                }));
            }
            int ok = 0;
            for (int i = 0; i < cases.size(); i++) {
                Case k = cases.get(i);
                HttpResponse<String> r = answers.get(i).get();
                assertTrue(r.statusCode() < 500, k.kind() + ": " + r.statusCode() + " " + r.body());
                assertEquals(k.status(), r.statusCode(), k.kind() + ": " + r.body());
                JsonNode n = JSON.readTree(r.body());
                if (k.status() == 200) {
                    JsonNode s = n.get("scores");
                    assertEquals(k.scores().length, s.size(), k.kind());
                    for (int j = 0; j < s.size(); j++) {
                        assertEquals(Float.floatToRawIntBits(k.scores()[j]), Float.floatToRawIntBits(Float.parseFloat(s.get(j).asText())),
                                k.kind() + " row " + j);
                    }
                    ok++;
                } else {
                    assertTrue(n.path("error").asText().contains(k.mention()), k.kind() + ": expected '" + k.mention()
                            + "' in " + r.body());
                }
            }
            assertEquals(cases.size(), answers.size());
            assertTrue(ok > 500, ok + " valid requests");
            HttpResponse<String> h = http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, h.statusCode());
            HttpResponse<String> m = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/model")).build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode info = JSON.readTree(m.body());
            assertEquals(5, info.path("categoricalFeatures").asInt(), m.body());
            assertEquals("raw", info.path("defaultEncoding").asText(), m.body());
            assertEquals("TT", info.path("tables").get(3).path("kind").asText(), m.body());
        }
    }

    private Case randomCase(SplittableRandom rnd) {
        int n = 1 + rnd.nextInt(6);
        int t = DISTINCT.length;
        float[][] dense = new float[n][13];
        int[][] idx = new int[n][t];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < 13; j++) {
                dense[r][j] = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(500);
            }
            for (int f = 0; f < t; f++) {
                idx[r][f] = rnd.nextInt(DISTINCT[f]);
            }
        }
        boolean raw = rnd.nextBoolean();
        StringBuilder rows = new StringBuilder("[");
        for (int r = 0; r < n; r++) {
            rows.append(r == 0 ? "" : ",").append("{\"dense\":[");
            for (int j = 0; j < 13; j++) {
                rows.append(j == 0 ? "" : ",").append((int) dense[r][j]);
            }
            rows.append("],\"categorical\":[");
            for (int f = 0; f < t; f++) {
                rows.append(f == 0 ? "" : ",").append(raw ? "\"" + String.format(Locale.ROOT, "%08x", hash(f, idx[r][f])) + "\""
                        : Integer.toString(idx[r][f]));
            }
            rows.append("]}");
        }
        rows.append("]");
        String valid = "{\"encoding\":\"" + (raw ? "raw" : "index") + "\",\"rows\":" + rows + "}";
        switch (rnd.nextInt(12)) {
            case 0, 1, 2, 3 -> {
                float[] want = new float[n];
                model.predict(dense, idx, CategoricalEncoding.INDEX, want);
                return new Case(raw ? "valid raw" : "valid index", "POST", "/v1/score", valid, 200, null, want);
            }
            case 4 -> {
                return new Case("malformed JSON", "POST", "/v1/score", valid.substring(0, rnd.nextInt(valid.length() - 1)), 400,
                        valid.length() > 0 ? "" : "", null);
            }
            case 5 -> {
                return new Case("dense count", "POST", "/v1/score", valid.replaceFirst("\\{\"dense\":\\[\\d+,", "{\"dense\":["),
                        400, "rows[0].dense: 12 values, the model takes 13", null);
            }
            case 6 -> {
                return new Case("categorical count", "POST", "/v1/score", valid.replaceFirst("\\],\"categorical\":\\[", "],\"categorical\":[7,"),
                        400, "rows[0].categorical: 6 values, the model takes 5", null);
            }
            case 7 -> {
                return new Case("type", "POST", "/v1/score", valid.replaceFirst("\\{\"dense\":\\[\\d+", "{\"dense\":[\"x\""), 400,
                        "rows[0].dense[0]: must be a number, got the string \"x\"", null);
            }
            case 8 -> {
                StringBuilder big = new StringBuilder("{\"rows\":[");
                for (int r = 0; r < 65; r++) {
                    big.append(r == 0 ? "" : ",").append("{}");
                }
                return new Case("too many rows", "POST", "/v1/score", big + "]}", 400, "65 rows, at most 64", null);
            }
            case 9 -> {
                return new Case("too big", "POST", "/v1/score", valid + " ".repeat(70 * 1024), 413, "at most 65536", null);
            }
            case 10 -> {
                return new Case("index range", "POST", "/v1/score", "{\"encoding\":\"index\",\"rows\":[{\"dense\":[0,0,0,0,0,0,0,0,0,0,0,0,0],"
                        + "\"categorical\":[0,0,0,2000,0]}]}", 400, "rows[0], categorical feature 3: index 2000 outside", null);
            }
            default -> {
                return rnd.nextBoolean()
                        ? new Case("wrong method", "GET", "/v1/score", null, 405, "takes POST", null)
                        : new Case("wrong path", "POST", "/v2/score", valid, 404, "no such path", null);
            }
        }
    }

    @Test
    void aShutdownAnswersTheRequestsInFlight() throws Exception {
        ScoreServer server = ScoreServer.start(model, new ScoreServer.Options("127.0.0.1", 0, 1, 4096, 16 << 20, 30));
        int rows = 4096;
        StringBuilder b = new StringBuilder("{\"encoding\":\"index\",\"rows\":[");
        for (int r = 0; r < rows; r++) {
            b.append(r == 0 ? "" : ",").append("{\"dense\":[1,2,3,4,5,6,7,8,9,10,11,12,13],\"categorical\":[0,")
                    .append(r % 40).append(",").append(r % 300).append(",").append(r % 1999).append(",1]}");
        }
        String body = b.append("]}").toString();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
             HttpClient http = HttpClient.newBuilder().executor(clients).build()) {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            int requests = 6;
            for (int i = 0; i < requests; i++) {
                answers.add(clients.submit(() -> http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                        + "/v1/score")).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString())));
            }
            // one scoring thread: the requests queue behind each other, so all are in flight at once
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (server.inFlight() < requests && System.nanoTime() < deadline && answers.stream().noneMatch(Future::isDone)) {
                Thread.sleep(1);
            }
            int inFlight = server.inFlight();
            server.close();
            for (Future<HttpResponse<String>> f : answers) {
                HttpResponse<String> r = f.get();
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(rows, JSON.readTree(r.body()).get("scores").size());
            }
            assertTrue(inFlight >= 2, "only " + inFlight + " requests were in flight when the server closed");
        }
    }
}
