package io.github.djllightning.optim;

import ai.djl.nn.Parameter;
import java.util.Collection;

/**
 * Short factories for the common optimizers with torch's defaults, for a one-line {@code configureOptimizers()};
 * use the builders ({@link Adam#builder()}, {@link AdamW#builder()}, {@link Sgd#builder()}) for other options.
 */
public final class Optimizers {

    private Optimizers() {}

    /**
     * Creates {@link Adam} with torch's defaults and the given learning rate.
     *
     * @param params the parameters to optimize
     * @param lr the learning rate, {@code >= 0}
     * @return the optimizer
     */
    public static Adam adam(Collection<Parameter> params, double lr) {
        return new Adam(params, lr);
    }

    /**
     * Creates {@link AdamW} with torch's defaults (weight decay 0.01) and the given learning rate.
     *
     * @param params the parameters to optimize
     * @param lr the learning rate, {@code >= 0}
     * @return the optimizer
     */
    public static AdamW adamW(Collection<Parameter> params, double lr) {
        return new AdamW(params, lr);
    }

    /**
     * Creates plain {@link Sgd} (no momentum) with the given learning rate.
     *
     * @param params the parameters to optimize
     * @param lr the learning rate, {@code >= 0}
     * @return the optimizer
     */
    public static Sgd sgd(Collection<Parameter> params, double lr) {
        return new Sgd(params, lr);
    }
}
