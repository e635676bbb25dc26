package org.ttrec.engine.scalar;

import org.ttrec.engine.BackendProvider;
import org.ttrec.engine.ComputeBackend;

/** Registers the scalar reference backend; always available, lowest priority for {@code auto}. */
public final class ScalarBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    @Override
    public ComputeBackend create(int threads) {
        return new ScalarBackend();
    }
}
