package io.github.djllightning.optim;

import io.github.djllightning.checkpoint.StateDict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Lowers the learning rate when a monitored metric stops improving, like
 * {@code torch.optim.lr_scheduler.ReduceLROnPlateau}; step it with {@link #step(double)}.
 *
 * <p>Each call compares the metric with the best value so far: it improves in {@link Mode#MIN} mode when it is below
 * {@code best * (1 - threshold)} ({@link ThresholdMode#REL}) or {@code best - threshold} ({@link ThresholdMode#ABS}),
 * and mirrored in {@link Mode#MAX} mode. After more than {@code patience} calls without improvement every group's
 * rate becomes {@code max(lr * factor, minLr)} (changes smaller than {@code eps} are skipped), and the next
 * {@code cooldown} calls do not count as bad. A NaN metric never improves.
 */
public final class ReduceLROnPlateau implements LrScheduler {

    /** Whether the monitored metric should go down or up. */
    public enum Mode {
        /** Lower is better, for losses (the default). */
        MIN,
        /** Higher is better, for accuracies. */
        MAX
    }

    /** How {@code threshold} decides what counts as an improvement. */
    public enum ThresholdMode {
        /** Relative to the best value (the default). */
        REL,
        /** An absolute margin. */
        ABS
    }

    private final Optimizer optimizer;
    private final Mode mode;
    private final double factor;
    private final int patience;
    private final double threshold;
    private final ThresholdMode thresholdMode;
    private final int cooldown;
    private final double minLr;
    private final double eps;

    private double best;
    private int numBadEpochs;
    private int cooldownCounter;
    private int lastEpoch;
    private double[] lastLrs;

    private ReduceLROnPlateau(Builder builder) {
        this.optimizer = builder.optimizer;
        this.mode = builder.mode;
        this.factor = builder.factor;
        this.patience = builder.patience;
        this.threshold = builder.threshold;
        this.thresholdMode = builder.thresholdMode;
        this.cooldown = builder.cooldown;
        this.minLr = builder.minLr;
        this.eps = builder.eps;
        this.best = worst();
        this.lastLrs = currentLrs();
    }

    /**
     * Creates a plateau scheduler with torch's defaults (see {@link Builder}).
     *
     * @param optimizer the optimizer whose learning rate to lower
     */
    public ReduceLROnPlateau(Optimizer optimizer) {
        this(builder(optimizer));
    }

    /**
     * Starts a builder with torch's defaults: mode min, factor 0.1, patience 10, threshold 1e-4 relative,
     * cooldown 0, minLr 0, eps 1e-8.
     *
     * @param optimizer the optimizer whose learning rate to lower
     * @return a new builder
     */
    public static Builder builder(Optimizer optimizer) {
        return new Builder(optimizer);
    }

    /**
     * Always fails: this scheduler needs the monitored metric.
     *
     * @throws UnsupportedOperationException always; call {@link #step(double)}
     */
    @Override
    public void step() {
        throw new UnsupportedOperationException(
                "ReduceLROnPlateau needs the monitored metric: call step(metric) instead of step()");
    }

    /** {@inheritDoc} */
    @Override
    public void step(double metric) {
        lastEpoch++;
        if (isBetter(metric)) {
            best = metric;
            numBadEpochs = 0;
        } else {
            numBadEpochs++;
        }
        if (cooldownCounter > 0) {
            cooldownCounter--;
            // Bad epochs right after a reduction are the reduction settling in, not a new plateau.
            numBadEpochs = 0;
        }
        if (numBadEpochs > patience) {
            reduceLr();
            cooldownCounter = cooldown;
            numBadEpochs = 0;
        }
        lastLrs = currentLrs();
    }

    private boolean isBetter(double value) {
        if (mode == Mode.MIN) {
            return thresholdMode == ThresholdMode.REL ? value < best * (1 - threshold) : value < best - threshold;
        }
        return thresholdMode == ThresholdMode.REL ? value > best * (1 + threshold) : value > best + threshold;
    }

    private void reduceLr() {
        for (ParamGroup group : optimizer.paramGroups()) {
            double oldLr = group.lr();
            double newLr = Math.max(oldLr * factor, minLr);
            if (oldLr - newLr > eps) {
                group.setLr(newLr);
            }
        }
    }

    private double worst() {
        return mode == Mode.MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }

    private double[] currentLrs() {
        List<ParamGroup> groups = optimizer.paramGroups();
        double[] lrs = new double[groups.size()];
        for (int i = 0; i < lrs.length; i++) {
            lrs[i] = groups.get(i).lr();
        }
        return lrs;
    }

    /**
     * Returns true: this scheduler is stepped with the monitored metric.
     *
     * @return true
     */
    @Override
    public boolean needsMetric() {
        return true;
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
     * Returns the best metric value seen so far.
     *
     * @return the best value; infinitely bad before the first step
     */
    public double best() {
        return best;
    }

    /**
     * Returns how many calls in a row did not improve on the best value.
     *
     * @return the current count of bad epochs
     */
    public int numBadEpochs() {
        return numBadEpochs;
    }

    /**
     * Returns how many more calls are in the cooldown after the latest reduction.
     *
     * @return the remaining cooldown
     */
    public int cooldownCounter() {
        return cooldownCounter;
    }

    /**
     * Returns the state in torch's layout. {@code best} is {@code null} until a metric has improved on the initial
     * infinitely bad value, because JSON has no infinity.
     *
     * @return a new state dict without tensors
     */
    @Override
    public StateDict stateDict() {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("factor", factor);
        List<Double> minLrs = new ArrayList<>();
        for (int i = 0; i < optimizer.paramGroups().size(); i++) {
            minLrs.add(minLr);
        }
        values.put("min_lrs", minLrs);
        values.put("patience", patience);
        values.put("cooldown", cooldown);
        values.put("cooldown_counter", cooldownCounter);
        values.put("mode", mode.name().toLowerCase(Locale.ROOT));
        values.put("threshold", threshold);
        values.put("threshold_mode", thresholdMode.name().toLowerCase(Locale.ROOT));
        values.put("best", Double.isInfinite(best) ? null : best);
        values.put("num_bad_epochs", numBadEpochs);
        values.put("eps", eps);
        values.put("last_epoch", lastEpoch);
        values.put("_last_lr", lastLr());
        return new StateDict(values, new LinkedHashMap<>());
    }

    /**
     * Restores the counters ({@code best}, {@code num_bad_epochs}, {@code cooldown_counter}, {@code last_epoch},
     * {@code _last_lr}); the settings stay those this scheduler was built with.
     *
     * @param state the saved state
     */
    @Override
    public void loadStateDict(StateDict state) {
        Objects.requireNonNull(state, "state");
        String owner = "ReduceLROnPlateau";
        Map<String, Object> values = state.values();
        Object savedBest = values.get("best");
        double restoredBest = savedBest == null ? worst() : StateValues.toDouble(savedBest, "best", owner);
        int restoredBad = StateValues.toInt(
                StateValues.require(values, "num_bad_epochs", owner), "num_bad_epochs", owner);
        int restoredCooldown = StateValues.toInt(
                StateValues.require(values, "cooldown_counter", owner), "cooldown_counter", owner);
        int restoredEpoch =
                StateValues.toInt(StateValues.require(values, "last_epoch", owner), "last_epoch", owner);
        double[] restoredLrs =
                StateValues.toDoubles(StateValues.require(values, "_last_lr", owner), "_last_lr", owner);
        best = restoredBest;
        numBadEpochs = restoredBad;
        cooldownCounter = restoredCooldown;
        lastEpoch = restoredEpoch;
        lastLrs = restoredLrs;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "ReduceLROnPlateau(mode=" + mode + ", best=" + best + ", bad epochs=" + numBadEpochs + ", lr="
                + lastLr() + ")";
    }

    /** Collects ReduceLROnPlateau's settings; each setter checks its value at once. */
    public static final class Builder {

        private final Optimizer optimizer;
        private Mode mode = Mode.MIN;
        private double factor = 0.1;
        private int patience = 10;
        private double threshold = 1e-4;
        private ThresholdMode thresholdMode = ThresholdMode.REL;
        private int cooldown;
        private double minLr;
        private double eps = 1e-8;

        private Builder(Optimizer optimizer) {
            this.optimizer = Checks.notNull("ReduceLROnPlateau", "optimizer", optimizer);
        }

        /**
         * Sets whether the metric should go down or up.
         *
         * @param mode {@link Mode#MIN} (default) or {@link Mode#MAX}
         * @return this builder
         */
        public Builder mode(Mode mode) {
            this.mode = Checks.notNull("ReduceLROnPlateau", "mode", mode);
            return this;
        }

        /**
         * Sets the factor the learning rate is multiplied by at a plateau.
         *
         * @param factor in {@code [0, 1)}; default 0.1
         * @return this builder
         */
        public Builder factor(double factor) {
            this.factor = Checks.unitInterval("ReduceLROnPlateau", "factor", factor);
            return this;
        }

        /**
         * Sets how many calls without improvement are tolerated before the rate is lowered.
         *
         * @param patience {@code >= 0}; default 10
         * @return this builder
         */
        public Builder patience(int patience) {
            this.patience = Checks.nonNegative("ReduceLROnPlateau", "patience", patience);
            return this;
        }

        /**
         * Sets the margin by which the metric must beat the best value to count as an improvement.
         *
         * @param threshold a finite number {@code >= 0}; default 1e-4
         * @return this builder
         */
        public Builder threshold(double threshold) {
            this.threshold = Checks.nonNegative("ReduceLROnPlateau", "threshold", threshold);
            return this;
        }

        /**
         * Sets whether the threshold is relative to the best value or absolute.
         *
         * @param thresholdMode {@link ThresholdMode#REL} (default) or {@link ThresholdMode#ABS}
         * @return this builder
         */
        public Builder thresholdMode(ThresholdMode thresholdMode) {
            this.thresholdMode = Checks.notNull("ReduceLROnPlateau", "thresholdMode", thresholdMode);
            return this;
        }

        /**
         * Sets how many calls after a reduction do not count as bad.
         *
         * @param cooldown {@code >= 0}; default 0
         * @return this builder
         */
        public Builder cooldown(int cooldown) {
            this.cooldown = Checks.nonNegative("ReduceLROnPlateau", "cooldown", cooldown);
            return this;
        }

        /**
         * Sets the lowest learning rate of every param group.
         *
         * @param minLr a finite number {@code >= 0}; default 0
         * @return this builder
         */
        public Builder minLr(double minLr) {
            this.minLr = Checks.nonNegative("ReduceLROnPlateau", "minLr", minLr);
            return this;
        }

        /**
         * Sets the smallest change of the learning rate worth making.
         *
         * @param eps a finite number {@code >= 0}; default 1e-8
         * @return this builder
         */
        public Builder eps(double eps) {
            this.eps = Checks.nonNegative("ReduceLROnPlateau", "eps", eps);
            return this;
        }

        /**
         * Builds the scheduler.
         *
         * @return the scheduler
         */
        public ReduceLROnPlateau build() {
            return new ReduceLROnPlateau(this);
        }
    }
}
