package org.ttrec.dlrm.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LrScheduleTest {
    @Test
    void constantWithoutWarmupOrDecay() {
        LrSchedule s = new LrSchedule(0.1, 0, 0, 0);
        for (long k = 1; k < 1000; k += 97) {
            assertEquals(0.1, s.lr(k), 0);
        }
    }

    @Test
    void warmupThenBaseThenQuadraticDecayThenFrozen() {
        LrSchedule s = new LrSchedule(1.0, 4, 10, 5);
        assertEquals(0.25, s.lr(1), 1e-12);
        assertEquals(0.5, s.lr(2), 1e-12);
        assertEquals(0.75, s.lr(3), 1e-12);
        assertEquals(1.0, s.lr(4), 1e-12);
        assertEquals(1.0, s.lr(9), 1e-12);
        assertEquals(1.0, s.lr(10), 1e-12);            // ((5 - 0) / 5)^2
        assertEquals(0.64, s.lr(11), 1e-12);           // (4/5)^2
        assertEquals(0.04, s.lr(14), 1e-12);           // (1/5)^2, the last decay step
        assertEquals(0.04, s.lr(15), 1e-12);           // frozen at the last value
        assertEquals(0.04, s.lr(1_000_000), 1e-12);
    }

    @Test
    void decayNeverGoesBelowTheFloor() {
        LrSchedule s = new LrSchedule(1e-6, 0, 0, 1000);
        assertEquals(1e-7, s.lr(999), 1e-15);
    }
}
