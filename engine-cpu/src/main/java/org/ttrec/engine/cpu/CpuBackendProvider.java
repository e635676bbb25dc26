package org.ttrec.engine.cpu;

import org.ttrec.engine.BackendProvider;
import org.ttrec.engine.ComputeBackend;

/**
 * Registers the Vector API backend ({@code cpu}, preferred by {@code auto}). It touches no
 * {@code jdk.incubator.vector} class until it knows the module is loaded, so a JVM started
 * without {@code --add-modules jdk.incubator.vector} sees one line saying what to add and
 * {@code auto} falls back to the scalar backend.
 */
public final class CpuBackendProvider implements BackendProvider {

    /** The one line shown when the incubator module is missing. */
    static final String NO_MODULE = "the Vector API module is not loaded: start the JVM with --add-modules jdk.incubator.vector";

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public String unavailableReason() {
        return Holder.REASON;
    }

    @Override
    public ComputeBackend create(int threads) {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException("backend 'cpu' cannot run here: " + why);
        }
        return new CpuBackend(threads);
    }

    /** Decides once per JVM (lazy holder: nothing runs until the first question). */
    private static final class Holder {
        static final String REASON = probe();

        private static String probe() {
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                return NO_MODULE;
            }
            String c2 = compilerProblem();
            if (c2 != null) {
                return c2;
            }
            try {
                return Probe.check();
            } catch (RuntimeException | LinkageError e) {
                return "the Vector API failed to initialise: " + e;
            }
        }

        /** Without C2 the Vector API is interpreted and far slower than plain loops. */
        private static String compilerProblem() {
            try {
                var bean = java.lang.management.ManagementFactory.getPlatformMXBean(
                        com.sun.management.HotSpotDiagnosticMXBean.class);
                if (bean == null) {
                    return null;
                }
                if ("false".equals(bean.getVMOption("UseCompiler").getValue())) {
                    return "the JIT is disabled (-Xint): Vector API code would run interpreted";
                }
                String level = bean.getVMOption("TieredStopAtLevel").getValue();
                if (Integer.parseInt(level) < 4) {
                    return "C2 is disabled (-XX:TieredStopAtLevel=" + level + "): Vector API code would not be compiled to SIMD";
                }
            } catch (RuntimeException | LinkageError e) {
                // No HotSpot management bean (another VM): assume a working JIT.
            }
            return null;
        }
    }

    /** Touches the Vector API; only loaded after the module check passed. */
    private static final class Probe {
        static String check() {
            int lanes = VectorWidth.LANES; // resolves the species (and validates ttrec.vector.bits)
            return lanes > 0 ? null : "no float vector species";
        }
    }
}
