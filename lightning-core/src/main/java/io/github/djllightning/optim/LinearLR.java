package io.github.djllightning.optim;

import java.util.Map;

/**
 * Scales the learning rate by a factor that moves linearly from {@code startFactor} to {@code endFactor} over
 * {@code totalIters} epochs, then keeps it: the usual linear warm-up, like {@code torch.optim.lr_scheduler.LinearLR}.
 *
 * <p>Uses torch's recursive form: the initial step multiplies the group's rate by {@code startFactor}; epoch
 * {@code t <= totalIters} multiplies it by {@code 1 + (end - start) / (totalIters * start + (t - 1)(end - start))};
 * later epochs keep it. Without outside changes this equals
 * {@code base_lr * (start + (end - start) * min(t, totalIters) / totalIters)}.
 */
public final class LinearLR extends AbstractLrScheduler {

    private final double startFactor;
    private final double endFactor;
    private final int totalIters;

    /**
     * Creates torch's default warm-up: from a third of the learning rate to all of it over 5 epochs.
     *
     * @param optimizer the optimizer whose learning rate to set
     */
    public LinearLR(Optimizer optimizer) {
        this(optimizer, 1.0 / 3, 1.0, 5);
    }

    /**
     * Creates a linear schedule.
     *
     * @param optimizer the optimizer whose learning rate to set
     * @param startFactor the factor at epoch 0, in {@code (0, 1]}
     * @param endFactor the factor from epoch {@code totalIters} on, in {@code [0, 1]}
     * @param totalIters the number of epochs the factor takes to get there, {@code >= 1}
     */
    public LinearLR(Optimizer optimizer, double startFactor, double endFactor, int totalIters) {
        super(optimizer);
        if (!(startFactor > 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("LinearLR startFactor must be in (0, 1], but was " + startFactor);
        }
        this.startFactor = startFactor;
        this.endFactor = Checks.closedUnitInterval("LinearLR", "endFactor", endFactor);
        this.totalIters = Checks.positive("LinearLR", "totalIters", totalIters);
        initialStep();
    }

    /** {@inheritDoc} */
    @Override
    protected double computeLr(ParamGroup group, double baseLr, int epoch) {
        if (epoch == 0) {
            return group.lr() * startFactor;
        }
        if (epoch > totalIters) {
            return group.lr();
        }
        double change = endFactor - startFactor;
        return group.lr() * (1 + change / (totalIters * startFactor + (epoch - 1) * change));
    }

    /** {@inheritDoc} */
    @Override
    protected void putSettings(Map<String, Object> values) {
        values.put("start_factor", startFactor);
        values.put("end_factor", endFactor);
        values.put("total_iters", totalIters);
    }
}
