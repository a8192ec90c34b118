package io.github.djllightning.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Adam as {@code torch.optim.Adam} computes it: the L2 {@code weight_decay} is added to the gradient, the step is
 * bias-corrected, and {@code eps} is added to {@code sqrt(v_hat)}; optionally AMSGrad and {@code maximize}.
 *
 * <p>State per parameter: {@code step}, {@code exp_avg}, {@code exp_avg_sq} and, with AMSGrad, {@code max_exp_avg_sq}.
 * Without AMSGrad the update is one fused native call per parameter.
 */
public final class Adam extends Optimizer {

    /**
     * Creates Adam with torch's defaults and the given learning rate.
     *
     * @param params the parameters to optimize
     * @param lr the learning rate, {@code >= 0}
     */
    public Adam(Collection<Parameter> params, double lr) {
        this(builder().lr(lr).defaults(), List.of(new ParamGroup(params)));
    }

    private Adam(Map<String, Object> defaults, List<ParamGroup> groups) {
        super(groups, defaults);
        // look the engine's fused kernel up now (configureOptimizers), not in the first training step
        FusedAdamKernel.isAvailable();
    }

    /**
     * Starts a builder with torch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0, no AMSGrad.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    protected void update(ParamGroup group, ParamState state, NDArray weight, NDArray grad) {
        AdamMath.update(group, state, weight, grad, false);
    }

    /** {@inheritDoc} */
    @Override
    protected boolean updateGroup(
            ParamGroup group, List<ParamState> states, List<NDArray> weights, List<NDArray> grads) {
        return AdamMath.updateGroup(group, states, weights, grads, false);
    }

    /** {@inheritDoc} */
    @Override
    protected void validateGroup(ParamGroup group) {
        AdamMath.validate("Adam", group);
    }

    /** Collects {@link Adam}'s options, with torch's defaults. */
    public static final class Builder extends AdamBuilder<Adam> {

        Builder() {
            super("Adam", 0);
        }

        @Override
        protected Adam create(Map<String, Object> defaults, List<ParamGroup> groups) {
            return new Adam(defaults, groups);
        }
    }
}
