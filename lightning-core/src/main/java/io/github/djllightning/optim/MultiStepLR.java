package io.github.djllightning.optim;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Multiplies the learning rate by {@code gamma} at each milestone epoch, like
 * {@code torch.optim.lr_scheduler.MultiStepLR}.
 *
 * <p>Uses torch's recursive form: at a milestone the group's current learning rate is multiplied by
 * {@code gamma^k}, where {@code k} is how often that epoch is listed (milestones are a multiset, as in torch).
 * Without outside changes this equals {@code base_lr * gamma^(number of milestones <= epoch)}.
 */
public final class MultiStepLR extends AbstractLrScheduler {

    private final TreeMap<Integer, Integer> milestoneCounts = new TreeMap<>();
    private final double gamma;

    /**
     * Creates a milestone schedule with torch's default {@code gamma} of 0.1.
     *
     * @param optimizer the optimizer whose learning rate to set
     * @param milestones the epochs at which to decay, each {@code >= 0}
     */
    public MultiStepLR(Optimizer optimizer, Collection<Integer> milestones) {
        this(optimizer, milestones, 0.1);
    }

    /**
     * Creates a milestone schedule.
     *
     * @param optimizer the optimizer whose learning rate to set
     * @param milestones the epochs at which to decay, each {@code >= 0}
     * @param gamma the factor applied at each milestone, a finite number {@code > 0}
     */
    public MultiStepLR(Optimizer optimizer, Collection<Integer> milestones, double gamma) {
        super(optimizer);
        Checks.notNull("MultiStepLR", "milestones", milestones);
        for (Integer milestone : milestones) {
            if (milestone == null || milestone < 0) {
                throw new IllegalArgumentException(
                        "MultiStepLR milestones must be epochs >= 0, but were " + milestones);
            }
            milestoneCounts.merge(milestone, 1, Integer::sum);
        }
        this.gamma = Checks.positive("MultiStepLR", "gamma", gamma);
        initialStep();
    }

    /** {@inheritDoc} */
    @Override
    protected double computeLr(ParamGroup group, double baseLr, int epoch) {
        Integer count = milestoneCounts.get(epoch);
        return count == null ? group.lr() : group.lr() * Math.pow(gamma, count);
    }

    /** {@inheritDoc} */
    @Override
    protected void putSettings(Map<String, Object> values) {
        List<Integer> milestones = new ArrayList<>();
        milestoneCounts.forEach((epoch, count) -> {
            for (int i = 0; i < count; i++) {
                milestones.add(epoch);
            }
        });
        values.put("milestones", milestones);
        values.put("gamma", gamma);
    }
}
