package io.github.djllightning.module;

import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.initializer.Initializer;

/**
 * Layers that start like PyTorch's: DJL initializes a {@code Linear} layer's weights with a Xavier scheme about three
 * times wider than PyTorch's default and its bias with zeros, so the same model starts (and, after a short training,
 * ends) differently in the two. These builders give PyTorch's default initialization instead, for models meant to
 * match a PyTorch original.
 */
public final class TorchInit {

    private TorchInit() {}

    /**
     * A fully connected layer initialized as PyTorch's {@code nn.Linear(inFeatures, units)}: weights and bias drawn
     * uniformly from {@code [-1/sqrt(inFeatures), 1/sqrt(inFeatures)]} (PyTorch's Kaiming-uniform with {@code
     * a=sqrt(5)}, and its bias rule).
     *
     * @param units the output features
     * @param inFeatures the input features (the initialization depends on them)
     * @return the layer, not initialized yet
     * @throws IllegalArgumentException if a size is not positive
     */
    public static Linear linear(long units, long inFeatures) {
        if (units < 1 || inFeatures < 1) {
            throw new IllegalArgumentException(
                    "units and inFeatures must be positive, got " + units + " and " + inFeatures);
        }
        Linear linear = Linear.builder().setUnits(units).build();
        float bound = (float) (1 / Math.sqrt(inFeatures));
        Initializer uniform = (manager, shape, dataType) -> manager.randomUniform(-bound, bound, shape, dataType);
        linear.setInitializer(uniform, Parameter.Type.WEIGHT);
        linear.setInitializer(uniform, Parameter.Type.BIAS);
        return linear;
    }
}
