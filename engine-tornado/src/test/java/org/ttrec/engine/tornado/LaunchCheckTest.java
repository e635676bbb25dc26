package org.ttrec.engine.tornado;

import org.junit.jupiter.api.Test;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.tornado.kernels.Elementwise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A launch the OpenCL driver refuses (here a global size of 100 with work-groups of 30, which
 * OpenCL 1.2 rejects as CL_INVALID_WORK_GROUP_SIZE) must surface as an exception: TornadoVM
 * 5.2.0 only prints it on stdout and returns normally, leaving the outputs untouched. The
 * engine must go on working afterwards.
 */
class LaunchCheckTest {

    @Test
    void aRefusedLaunchThrowsAndTheEngineGoesOn() {
        try (TornadoBackend be = Tornado.backend()) {
            FloatBuf x = be.upload(new float[100]);
            Kernel odd = Kernel.of("fillIn30s", 30, 2, 1, (g, id, c, slot, base, fbase, k) -> g.task(id,
                    Elementwise::fill, c.kc, c.f, c.i, c.a, c.fa, c.done, slot, base, fbase));
            Region r = be.fr(x, "x");
            be.record(Op.of(odd, -100, new int[] {100, TornadoBackend.off(r)}, 1f), r);
            IllegalStateException e = assertThrows(IllegalStateException.class, be::sync);
            assertTrue(e.getMessage().contains("did not run"), e.getMessage());
            float[] got = x.toArray();
            assertArrayEquals(new float[100], got, "the refused launch left x as it was");
            be.fill(100, 2f, x, 0);
            float[] twos = new float[100];
            java.util.Arrays.fill(twos, 2f);
            assertArrayEquals(twos, x.toArray(), "the engine runs programs after a refused launch");
        }
    }
}
