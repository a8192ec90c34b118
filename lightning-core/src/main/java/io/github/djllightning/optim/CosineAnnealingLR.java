package io.github.djllightning.optim;

import java.util.Map;

/**
 * Anneals the learning rate from its base value to {@code etaMin} along a half cosine over {@code tMax} epochs, like
 * {@code torch.optim.lr_scheduler.CosineAnnealingLR}.
 *
 * <p>Uses torch's recursive form, {@code lr_t = etaMin + (lr_{t-1} - etaMin) * (1 + cos(pi t / tMax)) /
 * (1 + cos(pi (t-1) / tMax))}, with torch's special case at {@code t - 1 - tMax ≡ 0 (mod 2 tMax)}, where the
 * denominator vanishes and the rate grows by {@code (base_lr - etaMin)(1 - cos(pi / tMax)) / 2}. Without outside
 * changes it follows the closed form {@code etaMin + (base_lr - etaMin)(1 + cos(pi t / tMax)) / 2}, and past
 * {@code tMax} it rises again, as torch's does.
 */
public final class CosineAnnealingLR extends AbstractLrScheduler {

    private final int tMax;
    private final double etaMin;

    /**
     * Creates a cosine schedule down to 0.
     *
     * @param optimizer the optimizer whose learning rate to set
     * @param tMax the number of epochs of the half cosine, {@code >= 1}
     */
    public CosineAnnealingLR(Optimizer optimizer, int tMax) {
        this(optimizer, tMax, 0);
    }

    /**
     * Creates a cosine schedule.
     *
     * @param optimizer the optimizer whose learning rate to set
     * @param tMax the number of epochs of the half cosine, {@code >= 1}
     * @param etaMin the lowest learning rate, a finite number {@code >= 0}
     */
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer);
        this.tMax = Checks.positive("CosineAnnealingLR", "tMax", tMax);
        this.etaMin = Checks.nonNegative("CosineAnnealingLR", "etaMin", etaMin);
        initialStep();
    }

    /** {@inheritDoc} */
    @Override
    protected double computeLr(ParamGroup group, double baseLr, int epoch) {
        if (epoch == 0) {
            return group.lr();
        }
        if (Math.floorMod(epoch - 1 - tMax, 2 * tMax) == 0) {
            return group.lr() + (baseLr - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
        }
        return (1 + Math.cos(Math.PI * epoch / tMax)) / (1 + Math.cos(Math.PI * (epoch - 1) / tMax))
                * (group.lr() - etaMin) + etaMin;
    }

    /** {@inheritDoc} */
    @Override
    protected void putSettings(Map<String, Object> values) {
        values.put("T_max", tMax);
        values.put("eta_min", etaMin);
    }
}
