package io.github.djllightning.optim;

import ai.djl.nn.Parameter;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects the options of {@link Adam} or {@link AdamW} (torch's names and defaults); each setter checks its value at
 * once and names the option and the value when it is out of range.
 *
 * @param <T> the optimizer built
 */
public abstract class AdamBuilder<T extends Optimizer> {

    private final String name;
    private double lr = 1e-3;
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;
    private double weightDecay;
    private boolean amsgrad;
    private boolean maximize;

    /**
     * Starts a builder with torch's defaults.
     *
     * @param name the optimizer's name, for error messages
     * @param weightDecay the default weight decay
     */
    protected AdamBuilder(String name, double weightDecay) {
        this.name = name;
        this.weightDecay = weightDecay;
    }

    /**
     * Sets the learning rate.
     *
     * @param lr a finite number {@code >= 0}; default 1e-3
     * @return this builder
     */
    public AdamBuilder<T> lr(double lr) {
        this.lr = Checks.nonNegative(name, "lr", lr);
        return this;
    }

    /**
     * Sets the decay rates of the first and second moment.
     *
     * @param beta1 in {@code [0, 1)}; default 0.9
     * @param beta2 in {@code [0, 1)}; default 0.999
     * @return this builder
     */
    public AdamBuilder<T> betas(double beta1, double beta2) {
        this.beta1 = Checks.unitInterval(name, "betas[0]", beta1);
        this.beta2 = Checks.unitInterval(name, "betas[1]", beta2);
        return this;
    }

    /**
     * Sets the term added to the denominator for numerical stability.
     *
     * @param eps a finite number {@code >= 0}; default 1e-8
     * @return this builder
     */
    public AdamBuilder<T> eps(double eps) {
        this.eps = Checks.nonNegative(name, "eps", eps);
        return this;
    }

    /**
     * Sets the weight decay: an L2 term added to the gradient for Adam, a decoupled decay of the weights for AdamW.
     *
     * @param weightDecay a finite number {@code >= 0}
     * @return this builder
     */
    public AdamBuilder<T> weightDecay(double weightDecay) {
        this.weightDecay = Checks.nonNegative(name, "weight_decay", weightDecay);
        return this;
    }

    /**
     * Chooses the AMSGrad variant, which divides by the running maximum of the second moment.
     *
     * @param amsgrad whether to use AMSGrad; default false
     * @return this builder
     */
    public AdamBuilder<T> amsgrad(boolean amsgrad) {
        this.amsgrad = amsgrad;
        return this;
    }

    /**
     * Chooses to maximize the objective instead of minimizing it.
     *
     * @param maximize whether to maximize; default false
     * @return this builder
     */
    public AdamBuilder<T> maximize(boolean maximize) {
        this.maximize = maximize;
        return this;
    }

    /**
     * Builds the optimizer over one parameter group.
     *
     * @param params the parameters to optimize
     * @return the optimizer
     */
    public T build(Collection<Parameter> params) {
        return create(defaults(), List.of(new ParamGroup(params)));
    }

    /**
     * Builds the optimizer over several parameter groups; options a group leaves out come from this builder.
     *
     * @param groups the parameter groups
     * @return the optimizer
     */
    public T build(List<ParamGroup> groups) {
        return create(defaults(), groups);
    }

    /** Creates the optimizer from the collected defaults and the groups. */
    protected abstract T create(Map<String, Object> defaults, List<ParamGroup> groups);

    Map<String, Object> defaults() {
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
