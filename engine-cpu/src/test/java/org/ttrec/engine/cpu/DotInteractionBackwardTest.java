package org.ttrec.engine.cpu;

import org.junit.jupiter.api.Test;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.scalar.DotInteraction;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cpu backend's own interaction backward ({@link DotInteractionKernel#backward}) against the
 * reference composition ({@link DotInteraction}: zeroed B x F x F gradient, two column scatters,
 * one batched GEMM, the pass-through) run on the same backend: bit for bit, since the kernel
 * performs the reference's operations in its order. The tolerance-based comparison with the
 * scalar backend is in the conformance suite.
 */
class DotInteractionBackwardTest {

    @Test
    void matchesTheComposedReferenceBitForBit() {
        SplittableRandom r = new SplittableRandom(11);
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend be = new CpuBackend(threads)) {
                DotInteraction composed = new DotInteraction(be);
                for (int rows : new int[] {1, 7, 130}) {
                    for (int f : new int[] {1, 2, 5, 27}) {
                        for (int dim : new int[] {1, 3, 16, 17, 35}) {
                            for (boolean self : new boolean[] {false, true}) {
                                String at = threads + " threads, " + rows + " x " + f + " x " + dim + (self ? " self" : "");
                                int width = ComputeBackend.dotInteractionWidth(f, dim, self);
                                FloatBuf t = be.upload(random(r, 3 + rows * f * dim));
                                FloatBuf dr = be.upload(random(r, 2 + rows * width));
                                float[][] out = new float[2][];
                                for (int way = 0; way < 2; way++) {
                                    FloatBuf dt = be.upload(random(r, 1 + rows * f * dim));
                                    FloatBuf db = be.upload(random(r, 4 + rows * dim));
                                    if (way == 0) {
                                        composed.backward(rows, f, dim, self, t, 3, dr, 2, dt, 1, db, 4);
                                    } else {
                                        be.dotInteractionBackward(rows, f, dim, self, t, 3, dr, 2, dt, 1, db, 4);
                                    }
                                    float[] a = dt.toArray(), b = db.toArray();
                                    out[way] = new float[rows * f * dim + rows * dim];
                                    System.arraycopy(a, 1, out[way], 0, rows * f * dim);
                                    System.arraycopy(b, 4, out[way], rows * f * dim, rows * dim);
                                }
                                assertArrayEquals(out[0], out[1], at);
                                boolean nonZero = false;
                                for (float v : out[1]) {
                                    nonZero |= v != 0f;
                                }
                                assertTrue(nonZero || f == 1 && !self, at + ": all zero");
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void badShapesAreRefusedBeforeAnyKernelRuns() {
        try (CpuBackend be = new CpuBackend(1)) {
            FloatBuf t = be.allocFloats(2 * 3 * 4), dr = be.allocFloats(2 * ComputeBackend.dotInteractionWidth(3, 4, false));
            FloatBuf dt = be.allocFloats(2 * 3 * 4), db = be.allocFloats(2 * 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> be.dotInteractionBackward(2, 3, 4, false, t, 0, dr, 0, dt, 1, db, 0));
            assertTrue(e.getMessage().contains("dotInteraction dT"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> be.dotInteractionBackward(3, 3, 4, false, t, 0, dr, 0, dt, 0, db, 0));
            assertTrue(e.getMessage().contains("dotInteraction"), e.getMessage());
        }
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble(-1, 1);
        }
        return x;
    }
}
