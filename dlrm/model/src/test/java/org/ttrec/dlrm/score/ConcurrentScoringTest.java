package org.ttrec.dlrm.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.model.DlrmModel;
import org.ttrec.engine.ComputeBackend;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Many threads scoring one loaded model at once get exactly the single-threaded results: 8
 * platform threads x 100,000 calls of 1 to 3 rows, then 64 virtual threads (the pooled replicas).
 */
class ConcurrentScoringTest {
    static final int[] ROWS = {3, 40, 300, 2000, 50};
    static final int REQUESTS = 997; // prime, so threads starting at different places meet different neighbours

    @Test
    void eightThreadsOfAHundredThousandCallsEqualOneThread(@TempDir Path dir) throws Exception {
        RunConfig c = ScoreFixtures.config(ROWS);
        Path file = dir.resolve("m.ttrm");
        try (ComputeBackend be = ScoreFixtures.cpu1(); DlrmModel m = ScoreFixtures.trainedModel(be, c)) {
            ModelFile.write(ScoreFixtures.checkpoint(dir.resolve("ck.ttrec"), m, c), file, null, false);
        }
        SplittableRandom rnd = new SplittableRandom(99);
        List<ScoreFixtures.Rows> requests = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            requests.add(ScoreFixtures.Rows.random(rnd, 1 + rnd.nextInt(3), ROWS));
        }
        try (ScoringModel s = ScoringModel.load(file, ScoringOptions.defaults().withBackend("cpu"))) {
            float[][] expected = new float[REQUESTS][];
            for (int i = 0; i < REQUESTS; i++) {
                ScoreFixtures.Rows r = requests.get(i);
                expected[i] = new float[r.n()];
                s.predict(r.n(), r.dense(), r.index(), CategoricalEncoding.INDEX, expected[i]);
            }
            AtomicLong mismatches = new AtomicLong();
            AtomicLong calls = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            int threads = 8, perThread = 100_000;
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int k = 0; k < threads; k++) {
                int first = k * 131;
                ts.add(Thread.ofPlatform().start(() -> run(s, requests, expected, first, perThread, start, mismatches,
                        calls, failure)));
            }
            start.countDown();
            for (Thread t : ts) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("a scoring thread failed", failure.get());
            }
            assertEquals((long) threads * perThread, calls.get());
            assertEquals(0, mismatches.get(), "calls whose scores differ from the single-threaded ones");
            assertTrue(s.replicas() <= threads + 1, s.replicas() + " replicas for " + threads + " threads and the loader");

            // virtual threads borrow pooled replicas; the ended platform threads' replicas are reused first
            CountDownLatch go = new CountDownLatch(1);
            ts.clear();
            for (int k = 0; k < 64; k++) {
                int first = k * 17;
                ts.add(Thread.ofVirtual().start(() -> run(s, requests, expected, first, 2_000, go, mismatches, calls, failure)));
            }
            go.countDown();
            for (Thread t : ts) {
                t.join();
            }
            if (failure.get() != null) {
                throw new AssertionError("a virtual scoring thread failed", failure.get());
            }
            assertEquals(0, mismatches.get(), "calls on virtual threads whose scores differ");
        }
    }

    private static void run(ScoringModel s, List<ScoreFixtures.Rows> requests, float[][] expected, int first, int calls,
                            CountDownLatch start, AtomicLong mismatches, AtomicLong done, AtomicReference<Throwable> failure) {
        try {
            start.await();
            float[] out = new float[3];
            for (int i = 0; i < calls; i++) {
                int q = (first + i) % REQUESTS;
                ScoreFixtures.Rows r = requests.get(q);
                s.predict(r.n(), r.dense(), r.index(), CategoricalEncoding.INDEX, out);
                for (int j = 0; j < r.n(); j++) {
                    if (Float.floatToRawIntBits(out[j]) != Float.floatToRawIntBits(expected[q][j])) {
                        mismatches.incrementAndGet();
                    }
                }
                done.incrementAndGet();
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }
}
