package io.github.djllightning.optim;

import java.util.Map;

/**
 * Multiplies the learning rate by {@code gamma} every {@code stepSize} epochs, like
 * {@code torch.optim.lr_scheduler.StepLR}.
 *
 * <p>Uses torch's recursive form: at an epoch that is a positive multiple of {@code stepSize} the group's current
 * learning rate is multiplied by {@code gamma}, otherwise it is kept. Without outside changes this equals the closed
 * form {@code base_lr * gamma^(epoch / stepSize)}.
 */
public final class StepLR extends AbstractLrScheduler {

    private final int stepSize;
    private final double gamma;

    /**
     * Creates a step schedule with torch's default {@code gamma} of 0.1.
     *
     * @param optimizer the optimizer whose learning rate to set
     * @param stepSize the period of the decay in epochs, {@code >= 1}
     */
    public StepLR(Optimizer optimizer, int stepSize) {
        this(optimizer, stepSize, 0.1);
    }

    /**
     * Creates a step schedule.
     *
     * @param optimizer the optimizer whose learning rate to set
     * @param stepSize the period of the decay in epochs, {@code >= 1}
     * @param gamma the factor applied every period, a finite number {@code > 0}
     */
    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        this.stepSize = Checks.positive("StepLR", "stepSize", stepSize);
        this.gamma = Checks.positive("StepLR", "gamma", gamma);
        initialStep();
    }

    /** {@inheritDoc} */
    @Override
    protected double computeLr(ParamGroup group, double baseLr, int epoch) {
        if (epoch == 0 || epoch % stepSize != 0) {
            return group.lr();
        }
        return group.lr() * gamma;
    }

    /** {@inheritDoc} */
    @Override
    protected void putSettings(Map<String, Object> values) {
        values.put("step_size", stepSize);
        values.put("gamma", gamma);
    }
}
