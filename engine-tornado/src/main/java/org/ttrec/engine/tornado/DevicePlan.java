package org.ttrec.engine.tornado;

/**
 * A batch as the kernels see it: the host plan (counts, stride), the int region its sorted lists
 * were copied to, and where lookup j's weight is ({@code weightBase + j}, j counted from the
 * batch's first lookup), if the batch has weights.
 *
 * @param host       the host plan
 * @param lists      int region holding {@code host.data}
 * @param weights    float region of the weights, or null
 * @param weightBase heap offset of the first lookup's weight
 */
record DevicePlan(HostPlan host, Region lists, Region weights, int weightBase) {

    /** @return heap offset of section k */
    int section(int k) {
        return TornadoBackend.off(lists) + k * host.stride;
    }

    /** @return heap offset of the plan's first section */
    int base() {
        return TornadoBackend.off(lists);
    }
}
