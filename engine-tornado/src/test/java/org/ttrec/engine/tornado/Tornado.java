package org.ttrec.engine.tornado;

import org.junit.jupiter.api.Assumptions;

/** The tests' tornado backend: on the device of -Dttrec.tornado.device (default 0:0), or the reason it cannot run. */
final class Tornado {
    private Tornado() {}

    /** @return a new backend, or aborts the test (printing why) when TornadoVM cannot run here */
    static TornadoBackend backend() {
        String why = new TornadoBackendProvider().unavailableReason();
        if (why != null) {
            System.out.println("engine-tornado test skipped: " + why);
            Assumptions.abort(why);
        }
        return (TornadoBackend) new TornadoBackendProvider().create(1);
    }
}
