package org.ttrec.tests.conformance;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.ttrec.engine.BackendProvider;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.cpu.CpuBackend;
import org.ttrec.engine.cpu.VectorWidth;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Which backend loads, and that a silent fallback to scalar cannot pass in CI. */
class BackendSelectionTest {

    static BackendProvider cpuProvider() {
        return Backends.providers().stream().filter(p -> p.name().equals("cpu")).findFirst()
                .orElseThrow(() -> new AssertionError("no 'cpu' provider registered (META-INF/services)"));
    }

    @Test
    void vectorBackendLoadsWhereRequired() {
        boolean required = "true".equalsIgnoreCase(System.getenv("CI"))
                || Boolean.getBoolean("ttrec.require.vector");
        String why = cpuProvider().unavailableReason();
        if (!required && why != null) {
            System.out.println("BackendSelectionTest: the cpu backend is unavailable here (" + why
                    + "); not required because neither CI=true nor -Dttrec.require.vector=true");
            Assumptions.abort("cpu backend unavailable: " + why);
        }
        assertNull(why, "the Vector API backend must load here (CI=true or ttrec.require.vector=true)");
        try (ComputeBackend auto = Backends.create("auto", 0)) {
            assertEquals("cpu", auto.name(), "auto picked " + auto.description() + " instead of the Vector API backend");
        }
    }

    /** Skips (with the reason printed) tests that need engine-cpu classes when the module is absent. */
    static void assumeVectorModule() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            System.out.println("BackendSelectionTest: jdk.incubator.vector is not loaded; skipping a cpu-backend test");
            Assumptions.abort("jdk.incubator.vector not loaded");
        }
    }

    @Test
    void forcedWidthIsHonoured() {
        assumeVectorModule();
        String p = System.getProperty("ttrec.vector.bits");
        try (CpuBackend be = new CpuBackend(1)) {
            if (p == null || p.isBlank()) {
                assertEquals(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize(), VectorWidth.BITS);
            } else {
                int bits = Integer.parseInt(p.trim());
                assertEquals(Math.min(bits, jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize()), VectorWidth.BITS);
                assertEquals(bits == 0, VectorWidth.SCALAR);
            }
            if (!VectorWidth.SCALAR) {
                assertEquals(VectorWidth.BITS, VectorWidth.FLOAT.vectorBitSize());
                assertTrue(be.description().contains(VectorWidth.BITS + "-bit"), be.description());
            }
        }
    }

    /**
     * Operations the cpu backend takes from the scalar reference on purpose, each with the reason;
     * everything else must be its own.
     */
    static final java.util.Map<String, String> INHERITED_ON_PURPOSE = java.util.Map.ofEntries(
            // buffers are the shared heap buffers on purpose
            java.util.Map.entry("allocFloats", "heap buffers"),
            java.util.Map.entry("allocInts", "heap buffers"),
            java.util.Map.entry("upload", "heap buffers"),
            java.util.Map.entry("memoryAvailable", "the same heap"),
            // System.arraycopy in the reference: already the JVM's vectorised intrinsic with memmove semantics
            java.util.Map.entry("copy", "System.arraycopy"),
            java.util.Map.entry("copy2d", "System.arraycopy per row"),
            // scalar on purpose: the vector LOG rounds differently interpreted and compiled, so a
            // vectorised loss would depend on JIT timing; it runs once per batch
            java.util.Map.entry("bceLoss", "scalar LOG for run-to-run determinism"),
            // one float per step
            java.util.Map.entry("checkFinite", "one value per step"),
            java.util.Map.entry("firstNonFinite", "a flag"),
            java.util.Map.entry("clearNonFinite", "a flag"),
            // composed in the reference from calls the cpu backend overrides (gemm, addBias, relu,
            // sumRows, gemmStridedBatched, gatherColumns, scatterAddColumns): its own kernels run
            java.util.Map.entry("linearForward", "composed of the backend's own kernels"),
            java.util.Map.entry("linearBackward", "composed of the backend's own kernels"),
            java.util.Map.entry("dotInteractionForward", "composed of the backend's own kernels"),
            java.util.Map.entry("dotInteractionBackward", "composed of the backend's own kernels"),
            java.util.Map.entry("newDenseTable", "a table on the backend's own EmbeddingBag kernels"));

    @Test
    void everyOperationIsImplementedByTheVectorBackend() {
        assumeVectorModule();
        // CpuBackend reuses ScalarBackend's helpers; make sure no operation silently inherits the reference.
        List<String> missing = new ArrayList<>();
        for (Method m : ComputeBackend.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.isDefault() || INHERITED_ON_PURPOSE.containsKey(m.getName())) {
                continue;
            }
            try {
                CpuBackend.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
            } catch (NoSuchMethodException e) {
                missing.add(m.getName());
            }
        }
        assertTrue(missing.isEmpty(), "CpuBackend inherits these from the scalar reference: " + missing);
    }

    @Test
    void threadCountIsHonoured() {
        assumeVectorModule();
        try (ComputeBackend one = cpuProvider().create(1); ComputeBackend two = cpuProvider().create(2);
             ComputeBackend all = cpuProvider().create(0)) {
            assertEquals(1, one.threads());
            assertEquals(2, two.threads());
            assertEquals(Runtime.getRuntime().availableProcessors(), all.threads());
        }
    }

    @Test
    void withoutTheModuleAutoFallsBackToScalar() throws Exception {
        String java = ProcessHandle.current().info().command().orElse(null);
        if (java == null) {
            System.out.println("BackendSelectionTest: cannot find this JVM's executable; fallback test skipped");
            Assumptions.abort("no java executable");
        }
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                FallbackProbe.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("child JVM hung");
        }
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("reason=") && out.contains("--add-modules jdk.incubator.vector"), out);
        assertTrue(out.contains("auto=scalar"), out);
    }
}
