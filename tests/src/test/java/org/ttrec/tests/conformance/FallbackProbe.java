package org.ttrec.tests.conformance;

import org.ttrec.engine.BackendProvider;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;

/**
 * Main of a child JVM started without {@code --add-modules jdk.incubator.vector}: prints why the
 * cpu backend is unavailable and what {@code auto} picked. Touches no engine-cpu class directly.
 */
public final class FallbackProbe {
    private FallbackProbe() {}

    /** @param args unused */
    public static void main(String[] args) {
        for (BackendProvider p : Backends.providers()) {
            if (p.name().equals("cpu")) {
                System.out.println("reason=" + p.unavailableReason());
            }
        }
        try (ComputeBackend b = Backends.create("auto", 1)) {
            System.out.println("auto=" + b.name());
        }
    }
}
