package org.ttrec.dlrm.cli;

import org.ttrec.dlrm.score.ScoringModel;
import org.ttrec.dlrm.score.ScoringOptions;
import org.ttrec.dlrm.score.UnseenPolicy;
import org.ttrec.dlrm.serve.ScoreServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code ttrec serve}: an HTTP/JSON scoring service over a model file, checkpoint or run folder. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve a model over HTTP/JSON: POST /v1/score, GET /v1/model, GET /healthz (README: Serving).",
            "Stops gracefully on SIGINT/SIGTERM: requests in flight are answered, new ones get 503."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"143:stopped by SIGTERM (130: SIGINT) after draining, as the JVM reports a signal",
            "2:bad option or an unreadable model, or the port is taken"})
public final class ServeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "A model file (.ttrm), a checkpoint, or a run folder.")
    Path model;
    @Option(names = "--host", description = "Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).")
    String host = "127.0.0.1";
    @Option(names = "--port", description = "Port (default 8080; 0 = any free port).")
    int port = 8080;
    @Option(names = "--scoring-threads", description = "Threads that score, each with its own replica of the model "
            + "(default: all cores).")
    int scoringThreads = Runtime.getRuntime().availableProcessors();
    @Option(names = "--max-rows", description = "Rows one request may hold (default 1024).")
    int maxRows = 1024;
    @Option(names = "--max-body-bytes", description = "Bytes one request body may hold (default 4 MiB).")
    int maxBodyBytes = 4 << 20;
    @Option(names = "--drain-seconds", description = "How long a shutdown waits for requests in flight (default 30).")
    int drainSeconds = 30;
    @Option(names = "--best", description = "From a run folder, serve best.ttrec instead of the newest checkpoint.")
    boolean best;
    @Option(names = "--dictionaries", description = "Dictionaries (.ttrd) to map raw values with, instead of the model's.")
    Path dictionaries;
    @Option(names = "--reject-unseen", description = "Refuse raw values the dictionaries never saw (400) where a feature has "
            + "no rare bucket, instead of scoring them as an empty bag.")
    boolean rejectUnseen;

    @Override
    public Integer call() throws Exception {
        ScoreServer.Options o = new ScoreServer.Options(host, port, scoringThreads, maxRows, maxBodyBytes, drainSeconds);
        ScoringOptions so = ScoringOptions.defaults().withBest(best).withDictionaries(dictionaries)
                .withUnseen(rejectUnseen ? UnseenPolicy.REJECT : UnseenPolicy.RARE_BUCKET_OR_EMPTY_BAG);
        long t0 = System.nanoTime();
        try (ScoringModel m = ScoringModel.load(model, so)) {
            ScoreServer server = ScoreServer.start(m, o);
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                System.err.println("[ttrec] serve: draining (requests in flight: " + server.inFlight() + ")");
                server.close();
                stopped.countDown();
            }, "ttrec-serve-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            System.err.printf(Locale.ROOT, "[ttrec] serving %s on http://%s:%d (loaded in %.0f ms; %d scoring threads, "
                            + "%s input) - POST /v1/score, GET /v1/model, GET /healthz%n", model, host, server.port(),
                    (System.nanoTime() - t0) / 1e6, scoringThreads, m.hasDictionaries() ? "raw or index" : "index");
            stopped.await(); // the shutdown hook's drain; the JVM exits when the hook returns
            return 0;
        }
    }
}
