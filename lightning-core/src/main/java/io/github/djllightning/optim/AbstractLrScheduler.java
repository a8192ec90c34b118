package io.github.djllightning.optim;

import io.github.djllightning.checkpoint.StateDict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The base of the epoch- or step-counting schedulers, following torch's {@code LRScheduler}: it keeps
 * {@code last_epoch} (the number of {@link #step()} calls, 0 right after construction) and each group's base learning
 * rate, torch's {@code initial_lr}, which it records in the group when the group has none.
 *
 * <p>A subclass computes one group's learning rate in {@link #computeLr(ParamGroup, double, int)} and calls
 * {@link #initialStep()} at the end of its constructor, which sets the learning rate for epoch 0 as torch's
 * constructor does. Param groups added to the optimizer later get their base learning rate on the next step.
 */
public abstract class AbstractLrScheduler implements LrScheduler {

    private final Optimizer optimizer;
    private final List<Double> baseLrs = new ArrayList<>();
    private int lastEpoch = -1;
    private double[] lastLrs = new double[0];

    /**
     * Creates a scheduler for an optimizer; the subclass constructor must end with {@link #initialStep()}.
     *
     * @param optimizer the optimizer whose learning rate to set
     */
    protected AbstractLrScheduler(Optimizer optimizer) {
        this.optimizer = Checks.notNull(getClass().getSimpleName(), "optimizer", optimizer);
    }

    /**
     * Computes one param group's learning rate for an epoch. Recursive schedules read the group's current
     * {@code lr}; closed forms use {@code baseLr}.
     *
     * @param group the param group, whose {@code lr} is still the previous epoch's
     * @param baseLr the group's base learning rate ({@code initial_lr})
     * @param epoch the epoch being entered: 0 for the initial step, then 1, 2, ...
     * @return the new learning rate
     */
    protected abstract double computeLr(ParamGroup group, double baseLr, int epoch);

    /** Records the base learning rates and sets the learning rate for epoch 0; the last line of a constructor. */
    protected final void initialStep() {
        step();
    }

    /**
     * Advances to the next epoch and sets every group's learning rate; nothing changes if a computed rate is
     * invalid.
     *
     * @throws IllegalStateException if the schedule computes a negative or non-finite learning rate
     */
    @Override
    public final void step() {
        List<ParamGroup> groups = optimizer.paramGroups();
        for (int i = baseLrs.size(); i < groups.size(); i++) {
            ParamGroup group = groups.get(i);
            if (!group.has(ParamGroup.INITIAL_LR)) {
                group.set(ParamGroup.INITIAL_LR, group.lr());
            }
            baseLrs.add(group.getDouble(ParamGroup.INITIAL_LR));
        }
        int epoch = lastEpoch + 1;
        double[] lrs = new double[groups.size()];
        for (int i = 0; i < lrs.length; i++) {
            lrs[i] = computeLr(groups.get(i), baseLrs.get(i), epoch);
            if (!(lrs[i] >= 0) || Double.isInfinite(lrs[i])) {
                throw new IllegalStateException(getClass().getSimpleName() + " computed learning rate " + lrs[i]
                        + " for param group " + i + " at epoch " + epoch + "; a learning rate must be finite and >= 0");
            }
        }
        lastEpoch = epoch;
        for (int i = 0; i < lrs.length; i++) {
            groups.get(i).setLr(lrs[i]);
        }
        lastLrs = lrs;
    }

    /** {@inheritDoc} */
    @Override
    public Optimizer optimizer() {
        return optimizer;
    }

    /** {@inheritDoc} */
    @Override
    public List<Double> lastLr() {
        return StateValues.toList(lastLrs);
    }

    /**
     * Returns torch's {@code last_epoch}: how many times {@link #step()} ran after the initial step.
     *
     * @return the current epoch of the schedule
     */
    public int lastEpoch() {
        return lastEpoch;
    }

    /**
     * Returns each group's base learning rate, torch's {@code base_lrs}.
     *
     * @return one base learning rate per param group seen so far
     */
    public List<Double> baseLrs() {
        return List.copyOf(baseLrs);
    }

    /**
     * Adds the scheduler's settings to its state dict, for the reader's benefit: {@link #loadStateDict} restores
     * only the counters and keeps the settings this scheduler was built with.
     *
     * @param values the map to add to, by torch's attribute names
     */
    protected void putSettings(Map<String, Object> values) {}

    /**
     * Returns the state in torch's layout: the settings, then {@code base_lrs}, {@code last_epoch} and
     * {@code _last_lr}.
     *
     * @return a new state dict without tensors
     */
    @Override
    public StateDict stateDict() {
        Map<String, Object> values = new LinkedHashMap<>();
        putSettings(values);
        values.put("base_lrs", new ArrayList<>(baseLrs));
        values.put("last_epoch", lastEpoch);
        values.put("_last_lr", lastLr());
        return new StateDict(values, new LinkedHashMap<>());
    }

    /**
     * Restores {@code base_lrs}, {@code last_epoch} and {@code _last_lr}; the settings stay those of the
     * constructor.
     *
     * @param state the saved state
     */
    @Override
    public void loadStateDict(StateDict state) {
        Objects.requireNonNull(state, "state");
        String owner = getClass().getSimpleName();
        Map<String, Object> values = state.values();
        double[] savedBaseLrs =
                StateValues.toDoubles(StateValues.require(values, "base_lrs", owner), "base_lrs", owner);
        int savedLastEpoch =
                StateValues.toInt(StateValues.require(values, "last_epoch", owner), "last_epoch", owner);
        double[] savedLastLrs =
                StateValues.toDoubles(StateValues.require(values, "_last_lr", owner), "_last_lr", owner);
        int groupCount = optimizer.paramGroups().size();
        if (savedBaseLrs.length > groupCount) {
            throw new IllegalArgumentException(owner + " state dict has " + savedBaseLrs.length
                    + " base_lrs, but the optimizer has only " + groupCount + " param groups");
        }
        baseLrs.clear();
        baseLrs.addAll(StateValues.toList(savedBaseLrs));
        lastEpoch = savedLastEpoch;
        lastLrs = savedLastLrs;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return getClass().getSimpleName() + "(last_epoch=" + lastEpoch + ", lr=" + lastLr() + ")";
    }
}
