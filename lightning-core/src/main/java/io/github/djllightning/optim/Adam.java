package io.github.djllightning.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.Collection;
import java.util.LinkedHashMap;
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
    protected void validateGroup(ParamGroup group) {
        AdamMath.validate("Adam", group);
    }

    /** Collects Adam's default options; each setter checks its value at once. */
    public static final class Builder {

        private double lr = 1e-3;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private double weightDecay;
        private boolean amsgrad;
        private boolean maximize;

        private Builder() {}

        /**
         * Sets the learning rate.
         *
         * @param lr a finite number {@code >= 0}; default 1e-3
         * @return this builder
         */
        public Builder lr(double lr) {
            this.lr = Checks.nonNegative("Adam", "lr", lr);
            return this;
        }

        /**
         * Sets the decay rates of the first and second moment.
         *
         * @param beta1 in {@code [0, 1)}; default 0.9
         * @param beta2 in {@code [0, 1)}; default 0.999
         * @return this builder
         */
        public Builder betas(double beta1, double beta2) {
            this.beta1 = Checks.unitInterval("Adam", "betas[0]", beta1);
            this.beta2 = Checks.unitInterval("Adam", "betas[1]", beta2);
            return this;
        }

        /**
         * Sets the term added to the denominator for numerical stability.
         *
         * @param eps a finite number {@code >= 0}; default 1e-8
         * @return this builder
         */
        public Builder eps(double eps) {
            this.eps = Checks.nonNegative("Adam", "eps", eps);
            return this;
        }

        /**
         * Sets the L2 penalty added to the gradient.
         *
         * @param weightDecay a finite number {@code >= 0}; default 0
         * @return this builder
         */
        public Builder weightDecay(double weightDecay) {
            this.weightDecay = Checks.nonNegative("Adam", "weight_decay", weightDecay);
            return this;
        }

        /**
         * Chooses the AMSGrad variant, which divides by the running maximum of the second moment.
         *
         * @param amsgrad whether to use AMSGrad; default false
         * @return this builder
         */
        public Builder amsgrad(boolean amsgrad) {
            this.amsgrad = amsgrad;
            return this;
        }

        /**
         * Chooses to maximize the objective instead of minimizing it.
         *
         * @param maximize whether to maximize; default false
         * @return this builder
         */
        public Builder maximize(boolean maximize) {
            this.maximize = maximize;
            return this;
        }

        /**
         * Builds Adam over one parameter group.
         *
         * @param params the parameters to optimize
         * @return the optimizer
         */
        public Adam build(Collection<Parameter> params) {
            return new Adam(defaults(), List.of(new ParamGroup(params)));
        }

        /**
         * Builds Adam over several parameter groups; options a group leaves out come from this builder.
         *
         * @param groups the parameter groups
         * @return the optimizer
         */
        public Adam build(List<ParamGroup> groups) {
            return new Adam(defaults(), groups);
        }

        private Map<String, Object> defaults() {
            Map<String, Object> defaults = new LinkedHashMap<>();
            defaults.put(ParamGroup.LR, lr);
            defaults.put(ParamGroup.BETAS, List.of(beta1, beta2));
            defaults.put(ParamGroup.EPS, eps);
            defaults.put(ParamGroup.WEIGHT_DECAY, weightDecay);
            defaults.put(ParamGroup.AMSGRAD, amsgrad);
            defaults.put(ParamGroup.MAXIMIZE, maximize);
            return defaults;
        }
    }
}
