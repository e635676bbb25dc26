package org.ttrec.engine;

import java.util.List;

/**
 * Service-provider interface through which backends are found at run time
 * ({@link java.util.ServiceLoader}). A module registers its provider in
 * {@code META-INF/services/org.ttrec.engine.BackendProvider}.
 */
public interface BackendProvider {
    /** @return the name users select the backend by ("cpu", "scalar", "gpu", ...) */
    String name();

    /** @return preference for {@code auto}: the highest available priority wins */
    int priority();

    /**
     * @return null if the backend can run in this JVM, otherwise one line saying why not and
     *         what to do about it (e.g. the missing JVM flag)
     */
    String unavailableReason();

    /**
     * Creates a backend.
     *
     * @param threads number of threads kernels may use; 0 means one per available core
     * @return the backend
     * @throws IllegalStateException if {@link #unavailableReason()} is not null
     */
    ComputeBackend create(int threads);

    /**
     * The devices this backend can run on, for {@code ttrec backends}: one line each, starting
     * with the name its device option takes. Host backends have none to choose from.
     *
     * @return the devices (empty when there is no choice, or the backend cannot run here)
     */
    default List<String> devices() {
        return List.of();
    }
}
