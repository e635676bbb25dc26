package org.ttrec.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * Finds backends at run time and picks one by name or {@code auto} (the best available). The
 * choice, and the reason any better backend was passed over, is logged once per selection.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("org.ttrec.engine");

    private Backends() {}

    /** @return every provider on the class path, best first */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).forEach(list::add);
        list.sort(Comparator.comparingInt(BackendProvider::priority).reversed());
        return list;
    }

    /** @return names of the providers that can run here, best first */
    public static List<String> availableNames() {
        return providers().stream().filter(p -> p.unavailableReason() == null)
                .map(BackendProvider::name).collect(Collectors.toList());
    }

    /**
     * Creates a backend.
     *
     * @param name    a provider name, or "auto" (or null) for the best available
     * @param threads kernel threads; 0 = one per available core
     * @return the backend
     * @throws IllegalArgumentException if the name is unknown or that backend cannot run here
     */
    public static ComputeBackend create(String name, int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
        }
        List<BackendProvider> all = providers();
        if (name == null || name.isBlank() || name.equals("auto")) {
            StringBuilder skipped = new StringBuilder();
            for (BackendProvider p : all) {
                String why = p.unavailableReason();
                if (why == null) {
                    ComputeBackend b = p.create(threads);
                    LOG.log(System.Logger.Level.INFO, "backend: " + b.description()
                            + (skipped.isEmpty() ? "" : " (skipped " + skipped + ")"));
                    return b;
                }
                if (!skipped.isEmpty()) {
                    skipped.append("; ");
                }
                skipped.append(p.name()).append(": ").append(why);
            }
            throw new IllegalStateException("no compute backend can run: " + skipped);
        }
        for (BackendProvider p : all) {
            if (p.name().equals(name)) {
                String why = p.unavailableReason();
                if (why != null) {
                    throw new IllegalArgumentException("backend '" + name + "' cannot run here: " + why);
                }
                ComputeBackend b = p.create(threads);
                LOG.log(System.Logger.Level.INFO, "backend: " + b.description());
                return b;
            }
        }
        throw new IllegalArgumentException("unknown backend '" + name + "'; known: "
                + all.stream().map(BackendProvider::name).collect(Collectors.joining(", ")) + ", auto");
    }
}
