package org.ttrec.tests.conformance;

import org.ttrec.engine.BackendProvider;
import org.ttrec.engine.Backends;
import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.cpu.VectorWidth;

import java.util.ArrayList;
import java.util.List;

/** The backends under test: every available provider except the reference, at 1 and 2 threads. */
final class Subjects {
    private Subjects() {}

    static List<ComputeBackend> all() {
        List<ComputeBackend> list = new ArrayList<>();
        for (BackendProvider p : Backends.providers()) {
            if (p.name().equals("scalar")) {
                continue;
            }
            if (p.unavailableReason() != null) {
                System.out.println("conformance: skipping backend '" + p.name() + "': " + p.unavailableReason());
                continue;
            }
            list.add(p.create(1));
            list.add(p.create(2));
        }
        if (list.isEmpty()) {
            System.out.println("conformance: no backend other than the scalar reference is available");
        }
        return list;
    }

    /** Awkward sizes around the vector width: 1, 2, lanes-1, lanes, lanes+1 and primes. */
    static int[] sizes() {
        int l = VectorWidth.SCALAR ? 4 : VectorWidth.LANES;
        return java.util.stream.IntStream.of(1, 2, l - 1, l, l + 1, 2 * l + 3, 13, 31, 97)
                .filter(v -> v >= 1).distinct().sorted().toArray();
    }
}
