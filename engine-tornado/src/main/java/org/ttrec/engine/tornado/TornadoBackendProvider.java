package org.ttrec.engine.tornado;

import org.ttrec.engine.BackendProvider;
import org.ttrec.engine.ComputeBackend;

import java.util.List;

/**
 * Registers the TornadoVM backend ({@code tornado}). Its priority is below the scalar
 * reference's, so {@code auto} never picks it: a user asks for it with {@code --backend tornado}.
 * It touches no TornadoVM class until it knows the runtime is there, so a JVM started without
 * the SDK's flags gets one line saying what is missing.
 *
 * <p>Device: {@code -Dttrec.tornado.device=B:D} (TornadoVM backend B, device D, as
 * {@code tornado --devices} lists them; default 0:0).
 */
public final class TornadoBackendProvider implements BackendProvider {
    /** The system property naming the device. */
    public static final String DEVICE_PROPERTY = "ttrec.tornado.device";

    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public int priority() {
        return -10;
    }

    @Override
    public String unavailableReason() {
        return Holder.REASON;
    }

    @Override
    public ComputeBackend create(int threads) {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException("backend 'tornado' cannot run here: " + why);
        }
        int[] d = deviceIndex();
        return new TornadoBackend(d[0], d[1]);
    }

    /** @return the TornadoVM devices, one line each: "B:D name" */
    @Override
    public List<String> devices() {
        return unavailableReason() == null ? Devices.list() : List.of();
    }

    /**
     * @return {backend, device} from {@link #DEVICE_PROPERTY}
     * @throws IllegalArgumentException if the property is not of the form B:D
     */
    static int[] deviceIndex() {
        String s = System.getProperty(DEVICE_PROPERTY, "0:0").trim();
        String[] parts = s.split(":");
        try {
            if (parts.length == 2) {
                int b = Integer.parseInt(parts[0].trim());
                int d = Integer.parseInt(parts[1].trim());
                if (b >= 0 && d >= 0) {
                    return new int[] {b, d};
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + DEVICE_PROPERTY + "=" + s + " is not a TornadoVM device: use"
                + " BACKEND:DEVICE as 'tornado --devices' or 'ttrec backends' lists them, e.g. 0:0");
    }

    /** Decides once per JVM (lazy holder: nothing runs until the first question). */
    private static final class Holder {
        static final String REASON = probe();

        private static String probe() {
            if (ModuleLayer.boot().findModule("tornado.runtime").isEmpty()) {
                return "the TornadoVM runtime is not on the module path: install a TornadoVM SDK, set TORNADOVM_HOME"
                        + " and start the JVM with its flags (./ttrec does this for --backend tornado)";
            }
            if (System.getProperty("tornado.load.runtime.implementation") == null) {
                return "the JVM was not started with the TornadoVM SDK's flags (@$TORNADOVM_HOME/tornado-argfile)";
            }
            try {
                return Devices.check(deviceIndex());
            } catch (RuntimeException | LinkageError e) {
                return "TornadoVM failed to start: " + e;
            }
        }
    }
}
