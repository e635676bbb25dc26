package org.ttrec.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float species every Vector API kernel of this module uses, fixed once per JVM so the JIT
 * folds it into constants (a species held in an instance field would not be, and kernels would
 * run many times slower). The system property {@code ttrec.vector.bits} forces 128, 256 or 512
 * bits, or 0 for scalar code paths, so tests can cover every width on one machine.
 */
public final class VectorWidth {
    private VectorWidth() {}

    /** Bits requested by {@code ttrec.vector.bits}, or the preferred width of this CPU. */
    public static final int BITS = requestedBits();

    /** True when kernels should take their scalar path ({@code ttrec.vector.bits=0}). */
    public static final boolean SCALAR = BITS == 0;

    /** The float species; when {@link #SCALAR} it is the 64-bit species and unused. */
    public static final VectorSpecies<Float> FLOAT = SCALAR ? FloatVector.SPECIES_64
            : FloatVector.SPECIES_PREFERRED.vectorBitSize() < BITS ? FloatVector.SPECIES_PREFERRED
            : VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));

    /** Lanes of {@link #FLOAT}. */
    public static final int LANES = FLOAT.length();

    /** Vectors of 16 lanes: the lane tricks below exist (the in-register transposes need them). */
    static final boolean SIXTEEN = LANES == 16 && !SCALAR;
    // For 16 lanes only (null otherwise): BITs = the lanes whose index has bit s set, XORs = the
    // shuffle taking lane i from lane i ^ s, s = 8, 4, 2, 1. A blend under BITs of a vector and
    // the XORs rearrangement of another exchanges s x s blocks between the two; four such stages
    // transpose 16 x 16 (Sgemm.transpose16) or sum 16 vectors at once (VectorTtKernels.dotsAdd16).
    static final VectorMask<Float> BIT8 = SIXTEEN ? VectorMask.fromLong(FLOAT, 0xFF00L) : null;
    static final VectorMask<Float> BIT4 = SIXTEEN ? VectorMask.fromLong(FLOAT, 0xF0F0L) : null;
    static final VectorMask<Float> BIT2 = SIXTEEN ? VectorMask.fromLong(FLOAT, 0xCCCCL) : null;
    static final VectorMask<Float> BIT1 = SIXTEEN ? VectorMask.fromLong(FLOAT, 0xAAAAL) : null;
    static final VectorShuffle<Float> XOR8 = SIXTEEN ? VectorShuffle.fromOp(FLOAT, i -> i ^ 8) : null;
    static final VectorShuffle<Float> XOR4 = SIXTEEN ? VectorShuffle.fromOp(FLOAT, i -> i ^ 4) : null;
    static final VectorShuffle<Float> XOR2 = SIXTEEN ? VectorShuffle.fromOp(FLOAT, i -> i ^ 2) : null;
    static final VectorShuffle<Float> XOR1 = SIXTEEN ? VectorShuffle.fromOp(FLOAT, i -> i ^ 1) : null;

    private static int requestedBits() {
        String p = System.getProperty("ttrec.vector.bits");
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        if (p == null || p.isBlank()) {
            return preferred;
        }
        int b;
        try {
            b = Integer.parseInt(p.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ttrec.vector.bits must be 0, 128, 256 or 512, got '" + p + "'");
        }
        if (b != 0 && b != 128 && b != 256 && b != 512) {
            throw new IllegalArgumentException("ttrec.vector.bits must be 0, 128, 256 or 512, got " + b);
        }
        return b == 0 ? 0 : Math.min(b, preferred);
    }
}
