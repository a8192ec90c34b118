package io.github.djllightning.util;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;

/** Reads one number of an array on the host with a single call into the engine. */
public final class HostScalars {

    private HostScalars() {}

    /**
     * Reads the first element of an array (a loss, a logged metric) as a double.
     *
     * <p>A float32 CPU tensor is read from its memory ({@link NativeTensors#firstFloat}). Otherwise the engine copies
     * the bytes into a Java array in one call; {@code toFloatArray()} asks for a direct view instead, which costs four
     * calls (layout, sparseness, contiguity, then the view) for a single number.
     *
     * @param array a float32 or float64 array, or one of another type that is converted to float32 first
     * @return its first element
     */
    public static double read(NDArray array) {
        DataType type = array.getDataType();
        if (type == DataType.FLOAT32) {
            Float direct = NativeTensors.firstFloat(array);
            return direct != null ? direct : toBytes(array).getFloat(0);
        }
        if (type == DataType.FLOAT64) {
            return toBytes(array).getDouble(0);
        }
        try (NDArray asFloat = array.toType(DataType.FLOAT32, false)) {
            return toBytes(asFloat).getFloat(0);
        }
    }

    private static ByteBuffer toBytes(NDArray array) {
        return array.toByteBuffer(false);
    }
}
