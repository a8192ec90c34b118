package io.github.djllightning.optim;

import static io.github.djllightning.optim.ParamGroup.DAMPENING;
import static io.github.djllightning.optim.ParamGroup.LR;
import static io.github.djllightning.optim.ParamGroup.MAXIMIZE;
import static io.github.djllightning.optim.ParamGroup.MOMENTUM;
import static io.github.djllightning.optim.ParamGroup.NESTEROV;
import static io.github.djllightning.optim.ParamGroup.WEIGHT_DECAY;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent as {@code torch.optim.SGD} computes it, with momentum, dampening, Nesterov momentum,
 * L2 weight decay and {@code maximize}.
 *
 * <p>With {@code d = g + weight_decay * w}: the momentum buffer starts as a copy of {@code d} and then becomes
 * {@code b = momentum * b + (1 - dampening) * d}; the step is {@code w -= lr * (d + momentum * b)} with Nesterov,
 * {@code w -= lr * b} without. The learning rate is applied after the buffer, so changing it between steps (a
 * scheduler) takes effect at once, as in torch. State per parameter: {@code momentum_buffer} when momentum is used.
 */
public final class Sgd extends Optimizer {

    static final String MOMENTUM_BUFFER = "momentum_buffer";

    /** The fused kernel treats a negative clip value as "no clipping". */
    private static final float NO_CLIP = -1f;

    /**
     * Creates plain SGD (no momentum, no weight decay) with the given learning rate.
     *
     * @param params the parameters to optimize
     * @param lr the learning rate, {@code >= 0}
     */
    public Sgd(Collection<Parameter> params, double lr) {
        this(builder().lr(lr).defaults(), List.of(new ParamGroup(params)));
    }

    private Sgd(Map<String, Object> defaults, List<ParamGroup> groups) {
        super(groups, defaults);
    }

    /**
     * Starts a builder with torch's defaults: lr 1e-3, no momentum, dampening 0, no weight decay, no Nesterov.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns {@code SGD}, torch's class name, so that Lightning's learning-rate log key is {@code lr-SGD}.
     *
     * @return {@code SGD}
     */
    @Override
    public String name() {
        return "SGD";
    }

    /** {@inheritDoc} */
    @Override
    protected void validateGroup(ParamGroup group) {
        validate(group.getDouble(LR), group.getDouble(MOMENTUM), group.getDouble(DAMPENING),
                group.getDouble(WEIGHT_DECAY), group.getBoolean(NESTEROV));
        group.getBoolean(MAXIMIZE);
    }

