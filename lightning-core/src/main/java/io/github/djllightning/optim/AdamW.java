package io.github.djllightning.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * AdamW as {@code torch.optim.AdamW} computes it: Adam with decoupled weight decay, {@code w *= 1 - lr*weight_decay}
 * before the Adam step instead of an L2 term in the gradient; torch's default {@code weight_decay} is 0.01.
 *
 * <p>State per parameter: {@code step}, {@code exp_avg}, {@code exp_avg_sq} and, with AMSGrad, {@code max_exp_avg_sq}.
 * Without AMSGrad the update is one fused native call per parameter.
 */
public final class AdamW extends Optimizer {

    /**
     * Creates AdamW with torch's defaults and the given learning rate.
     *
     * @param params the parameters to optimize
     * @param lr the learning rate, {@code >= 0}
     */
    public AdamW(Collection<Parameter> params, double lr) {
        this(builder().lr(lr).defaults(), List.of(new ParamGroup(params)));
    }

    private AdamW(Map<String, Object> defaults, List<ParamGroup> groups) {
        super(groups, defaults);
        // look the engine's fused kernel up now (configureOptimizers), not in the first training step
        FusedAdamKernel.isAvailable();
    }

    /**
     * Starts a builder with torch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01, no AMSGrad.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    protected void update(ParamGroup group, ParamState state, NDArray weight, NDArray grad) {
        AdamMath.update(group, state, weight, grad, true);
    }

    /** {@inheritDoc} */
    @Override
    protected boolean updateGroup(
            ParamGroup group, List<ParamState> states, List<NDArray> weights, List<NDArray> grads) {
        return AdamMath.updateGroup(group, states, weights, grads, true);
    }

    /** {@inheritDoc} */
    @Override
    protected void validateGroup(ParamGroup group) {
        AdamMath.validate("AdamW", group);
    }

    /** Collects {@link AdamW}'s options, with torch's defaults. */
    public static final class Builder extends AdamBuilder<AdamW> {

        Builder() {
            super("AdamW", 1e-2);
        }

        @Override
        protected AdamW create(Map<String, Object> defaults, List<ParamGroup> groups) {
            return new AdamW(defaults, groups);
        }
    }
}
