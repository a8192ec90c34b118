package io.github.djllightning.util;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.Map;

/**
 * Scalar arrays reused across steps. DJL turns a Java number operand into a fresh direct buffer on every call, which
 * the hot path must not do.
 */
public final class ScalarCache {

    private final NDManager manager;
    private final Map<Double, NDArray> cache = new HashMap<>();
    private double lastValue = Double.NaN;
    private NDArray lastArray;
    private boolean lastCached;

    /**
     * Creates a cache whose arrays live in the manager.
     *
     * @param manager a long-lived manager
     */
    public ScalarCache(NDManager manager) {
        this.manager = manager;
    }

    /**
     * A float32 scalar array holding the value; the same array for the same value. The first 64 distinct values are
     * kept for the cache's life; beyond them an array is valid until the next call asks for another value.
     *
     * @param value the value
     * @return the scalar array, owned by the cache
     */
    public NDArray get(double value) {
        if (value == lastValue) {
            return lastArray;
        }
        NDArray array = cache.get(value);
        boolean cached = array != null;
        if (!cached) {
            array = manager.full(new Shape(), (float) value, DataType.FLOAT32);
            if (cache.size() < 64) {
                cache.put(value, array);
                cached = true;
            }
        }
        if (lastArray != null && !lastCached) {
            lastArray.close();
        }
        lastValue = value;
        lastArray = array;
        lastCached = cached;
        return array;
    }
}
