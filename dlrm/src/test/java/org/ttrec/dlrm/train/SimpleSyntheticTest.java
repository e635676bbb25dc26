package org.ttrec.dlrm.train;

import org.junit.jupiter.api.Test;
import org.ttrec.dlrm.data.Batch;
import org.ttrec.dlrm.data.BatchStream;
import org.ttrec.dlrm.data.Split;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SimpleSyntheticTest {
    private static final int[] ROWS = {3, 50, 1000};

    private static List<String> samples(SimpleSynthetic d, Split split, int batch, boolean shuffle, long seed) throws IOException {
        List<String> out = new ArrayList<>();
        try (BatchStream s = d.batches(split, batch, shuffle, seed)) {
            for (Batch b = s.next(); b != null; b = s.next()) {
                for (int i = 0; i < b.size(); i++) {
                    StringBuilder sb = new StringBuilder().append(b.labels()[i]);
                    for (int k = 0; k < d.denseFeatures(); k++) {
                        sb.append(',').append(b.dense()[i * d.denseFeatures() + k]);
                    }
                    for (int t = 0; t < ROWS.length; t++) {
                        assertEquals(i, b.offsets()[t][i]);
                        int r = b.indices()[t][i];
                        assertTrue(r >= 0 && r < ROWS[t]);
                        sb.append(',').append(r);
                    }
                    out.add(sb.toString());
                }
            }
        }
        return out;
    }

    @Test
    void deterministicSplitsAndShuffleIsAPermutation() throws IOException {
        SimpleSynthetic d = new SimpleSynthetic(4, ROWS, 1003, 200, 300, 3, 2.5, 7);
        List<String> a = samples(d, Split.TRAIN, 64, false, 0);
        assertEquals(1003, a.size());
        assertEquals(a, samples(new SimpleSynthetic(4, ROWS, 1003, 200, 300, 3, 2.5, 7), Split.TRAIN, 100, false, 0));
        List<String> sh = samples(d, Split.TRAIN, 64, true, 5);
        assertNotEquals(a, sh);
        assertEquals(new HashSet<>(a), new HashSet<>(sh));
        assertEquals(sh, samples(d, Split.TRAIN, 64, true, 5));
        assertNotEquals(sh, samples(d, Split.TRAIN, 64, true, 6));
        Set<String> val = new HashSet<>(samples(d, Split.VALIDATION, 64, false, 0));
        assertEquals(200, val.size());
        long positives = a.stream().filter(s -> s.startsWith("1.0")).count();
        assertTrue(positives > 100 && positives < 600, positives + " positives of 1003");
        assertArrayEquals(ROWS, d.cardinalities());
    }
}