    private static void validate(double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        Checks.nonNegative("SGD", LR, lr);
        Checks.nonNegative("SGD", MOMENTUM, momentum);
        Checks.nonNegative("SGD", WEIGHT_DECAY, weightDecay);
        if (!Double.isFinite(dampening)) {
            throw new IllegalArgumentException("SGD dampening must be a finite number, but was " + dampening);
        }
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("SGD nesterov requires momentum > 0 and dampening == 0, but momentum "
                    + "was " + momentum + " and dampening " + dampening);
        }
    }

    /** {@inheritDoc} */
    @Override
    protected void update(ParamGroup group, ParamState state, NDArray weight, NDArray grad) {
        double lr = group.getDouble(LR);
        double momentum = group.getDouble(MOMENTUM);
        double weightDecay = group.getDouble(WEIGHT_DECAY);
        boolean maximize = group.getBoolean(MAXIMIZE);
        if (momentum == 0) {
            // Without a buffer the fused kernel's w -= lr * (g + wd * w) is torch's update exactly, in one call.
            JniUtils.sgdUpdate((PtNDArray) weight, (PtNDArray) grad, null, (float) lr, (float) weightDecay,
                    maximize ? -1f : 1f, NO_CLIP, 0f);
            return;
        }
        // The kernel's momentum form keeps lr inside the buffer, which is wrong once lr changes: use public ops.
        NDArray direction = maximize ? grad.neg() : grad;
        try {
            if (weightDecay != 0) {
                NDArray withDecay = weight.mul((float) weightDecay);
                withDecay.addi(direction);
                if (direction != grad) {
                    direction.close();
                }
                direction = withDecay;
            }
            NDArray buffer = state.tensor(MOMENTUM_BUFFER);
            if (buffer == null) {
                buffer = state.copyOf(MOMENTUM_BUFFER, direction);
            } else {
                buffer.muli((float) momentum);
                double dampening = group.getDouble(DAMPENING);
                if (dampening == 0) {
                    buffer.addi(direction);
                } else {
                    try (NDArray damped = direction.mul((float) (1 - dampening))) {
                        buffer.addi(damped);
                    }
                }
            }
            if (group.getBoolean(NESTEROV)) {
                try (NDArray change = buffer.mul((float) momentum)) {
                    change.addi(direction).muli((float) lr);
                    weight.subi(change);
                }
            } else {
                try (NDArray change = buffer.mul((float) lr)) {
                    weight.subi(change);
                }
            }
        } finally {
            if (direction != grad) {
                direction.close();
            }
        }
    }

    /** Collects SGD's default options; each setter checks its value at once, {@link #build} checks them together. */
    public static final class Builder {

        private double lr = 1e-3;
        private double momentum;
        private double dampening;
        private double weightDecay;
        private boolean nesterov;
        private boolean maximize;

        private Builder() {}

        /**
         * Sets the learning rate.
         *
         * @param lr a finite number {@code >= 0}; default 1e-3
         * @return this builder
         */
        public Builder lr(double lr) {
            this.lr = Checks.nonNegative("SGD", "lr", lr);
            return this;
        }

        /**
         * Sets the momentum factor.
         *
         * @param momentum a finite number {@code >= 0}; default 0 (no momentum buffer)
         * @return this builder
         */
        public Builder momentum(double momentum) {
            this.momentum = Checks.nonNegative("SGD", "momentum", momentum);
            return this;
        }

        /**
         * Sets the dampening of the momentum: the new gradient enters the buffer scaled by {@code 1 - dampening}.
         *
         * @param dampening a finite number; default 0
         * @return this builder
         */
        public Builder dampening(double dampening) {
            this.dampening = dampening;
            return this;
        }

        /**
         * Sets the L2 penalty added to the gradient.
         *
         * @param weightDecay a finite number {@code >= 0}; default 0
         * @return this builder
         */
        public Builder weightDecay(double weightDecay) {
            this.weightDecay = Checks.nonNegative("SGD", "weight_decay", weightDecay);
            return this;
        }

        /**
         * Chooses Nesterov momentum, which needs momentum {@code > 0} and dampening 0.
         *
         * @param nesterov whether to use Nesterov momentum; default false
         * @return this builder
         */
        public Builder nesterov(boolean nesterov) {
            this.nesterov = nesterov;
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
         * Builds SGD over one parameter group.
         *
         * @param params the parameters to optimize
         * @return the optimizer
         * @throws IllegalArgumentException if Nesterov is on without momentum or with dampening
         */
        public Sgd build(Collection<Parameter> params) {
            return build(List.of(new ParamGroup(params)));
        }

        /**
         * Builds SGD over several parameter groups; options a group leaves out come from this builder.
         *
         * @param groups the parameter groups
         * @return the optimizer
         * @throws IllegalArgumentException if Nesterov is on without momentum or with dampening
         */
        public Sgd build(List<ParamGroup> groups) {
            validate(lr, momentum, dampening, weightDecay, nesterov);
            return new Sgd(defaults(), groups);
        }

        private Map<String, Object> defaults() {
            Map<String, Object> defaults = new LinkedHashMap<>();
            defaults.put(ParamGroup.LR, lr);
            defaults.put(ParamGroup.MOMENTUM, momentum);
            defaults.put(ParamGroup.DAMPENING, dampening);
            defaults.put(ParamGroup.WEIGHT_DECAY, weightDecay);
            defaults.put(ParamGroup.NESTEROV, nesterov);
            defaults.put(ParamGroup.MAXIMIZE, maximize);
            return defaults;
        }
    }
}
