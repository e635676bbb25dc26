package org.ttrec.dlrm.cli;

/**
 * {@code --device} of train and eval: the TornadoVM device the tornado backend runs on, as
 * {@code ttrec backends} (or TornadoVM's {@code tornado --devices}) numbers them. It is passed to
 * the backend as the system property {@code ttrec.tornado.device} (module engine-tornado reads
 * it; dlrm does not depend on that module).
 */
final class DeviceOption {
    private DeviceOption() {}

    /** The help text of the option. */
    static final String HELP = "TornadoVM device for --backend tornado: BACKEND:DEVICE as 'ttrec backends' lists them (default 0:0).";

    /**
     * @param device  the option's value, or null when not given
     * @param backend the backend asked for
     * @throws IllegalArgumentException if the value is malformed or the backend is not tornado
     */
    static void apply(String device, String backend) {
        if (device == null) {
            return;
        }
        if (!"tornado".equals(backend)) {
            throw new IllegalArgumentException("--device names a TornadoVM device and needs --backend tornado (the backend is "
                    + (backend == null ? "auto" : backend) + ")");
        }
        if (!device.trim().matches("\\d+:\\d+")) {
            throw new IllegalArgumentException("--device must be BACKEND:DEVICE as 'ttrec backends' lists them, e.g. 0:0;"
                    + " got '" + device + "'");
        }
        System.setProperty("ttrec.tornado.device", device.trim());
    }
}
