package org.ttrec.dlrm.serve;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import org.ttrec.dlrm.score.CategoricalEncoding;
import org.ttrec.dlrm.score.ModelInfo;
import org.ttrec.dlrm.score.ScoringModel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/JSON scoring service over a {@link ScoringModel}, on the JDK's HTTP server:
 * <ul>
 *   <li>{@code POST /v1/score}: {@code {"encoding": "raw"|"index", "rows": [{"dense": [13 numbers],
 *       "categorical": [26 values]}, ...]}} gives {@code {"scores": [...]}}. Raw categorical values
 *       are Criteo's 8-hex-digit strings ("" for an empty field) or integers; the encoding defaults
 *       to raw when the model has dictionaries, else index.</li>
 *   <li>{@code GET /healthz}: 200 while serving, 503 while draining.</li>
 *   <li>{@code GET /v1/model}: shape, tables, compression, provenance.</li>
 * </ul>
 * Requests are bounded (body bytes, rows per request). Anything wrong with a request is a 400 (413
 * for a body over the limit, 404/405 for a wrong path or method) whose JSON {@code error} names
 * the field ({@code rows[3].dense[4]}, ...); a 500 would be a bug.
 *
 * <p>Threads: connections and JSON run on virtual threads (one per exchange), the scoring itself
 * on a fixed pool of platform threads, each of which keeps its own replica of the model (and the
 * cpu backend's scratch) for the server's life: memory is bounded by the pool size whatever the
 * number of connections, and requests beyond it wait in the pool's queue.
 *
 * <p>{@link #close()} drains: new requests get 503, requests already received are answered, then
 * the listener and the pools stop.
 */
public final class ScoreServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param host           address to listen on (e.g. 127.0.0.1, or 0.0.0.0 for all)
     * @param port           port (0: any free one; see {@link #port()})
     * @param scoringThreads platform threads that score (replicas)
     * @param maxRows        rows one request may hold
     * @param maxBodyBytes   bytes a request body may hold
     * @param drainSeconds   how long {@link #close()} waits for requests in flight
     */
    public record Options(String host, int port, int scoringThreads, int maxRows, int maxBodyBytes, int drainSeconds) {
        /** Checks the ranges. */
        public Options {
            if (port < 0 || port > 65535 || scoringThreads < 1 || maxRows < 1 || maxBodyBytes < 64 || drainSeconds < 0) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "serve options out of range: port %d (0..65535), "
                        + "scoring threads %d (>= 1), max rows %d (>= 1), max body bytes %d (>= 64), drain seconds %d (>= 0)",
                        port, scoringThreads, maxRows, maxBodyBytes, drainSeconds));
            }
        }
    }

    private final ScoringModel model;
    private final Options options;
    private final HttpServer server;
    private final ExecutorService io = Executors.newVirtualThreadPerTaskExecutor();
    private final ExecutorService scoring;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean draining;
    private boolean closed;

    private ScoreServer(ScoringModel model, Options options) throws IOException {
        this.model = model;
        this.options = options;
        this.scoring = Executors.newFixedThreadPool(options.scoringThreads(), Thread.ofPlatform().name("ttrec-score-", 0)
                .daemon(true).factory());
        this.server = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 256);
        server.setExecutor(io);
        server.createContext("/v1/score", guarded(this::score));
        server.createContext("/v1/model", guarded(this::describe));
        server.createContext("/healthz", guarded(this::health));
        server.createContext("/", guarded(ex -> send(ex, 404, error("no such path: " + ex.getRequestURI().getPath()
                + " (POST /v1/score, GET /v1/model, GET /healthz)"))));
    }

    /**
     * Starts serving.
     *
     * @param model   the model (the caller closes it after the server)
     * @param options where to listen and the limits
     * @return the running server
     * @throws IOException if the address cannot be bound
     */
    public static ScoreServer start(ScoringModel model, Options options) throws IOException {
        ScoreServer s = new ScoreServer(model, options);
        s.server.start();
        return s;
    }

    /** @return the port listened on */
    public int port() {
        return server.getAddress().getPort();
    }

    /** @return requests being handled now */
    public int inFlight() {
        return inFlight.get();
    }

    @FunctionalInterface
    private interface Handler {
        void handle(HttpExchange ex) throws Exception;
    }

    /** Counts the exchange in flight, turns it away while draining, and answers any failure (500 only for a bug). */
    private HttpHandler guarded(Handler h) {
        return ex -> {
            inFlight.incrementAndGet();
            try {
                if (draining) {
                    ex.getResponseHeaders().set("Connection", "close");
                    send(ex, 503, error("the server is shutting down"));
                    return;
                }
                h.handle(ex);
            } catch (BadRequest e) {
                send(ex, e.status, error(e.getMessage()));
            } catch (IOException e) {
                // the client went away mid-exchange: nothing to answer
            } catch (Exception | Error e) {
                try {
                    send(ex, 500, error("internal error: " + e));
                } catch (IOException ignored) {
                    // the client went away
                }
            } finally {
                ex.close();
                inFlight.decrementAndGet();
            }
        };
    }

    /** A request the server refuses, with its HTTP status. */
    private static final class BadRequest extends Exception {
        final int status;

        BadRequest(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private void health(HttpExchange ex) throws IOException, BadRequest {
        method(ex, "GET");
        ObjectNode n = JSON.createObjectNode().put("status", "ok");
        send(ex, 200, n);
    }

    private void describe(HttpExchange ex) throws IOException, BadRequest {
        method(ex, "GET");
        ModelInfo i = model.info();
        ObjectNode n = JSON.createObjectNode();
        n.put("denseFeatures", i.denseFeatures());
        n.put("categoricalFeatures", i.tables().size());
        n.put("embeddingDim", i.embeddingDim());
        n.put("parameters", i.parameters());
        n.put("uncompressedParameters", i.uncompressedParameters());
        n.put("compressionRatio", i.compressionRatio());
        n.put("dictionaries", i.dictionaries());
        n.put("defaultEncoding", i.dictionaries() ? "raw" : "index");
        n.put("source", i.source());
        n.put("step", i.step());
        n.set("tables", JSON.valueToTree(i.tables()));
        n.set("provenance", JSON.readTree(i.provenanceJson()));
        ObjectNode limits = n.putObject("limits");
        limits.put("maxRows", options.maxRows());
        limits.put("maxBodyBytes", options.maxBodyBytes());
        limits.put("scoringThreads", options.scoringThreads());
        limits.put("replicaBytes", model.replicaBytes());
        send(ex, 200, n);
    }

    private void score(HttpExchange ex) throws IOException, BadRequest, InterruptedException {
        method(ex, "POST");
        JsonNode root = parse(body(ex));
        if (!root.isObject()) {
            throw new BadRequest(400, "the request must be a JSON object with \"rows\", got " + kind(root));
        }
        CategoricalEncoding enc = encoding(root.get("encoding"));
        JsonNode rows = root.get("rows");
        if (rows == null || !rows.isArray()) {
            throw new BadRequest(400, "rows: " + (rows == null ? "missing" : "must be an array, got " + kind(rows)));
        }
        int n = rows.size();
        if (n == 0) {
            throw new BadRequest(400, "rows: empty (at least one row)");
        }
        if (n > options.maxRows()) {
            throw new BadRequest(400, "rows: " + n + " rows, at most " + options.maxRows() + " per request");
        }
        int d = model.denseFeatures(), t = model.categoricalFeatures();
        float[][] dense = new float[n][d];
        int[][] cat = new int[n][t];
        for (int r = 0; r < n; r++) {
            JsonNode row = rows.get(r);
            String at = "rows[" + r + "]";
            if (!row.isObject()) {
                throw new BadRequest(400, at + ": must be an object with \"dense\" and \"categorical\", got " + kind(row));
            }
            JsonNode x = array(row, at, "dense", d);
            for (int j = 0; j < d; j++) {
                JsonNode v = x.get(j);
                if (!v.isNumber()) {
                    throw new BadRequest(400, at + ".dense[" + j + "]: must be a number, got " + kind(v));
                }
                dense[r][j] = (float) v.asDouble();
                if (!Float.isFinite(dense[r][j])) {
                    throw new BadRequest(400, at + ".dense[" + j + "]: " + v + " is out of float range");
                }
            }
            JsonNode c = array(row, at, "categorical", t);
            for (int j = 0; j < t; j++) {
                cat[r][j] = categorical(c.get(j), enc, at + ".categorical[" + j + "]");
            }
        }
        float[] out = new float[n];
        Future<?> f;
        try {
            f = scoring.submit(() -> model.predict(dense, cat, enc, out));
        } catch (RejectedExecutionException e) {
            throw new BadRequest(503, "the server is shutting down");
        }
        try {
            f.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IllegalArgumentException || cause instanceof IllegalStateException) {
                // the API's own checks: "row 3, categorical feature 5: index ... outside ..."
                throw new BadRequest(400, cause.getMessage().replaceFirst("^row (\\d+)", "rows[$1]"));
            }
            throw new IllegalStateException("scoring failed", cause);
        }
        ObjectNode resp = JSON.createObjectNode();
        ArrayNode s = resp.putArray("scores");
        for (float p : out) {
            s.add(p);
        }
        resp.put("encoding", enc == CategoricalEncoding.RAW_HASH ? "raw" : "index");
        send(ex, 200, resp);
    }

    private CategoricalEncoding encoding(JsonNode e) throws BadRequest {
        if (e == null || e.isNull()) {
            return model.hasDictionaries() ? CategoricalEncoding.RAW_HASH : CategoricalEncoding.INDEX;
        }
        String s = e.isTextual() ? e.asText() : null;
        if ("raw".equals(s)) {
            if (!model.hasDictionaries()) {
                throw new BadRequest(400, "encoding: \"raw\" needs the model's dictionaries, which this model lacks; "
                        + "send table indices with \"encoding\": \"index\"");
            }
            return CategoricalEncoding.RAW_HASH;
        }
        if ("index".equals(s)) {
            return CategoricalEncoding.INDEX;
        }
        throw new BadRequest(400, "encoding: must be \"raw\" or \"index\", got " + e);
    }

    private static JsonNode array(JsonNode row, String at, String field, int length) throws BadRequest {
        JsonNode a = row.get(field);
        if (a == null) {
            throw new BadRequest(400, at + "." + field + ": missing");
        }
        if (!a.isArray()) {
            throw new BadRequest(400, at + "." + field + ": must be an array, got " + kind(a));
        }
        if (a.size() != length) {
            throw new BadRequest(400, at + "." + field + ": " + a.size() + " values, the model takes " + length);
        }
        return a;
    }

    /** A raw value: 1 to 8 hex digits ("" = 0, an empty Criteo field) or an integer in [-2^31, 2^32); an index: an integer. */
    private static int categorical(JsonNode v, CategoricalEncoding enc, String at) throws BadRequest {
        if (v.isIntegralNumber()) {
            long x = v.asLong();
            boolean ok = v.canConvertToLong() && (enc == CategoricalEncoding.INDEX
                    ? x >= 0 && x <= Integer.MAX_VALUE : x >= Integer.MIN_VALUE && x <= 0xFFFFFFFFL);
            if (!ok) {
                throw new BadRequest(400, at + ": " + v + " is out of range for " + (enc == CategoricalEncoding.INDEX
                        ? "a table index" : "a 32-bit value"));
            }
            return (int) x;
        }
        if (enc == CategoricalEncoding.RAW_HASH && v.isTextual()) {
            String s = v.asText();
            if (s.isEmpty()) {
                return 0;
            }
            if (s.length() <= 8) {
                try {
                    return (int) Long.parseLong(s, 16);
                } catch (NumberFormatException e) {
                    // fall through to the message
                }
            }
            throw new BadRequest(400, at + ": \"" + (s.length() > 20 ? s.substring(0, 20) + "..." : s)
                    + "\" is not 1 to 8 hex digits");
        }
        throw new BadRequest(400, at + ": must be " + (enc == CategoricalEncoding.INDEX ? "an integer table index"
                : "a hex string or an integer") + ", got " + kind(v));
    }

    private static String kind(JsonNode v) {
        return v.isNull() ? "null" : v.isTextual() ? "the string " + abbreviate(v.toString())
                : v.isBoolean() ? v.toString() : v.isObject() ? "an object" : v.isArray() ? "an array"
                : v.isNumber() ? "the number " + v : v.getNodeType().toString().toLowerCase(Locale.ROOT);
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "...\"" : s;
    }

    private static void method(HttpExchange ex, String allowed) throws BadRequest {
        if (!ex.getRequestMethod().equals(allowed)) {
            ex.getResponseHeaders().set("Allow", allowed);
            throw new BadRequest(405, ex.getRequestURI().getPath() + " takes " + allowed + ", not " + ex.getRequestMethod());
        }
    }

    /** Reads the body, refusing more than the limit without reading it all. */
    private byte[] body(HttpExchange ex) throws IOException, BadRequest {
        String len = ex.getRequestHeaders().getFirst("Content-Length");
        int max = options.maxBodyBytes();
        if (len != null) {
            try {
                if (Long.parseLong(len.trim()) > max) {
                    ex.getResponseHeaders().set("Connection", "close");
                    throw new BadRequest(413, "request body of " + len.trim() + " bytes, at most " + max);
                }
            } catch (NumberFormatException e) {
                throw new BadRequest(400, "Content-Length: not a number: " + len);
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                ex.getResponseHeaders().set("Connection", "close");
                throw new BadRequest(413, "request body over " + max + " bytes");
            }
            return b;
        }
    }

    private static JsonNode parse(byte[] body) throws BadRequest {
        if (body.length == 0) {
            throw new BadRequest(400, "empty request body (expected a JSON object with \"rows\")");
        }
        try {
            JsonNode n = JSON.readTree(body);
            if (n == null || n.isMissingNode()) {
                throw new BadRequest(400, "empty request body (expected a JSON object with \"rows\")");
            }
            return n;
        } catch (JacksonException e) {
            JsonLocation l = e.getLocation();
            throw new BadRequest(400, "malformed JSON" + (l == null ? "" : " at line " + l.getLineNr() + ", column "
                    + l.getColumnNr()) + ": " + e.getOriginalMessage().replaceAll("\\[Source: [^\\]]*\\]; ", ""));
        } catch (IOException e) {
            throw new BadRequest(400, "unreadable JSON: " + e.getMessage());
        }
    }

    private static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", message);
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] b = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    /**
     * Drains and stops: new requests get 503, requests in flight are answered (waiting up to
     * {@link Options#drainSeconds()}), then the listener and the pools stop. The model stays open.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        draining = true;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.drainSeconds());
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        server.stop(0);
        scoring.shutdown();
        io.shutdown();
        try {
            scoring.awaitTermination(options.drainSeconds() + 1L, TimeUnit.SECONDS);
            io.awaitTermination(options.drainSeconds() + 1L, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
