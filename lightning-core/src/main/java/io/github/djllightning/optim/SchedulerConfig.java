package io.github.djllightning.optim;

/**
 * How the Trainer drives one {@link LrScheduler}, Lightning's {@code lr_scheduler_config}: after every epoch or
 * every optimizer step, how often, and for plateau schedulers which logged metric to pass.
 *
 * <p>Immutable; build it with {@link #builder(LrScheduler)}, or {@link #of(LrScheduler)} for Lightning's defaults
 * (every epoch, frequency 1, strict).
 */
public final class SchedulerConfig {

    /** When the Trainer steps the scheduler. */
    public enum Interval {
        /** At the end of every training epoch (Lightning's default, {@code "epoch"}). */
        EPOCH,
        /** After every optimizer step ({@code "step"}). */
        STEP
    }

    private final LrScheduler scheduler;
    private final Interval interval;
    private final int frequency;
    private final String monitor;
    private final boolean strict;
    private final String name;

    private SchedulerConfig(Builder builder) {
        this.scheduler = builder.scheduler;
        this.interval = builder.interval;
        this.frequency = builder.frequency;
        this.monitor = builder.monitor;
        this.strict = builder.strict;
        this.name = builder.name;
    }

    /**
     * Wraps a scheduler with Lightning's defaults: stepped every epoch, strict, no monitor.
     *
     * @param scheduler the scheduler; not a plateau scheduler, which needs a monitor
     * @return the config
     * @throws IllegalArgumentException if the scheduler needs a monitored metric
     */
    public static SchedulerConfig of(LrScheduler scheduler) {
        return builder(scheduler).build();
    }

    /**
     * Starts a builder with Lightning's defaults.
     *
     * @param scheduler the scheduler to configure
     * @return a new builder
     */
    public static Builder builder(LrScheduler scheduler) {
        return new Builder(scheduler);
    }

    /**
     * Returns the scheduler.
     *
     * @return the scheduler this config drives
     */
    public LrScheduler scheduler() {
        return scheduler;
    }

    /**
     * Returns when the scheduler is stepped.
     *
     * @return {@link Interval#EPOCH} or {@link Interval#STEP}
     */
    public Interval interval() {
        return interval;
    }

    /**
     * Returns how many intervals pass between two scheduler steps.
     *
     * @return the frequency, {@code >= 1}
     */
    public int frequency() {
        return frequency;
    }

    /**
     * Returns the logged metric passed to a plateau scheduler.
     *
     * @return the metric's name, or {@code null} if none is monitored
     */
    public String monitor() {
        return monitor;
    }

    /**
     * Tells what happens when the monitored metric is missing: fail (true) or warn and skip the step (false).
     *
     * @return whether a missing metric is an error
     */
    public boolean strict() {
        return strict;
    }

    /**
     * Returns the name under which LearningRateMonitor logs this scheduler's learning rate.
     *
     * @return the name, or {@code null} for the default {@code lr-<optimizer name>}
     */
    public String name() {
        return name;
    }

    /**
     * Tells whether the scheduler is stepped with the monitored metric, derived from the scheduler.
     *
     * @return {@link LrScheduler#needsMetric()}
     */
    public boolean reduceOnPlateau() {
        return scheduler.needsMetric();
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "SchedulerConfig{scheduler=" + scheduler.getClass().getSimpleName() + ", interval=" + interval
                + ", frequency=" + frequency + ", monitor=" + monitor + ", strict=" + strict + ", name=" + name + "}";
    }

    /** Collects a {@link SchedulerConfig}; {@link #build()} checks the whole configuration. */
    public static final class Builder {

        private final LrScheduler scheduler;
        private Interval interval = Interval.EPOCH;
        private int frequency = 1;
        private String monitor;
        private boolean strict = true;
        private String name;

        private Builder(LrScheduler scheduler) {
            this.scheduler = Checks.notNull("SchedulerConfig", "scheduler", scheduler);
        }

        /**
         * Sets when the scheduler is stepped.
         *
         * @param interval {@link Interval#EPOCH} (default) or {@link Interval#STEP}
         * @return this builder
         */
        public Builder interval(Interval interval) {
            this.interval = Checks.notNull("SchedulerConfig", "interval", interval);
            return this;
        }

        /**
         * Sets how many intervals pass between two scheduler steps.
         *
         * @param frequency {@code >= 1}; default 1
         * @return this builder
         */
        public Builder frequency(int frequency) {
            this.frequency = Checks.positive("SchedulerConfig", "frequency", frequency);
            return this;
        }

        /**
         * Sets the logged metric to pass to a plateau scheduler, for example {@code "val_loss"}.
         *
         * @param monitor the metric's name, or {@code null} for none
         * @return this builder
         */
        public Builder monitor(String monitor) {
            if (monitor != null && monitor.isBlank()) {
                throw new IllegalArgumentException(
                        "SchedulerConfig monitor must be a metric name or null, but was '" + monitor + "'");
            }
            this.monitor = monitor;
            return this;
        }

        /**
         * Sets whether a missing monitored metric is an error (true) or a warning that skips the step (false).
         *
         * @param strict default true
         * @return this builder
         */
        public Builder strict(boolean strict) {
            this.strict = strict;
            return this;
        }

        /**
         * Sets the name under which LearningRateMonitor logs this scheduler's learning rate.
         *
         * @param name the name, or {@code null} for the default
         * @return this builder
         */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the immutable config
         * @throws IllegalArgumentException if a plateau scheduler has no monitor
         */
        public SchedulerConfig build() {
            if (scheduler.needsMetric() && monitor == null) {
                throw new IllegalArgumentException(scheduler.getClass().getSimpleName()
                        + " needs a metric to monitor: set monitor(\"val_loss\") on its SchedulerConfig");
            }
            return new SchedulerConfig(this);
        }
    }
}
