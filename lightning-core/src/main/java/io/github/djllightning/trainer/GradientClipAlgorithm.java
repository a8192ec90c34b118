package io.github.djllightning.trainer;

import io.github.djllightning.optim.GradientClipping;
import io.github.djllightning.optim.Optimizer;
import java.util.Arrays;
import java.util.Locale;

/** How {@code gradientClipVal} limits gradients. */
public enum GradientClipAlgorithm {
    /** Scales all gradients of an optimizer together so their total L2 norm is at most the value. */
    NORM,
    /** Clamps every gradient element into [-value, value]. */
    VALUE;

    /**
     * Parses Lightning's names, {@code "norm"} and {@code "value"}.
     *
     * @param name the name, case-insensitive
     * @return the algorithm
     * @throws IllegalArgumentException naming the valid names
     */
    public static GradientClipAlgorithm parse(String name) {
        for (GradientClipAlgorithm algorithm : values()) {
            if (algorithm.name().equalsIgnoreCase(name)) {
                return algorithm;
            }
        }
        throw new IllegalArgumentException(
                "gradientClipAlgorithm must be one of " + Arrays.toString(names()) + ", got '" + name + "'");
    }

    private static String[] names() {
        return Arrays.stream(values()).map(v -> v.name().toLowerCase(Locale.ROOT)).toArray(String[]::new);
    }

    /**
     * Clips the gradients of the optimizer's parameters; nothing when the value is null or not positive.
     *
     * @param optimizer the optimizer
     * @param value the limit
     * @param algorithm norm or value; null means norm
     */
    public static void apply(Optimizer optimizer, Double value, GradientClipAlgorithm algorithm) {
        if (value == null || value <= 0) {
            return;
        }
        if (algorithm == VALUE) {
            GradientClipping.clipByValue(optimizer.parameters(), value);
        } else {
            GradientClipping.clipByNorm(optimizer.parameters(), value);
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
