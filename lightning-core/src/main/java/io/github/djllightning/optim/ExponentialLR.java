package io.github.djllightning.optim;

import java.util.Map;

/**
 * Multiplies the learning rate by {@code gamma} every epoch, like {@code torch.optim.lr_scheduler.ExponentialLR}.
 *
 * <p>Uses torch's recursive form: each step multiplies the group's current learning rate by {@code gamma} (the
 * initial step keeps it). Without outside changes this equals the closed form {@code base_lr * gamma^epoch}.
 */
public final class ExponentialLR extends AbstractLrScheduler {

    private final double gamma;

    /**
     * Creates an exponential schedule.
     *
     * @param optimizer the optimizer whose learning rate to set
     * @param gamma the factor applied every epoch, a finite number {@code > 0}
     */
    public ExponentialLR(Optimizer optimizer, double gamma) {
        super(optimizer);
        this.gamma = Checks.positive("ExponentialLR", "gamma", gamma);
        initialStep();
    }

    /** {@inheritDoc} */
    @Override
    protected double computeLr(ParamGroup group, double baseLr, int epoch) {
        return epoch == 0 ? group.lr() : group.lr() * gamma;
    }

    /** {@inheritDoc} */
    @Override
    protected void putSettings(Map<String, Object> values) {
        values.put("gamma", gamma);
    }
}
