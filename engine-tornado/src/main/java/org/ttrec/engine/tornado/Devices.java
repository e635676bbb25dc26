package org.ttrec.engine.tornado;

import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

import java.util.ArrayList;
import java.util.List;

/** TornadoVM's devices, as {@code tornado --devices} numbers them. Loaded only once the runtime is known to be there. */
final class Devices {
    private Devices() {}

    /** @return "B:D name (kind, memory)" for every device of every backend */
    static List<String> list() {
        List<String> out = new ArrayList<>();
        List<TornadoBackend> backends = TornadoExecutionPlan.getTornadoDeviceMap().getAllBackends();
        for (int b = 0; b < backends.size(); b++) {
            TornadoBackend be = backends.get(b);
            for (int d = 0; d < be.getNumDevices(); d++) {
                TornadoDevice dev = be.getDevice(d);
                out.add(b + ":" + d + "  " + be.getBackendType() + "  " + dev.getPhysicalDevice().getDeviceName().trim() + "  ("
                        + dev.getDeviceType() + ", " + (dev.getMaxGlobalMemory() >> 20) + " MiB)");
            }
        }
        return out;
    }

    /**
     * @param bd {backend, device}
     * @return null if that device exists, else one line saying which devices do
     */
    static String check(int[] bd) {
        List<TornadoBackend> backends = TornadoExecutionPlan.getTornadoDeviceMap().getAllBackends();
        if (backends.isEmpty()) {
            return "TornadoVM found no device (no OpenCL platform: install an OpenCL driver, e.g. PoCL or NVIDIA's)";
        }
        if (bd[0] >= backends.size() || bd[1] >= backends.get(bd[0]).getNumDevices()) {
            return "TornadoVM has no device " + bd[0] + ":" + bd[1] + " (devices: " + String.join("; ", list()) + ")";
        }
        return null;
    }
}
