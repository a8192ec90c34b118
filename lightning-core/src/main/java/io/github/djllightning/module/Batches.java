package io.github.djllightning.module;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.dataset.Batch;

/** Helpers for DJL batches. */
public final class Batches {

    private Batches() {}

    /**
     * Returns the batch with every array on the device; the same batch when all already are.
     *
     * @param batch the batch
     * @param device the target device
     * @return a batch whose arrays are on the device
     */
    public static Batch toDevice(Batch batch, Device device) {
        // without a GPU every array is on the CPU: skip asking the engine for each array's device on every step
        if (!device.isGpu() && !gpusPresent()) {
            return batch;
        }
        if (onDevice(batch.getData(), device) && onDevice(batch.getLabels(), device)) {
            return batch;
        }
        NDList data = batch.getData() == null ? new NDList() : batch.getData().toDevice(device, false);
        NDList labels = batch.getLabels() == null ? new NDList() : batch.getLabels().toDevice(device, false);
        return new Batch(
                batch.getManager(),
                data,
                labels,
                batch.getSize(),
                null,
                null,
                batch.getProgress(),
                batch.getProgressTotal(),
                batch.getIndices());
    }

    private static Boolean gpusPresent;

    private static boolean gpusPresent() {
        if (gpusPresent == null) {
            gpusPresent = Engine.getInstance().getGpuCount() > 0;
        }
        return gpusPresent;
    }

    private static boolean onDevice(NDList list, Device device) {
        if (list == null) {
            return true;
        }
        for (NDArray array : list) {
            if (!array.getDevice().equals(device)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The number of samples in a batch: its declared size, else the first dimension of its first array.
     *
     * @param batch the batch
     * @return the size, at least 1
     */
    public static int size(Batch batch) {
        int size = batch.getSize();
        if (size > 0) {
            return size;
        }
        NDList data = batch.getData();
        if (data != null && !data.isEmpty() && data.head().getShape().dimension() > 0) {
            return (int) data.head().getShape().get(0);
        }
        return 1;
    }
}
