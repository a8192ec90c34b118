package io.github.djllightning.optim;

import io.github.djllightning.checkpoint.StateDict;
import java.util.List;

/**
 * Changes an optimizer's learning rate as training progresses, like torch's {@code lr_scheduler} classes.
 *
 * <p>A scheduler only counts its {@link #step()} calls; whether a call means an epoch or an optimizer step is decided
 * by its {@link SchedulerConfig}. Schedulers write the learning rate into the optimizer's {@link ParamGroup}s, so the
 * optimizer's state dict holds the current rate and the scheduler's state dict holds the counters.
 */
public interface LrScheduler {

    /** Advances the schedule by one epoch or step and sets the new learning rate on every param group. */
    void step();

    /**
     * Advances a metric-driven schedule (such as {@link ReduceLROnPlateau}) with the latest value of the monitored
     * metric.
     *
     * @param metric the monitored metric's latest value
     * @throws UnsupportedOperationException for schedulers that take no metric; call {@link #step()} on them
     */
    default void step(double metric) {
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + " does not take a metric; call step() instead of step(" + metric + ")");
    }

    /**
     * Tells whether this scheduler is driven by a monitored metric and so must be stepped with {@link #step(double)}.
     *
     * @return true for plateau schedulers
     */
    default boolean needsMetric() {
        return false;
    }

    /**
     * Returns the optimizer whose learning rate this scheduler sets.
     *
     * @return the optimizer
     */
    Optimizer optimizer();

    /**
     * Returns the learning rate of each param group after the latest step (torch's {@code get_last_lr()}).
     *
     * @return one learning rate per param group
     */
    List<Double> lastLr();

    /**
     * Returns the scheduler's resumable state (counters and the values it computed from), as plain values.
     *
     * @return a new state dict without tensors
     */
    StateDict stateDict();

    /**
     * Restores state saved by {@link #stateDict()}; restore the optimizer's state too, since it holds the current
     * learning rates.
     *
     * @param state the saved state
     * @throws IllegalArgumentException if an entry is missing or has the wrong type
     */
    void loadStateDict(StateDict state);
}
