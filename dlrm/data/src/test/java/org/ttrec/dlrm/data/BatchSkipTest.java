package org.ttrec.dlrm.data;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link BatchStream#skip} jumps to where {@code next()} calls would have led, and {@link Dataset#trainPart} cuts the training split. */
class BatchSkipTest {
    // 60,000 rows: 51,428 training rows, so more than three shuffle windows of 64 x 256 rows
    private static Dataset data() {
        return Datasets.synthetic(Datasets.parseSynthetic("synthetic:rows=60000,scale=1000,seed=3"));
    }

    private static void assertSameBatch(Batch a, Batch b, String what) {
        if (a == null || b == null) {
            assertEquals(a == null, b == null, what + ": one stream ended");
            return;
        }
        assertEquals(a.size(), b.size(), what);
        assertArrayEquals(a.labels(), b.labels(), what);
        assertArrayEquals(a.dense(), b.dense(), what);
        for (int t = 0; t < a.indices().length; t++) {
            assertArrayEquals(a.indices()[t], b.indices()[t], what + ", table " + t);
        }
    }

    @Test
    void skipLandsWhereNextWould() throws IOException {
        try (Dataset d = data()) {
            int batch = 100; // does not divide the 16,384-row windows
            long batches = (d.size(Split.TRAIN) + batch - 1) / batch;
            for (boolean shuffle : new boolean[] {true, false}) {
                for (long k : new long[] {0, 1, 7, 163, 164, 165, 330, batches - 2, batches - 1, batches, batches + 5}) {
                    String what = (shuffle ? "shuffled" : "in order") + ", skip " + k;
                    try (BatchStream a = d.batches(Split.TRAIN, batch, shuffle, 42);
                         BatchStream b = d.batches(Split.TRAIN, batch, shuffle, 42)) {
                        long passed = 0;
                        while (passed < k && a.next() != null) {
                            passed++;
                        }
                        assertEquals(passed, b.skip(k), what + ": batches passed");
                        for (int i = 0; i < 3; i++) {
                            assertSameBatch(a.next(), b.next(), what + ", batch " + i + " after");
                        }
                    }
                }
            }
        }
    }

    @Test
    void partsCoverTheTrainingSplitOnce() throws IOException {
        try (Dataset d = data()) {
            long n = d.size(Split.TRAIN);
            int parts = 3;
            float[] whole = labelsAndFirstIndex(d, Split.TRAIN);
            float[] joined = new float[0];
            long total = 0;
            for (int p = 0; p < parts; p++) {
                Dataset part = d.trainPart(p, parts);
                long size = part.size(Split.TRAIN);
                assertTrue(Math.abs(size - n / parts) <= 1, "part " + p + " has " + size + " of " + n);
                assertEquals(d.size(Split.TEST), part.size(Split.TEST));
                total += size;
                float[] f = labelsAndFirstIndex(part, Split.TRAIN);
                float[] j = java.util.Arrays.copyOf(joined, joined.length + f.length);
                System.arraycopy(f, 0, j, joined.length, f.length);
                joined = j;
            }
            assertEquals(n, total);
            assertArrayEquals(whole, joined, "the parts in order are the split in order");
            // one part of one is the whole split, shuffled alike
            try (BatchStream a = d.batches(Split.TRAIN, 64, true, 9);
                 BatchStream b = d.trainPart(0, 1).batches(Split.TRAIN, 64, true, 9)) {
                for (int i = 0; i < 20; i++) {
                    assertSameBatch(a.next(), b.next(), "part 0 of 1, batch " + i);
                }
            }
        }
    }

    private static float[] labelsAndFirstIndex(Dataset d, Split s) throws IOException {
        float[] out = new float[(int) d.size(s) * 2];
        int k = 0;
        try (BatchStream st = d.batches(s, 1000, false, 0)) {
            for (Batch b = st.next(); b != null; b = st.next()) {
                for (int i = 0; i < b.size(); i++) {
                    out[k++] = b.labels()[i];
                    out[k++] = b.indices()[0][i];
                }
            }
        }
        return out;
    }
}
