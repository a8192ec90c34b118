package io.github.djllightning.util;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import java.lang.reflect.Field;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Managers for the arrays of one batch. A training step puts a few dozen arrays in its batch's manager (inputs,
 * activations, the loss, the gradients, the lent parameters); DJL starts each manager with maps sized for 12, which
 * then grow twice on every step. A step manager starts with room for them.
 */
public final class StepManagers {

    /** Arrays a step manager holds before its maps grow. */
    static final int CAPACITY = 64;

    private static final Field RESOURCES =
            EngineFields.find(BaseNDManager.class, "resources", ConcurrentHashMap.class);
    private static final Field TEMP_RESOURCES =
            EngineFields.find(BaseNDManager.class, "tempResources", ConcurrentHashMap.class);

    private StepManagers() {}

    /**
     * A new manager under {@code parent} for one batch's arrays.
     *
     * @param parent the manager the batch's manager belongs to
     * @return the new manager; closing it frees the batch's arrays
     */
    public static NDManager newStepManager(NDManager parent) {
        NDManager manager = parent.newSubManager();
        if (manager instanceof BaseNDManager && RESOURCES != null && TEMP_RESOURCES != null) {
            try {
                // nothing is attached yet: the empty maps are swapped for larger empty ones
                RESOURCES.set(manager, new ConcurrentHashMap<>(CAPACITY));
                TEMP_RESOURCES.set(manager, new ConcurrentHashMap<>(CAPACITY));
            } catch (IllegalAccessException | IllegalArgumentException e) {
                // the default maps work too, a little slower
            }
        }
        return manager;
    }
}
