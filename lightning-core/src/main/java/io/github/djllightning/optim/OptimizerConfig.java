package io.github.djllightning.optim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a module's {@code configureOptimizers()} returns: the optimizers and the schedulers that drive their learning
 * rates, covering Lightning's return forms (one optimizer; optimizer and scheduler; lists of both).
 *
 * <p>Immutable. Every scheduler must belong to one of the optimizers, so that the Trainer steps, saves and restores
 * them together.
 */
public final class OptimizerConfig {

    private final List<Optimizer> optimizers;
    private final List<SchedulerConfig> schedulers;

    private OptimizerConfig(List<Optimizer> optimizers, List<SchedulerConfig> schedulers) {
        this.optimizers = Collections.unmodifiableList(new ArrayList<>(optimizers));
        this.schedulers = Collections.unmodifiableList(new ArrayList<>(schedulers));
    }

    /**
     * Configures one optimizer without a scheduler.
     *
     * @param optimizer the optimizer
     * @return the config
     */
    public static OptimizerConfig of(Optimizer optimizer) {
        return of(List.of(Checks.notNull("OptimizerConfig", "optimizer", optimizer)), List.of());
    }

    /**
     * Configures one optimizer and a scheduler stepped every epoch.
     *
     * @param optimizer the optimizer
     * @param scheduler a scheduler of that optimizer; not a plateau scheduler, which needs a {@link SchedulerConfig}
     *     with a monitor
     * @return the config
     */
    public static OptimizerConfig of(Optimizer optimizer, LrScheduler scheduler) {
        return of(optimizer, SchedulerConfig.of(Checks.notNull("OptimizerConfig", "scheduler", scheduler)));
    }

    /**
     * Configures one optimizer and a scheduler with its config.
     *
     * @param optimizer the optimizer
     * @param scheduler the scheduler's config; its scheduler must belong to {@code optimizer}
     * @return the config
     */
    public static OptimizerConfig of(Optimizer optimizer, SchedulerConfig scheduler) {
        return of(List.of(Checks.notNull("OptimizerConfig", "optimizer", optimizer)),
                List.of(Checks.notNull("OptimizerConfig", "scheduler", scheduler)));
    }

    /**
     * Configures several optimizers (for manual optimization) without schedulers.
     *
     * @param optimizers the optimizers, at least one
     * @return the config
     */
    public static OptimizerConfig of(Optimizer... optimizers) {
        Checks.notNull("OptimizerConfig", "optimizers", optimizers);
        List<Optimizer> list = new ArrayList<>(optimizers.length);
        Collections.addAll(list, optimizers);
        return of(list, List.of());
    }

    /**
     * Configures optimizers and schedulers, Lightning's {@code ([optimizers], [schedulers])} form.
     *
     * @param optimizers the optimizers, at least one, each once
     * @param schedulers the schedulers' configs, each belonging to one of {@code optimizers}
     * @return the config
     * @throws IllegalArgumentException if there is no optimizer, an entry is null or repeated, or a scheduler belongs
     *     to an optimizer that is not listed
     */
    public static OptimizerConfig of(List<Optimizer> optimizers, List<SchedulerConfig> schedulers) {
        Checks.notNull("OptimizerConfig", "optimizers", optimizers);
        Checks.notNull("OptimizerConfig", "schedulers", schedulers);
        if (optimizers.isEmpty()) {
            throw new IllegalArgumentException(
                    "OptimizerConfig needs at least one optimizer: return one from configureOptimizers()");
        }
        Map<Optimizer, Integer> listed = new IdentityHashMap<>();
        for (int i = 0; i < optimizers.size(); i++) {
            Optimizer optimizer = optimizers.get(i);
            if (optimizer == null) {
                throw new IllegalArgumentException("OptimizerConfig optimizers[" + i + "] is null: " + optimizers);
            }
            Integer previous = listed.put(optimizer, i);
            if (previous != null) {
                throw new IllegalArgumentException("OptimizerConfig lists optimizer " + optimizer + " twice, at "
                        + previous + " and " + i + ": list each optimizer once");
            }
        }
        for (int i = 0; i < schedulers.size(); i++) {
            SchedulerConfig config = schedulers.get(i);
            if (config == null) {
                throw new IllegalArgumentException("OptimizerConfig schedulers[" + i + "] is null: " + schedulers);
            }
            Optimizer owner = config.scheduler().optimizer();
            if (!listed.containsKey(owner)) {
                throw new IllegalArgumentException("OptimizerConfig schedulers[" + i + "] ("
                        + config.scheduler().getClass().getSimpleName() + ") sets the learning rate of " + owner
                        + ", which is not among the optimizers " + optimizers
                        + ": build the scheduler on one of the returned optimizers");
            }
        }
        return new OptimizerConfig(optimizers, schedulers);
    }

    /**
     * Returns the optimizers.
     *
     * @return the optimizers, in order; unmodifiable
     */
    public List<Optimizer> optimizers() {
        return optimizers;
    }

    /**
     * Returns the schedulers' configs.
     *
     * @return the configs, in order; unmodifiable, possibly empty
     */
    public List<SchedulerConfig> schedulers() {
        return schedulers;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "OptimizerConfig{optimizers=" + optimizers + ", schedulers=" + schedulers + "}";
    }
}
