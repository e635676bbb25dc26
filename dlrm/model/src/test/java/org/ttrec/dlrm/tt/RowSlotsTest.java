package org.ttrec.dlrm.tt;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The cache index against a HashMap: present rows give their slot, absent ones -1, on clustered and random ids. */
class RowSlotsTest {
    @Test
    void slotsMatchAMap() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int n : new int[] {0, 1, 2, 3, 17, 1000, 40_000}) {
            for (boolean clustered : new boolean[] {true, false}) {
                Map<Integer, Integer> ref = new HashMap<>();
                int[] rows = new int[n];
                for (int i = 0; i < n; i++) {
                    int r;
                    do {
                        r = clustered ? rnd.nextInt(2 * n + 1) : rnd.nextInt(Integer.MAX_VALUE);
                    } while (ref.containsKey(r));
                    ref.put(r, i);
                    rows[i] = r;
                }
                RowSlots s = new RowSlots(rows);
                for (int i = 0; i < n; i++) {
                    assertEquals(i, s.slot(rows[i]), "row " + rows[i]);
                }
                for (int t = 0; t < 20_000; t++) {
                    int r = clustered ? rnd.nextInt(4 * n + 4) : rnd.nextInt(Integer.MAX_VALUE);
                    assertEquals(ref.getOrDefault(r, -1), s.slot(r), "row " + r + " of " + n);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new RowSlots(new int[] {4, 9, 4}));
    }
}
