package io.github.djllightning.callbacks;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops fit when a monitored metric stops improving. Lightning's {@code EarlyStopping}.
 *
 * <p>The check runs at the end of the training epoch when validation runs once per epoch at its end
 * ({@code valCheckInterval} 1.0 and {@code checkValEveryNEpoch} 1), otherwise after each validation run. <b>Patience
 * counts checks, not epochs</b>: with {@code checkValEveryNEpoch(10)} and {@code patience(3)} fit trains at least 40
 * epochs before stopping. A stop is a request: {@code minEpochs} and {@code minSteps} still hold.
 *
 * <p>A check that finds the metric missing fails fit when {@code strict} (the default), naming the metrics that exist;
 * otherwise it is skipped with a warning (once per fit, or at every check when {@code verbose}).
 *
 * <p>To check at another moment, subclass and call {@link #runEarlyStoppingCheck(Trainer)} from another hook, and
 * switch the built-in moments off: override {@code onValidationEnd} and {@code onTrainEpochEnd} to do nothing (or
 * override one and set {@code checkOnTrainEpochEnd} so that the other never checks).
 */
public class EarlyStopping implements Callback {

    /** Why fit was stopped. */
    public enum Reason {
        /** It was not stopped. */
        NOT_STOPPED,
        /** The metric reached {@code stoppingThreshold}. */
        STOPPING_THRESHOLD,
        /** The metric passed {@code divergenceThreshold}. */
        DIVERGENCE_THRESHOLD,
        /** The metric did not improve for {@code patience} checks. */
        PATIENCE_EXHAUSTED,
        /** The metric was NaN or infinite. */
        NON_FINITE_METRIC
    }

    private static final Logger LOG = LoggerFactory.getLogger(EarlyStopping.class);

    private final String monitor;
    private final double minDelta;
    private int patience;
    private final boolean verbose;
    private final boolean maximize;
    private final boolean strict;
    private final boolean checkFinite;
    private final Double stoppingThreshold;
    private final Double divergenceThreshold;
    private final Boolean checkOnTrainEpochEndSetting;
    private boolean checkOnTrainEpochEnd;
    private boolean warnedMissingMetric;
    private int waitCount;
    private int stoppedEpoch;
    private double bestScore;
    private Reason stoppingReason = Reason.NOT_STOPPED;
    private String stoppingReasonMessage;

    /**
     * Early stopping on a metric with Lightning's defaults (mode min, patience 3).
     *
     * @param monitor the metric's name
     */
    public EarlyStopping(String monitor) {
        this(builder(monitor));
    }

    /**
     * Creates early stopping from a builder.
     *
     * @param b the builder
     */
    protected EarlyStopping(Builder b) {
        if (b.monitor == null || b.monitor.isEmpty()) {
            throw new MisconfigurationException("EarlyStopping needs a metric to monitor, e.g."
                    + " new EarlyStopping(\"val_loss\").");
        }
        if (b.patience < 0) {
            throw new MisconfigurationException("EarlyStopping patience must be at least 0, got " + b.patience);
        }
        if (!Double.isFinite(b.minDelta) || b.minDelta < 0) {
            throw new MisconfigurationException("EarlyStopping minDelta must be a finite number >= 0 (the least change"
                    + " that counts as an improvement, in the direction of mode), got " + b.minDelta);
        }
        requireNumber("stoppingThreshold", b.stoppingThreshold);
        requireNumber("divergenceThreshold", b.divergenceThreshold);
        this.monitor = b.monitor;
        this.maximize = b.maximize;
        this.minDelta = maximize ? b.minDelta : -b.minDelta;
        this.patience = b.patience;
        this.verbose = b.verbose;
        this.strict = b.strict;
        this.checkFinite = b.checkFinite;
        this.stoppingThreshold = b.stoppingThreshold;
        this.divergenceThreshold = b.divergenceThreshold;
        this.checkOnTrainEpochEndSetting = b.checkOnTrainEpochEnd;
        this.bestScore = maximize ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }

    private static void requireNumber(String name, Double value) {
        if (value != null && Double.isNaN(value)) {
            throw new MisconfigurationException("EarlyStopping " + name + " must be a number, got NaN; leave it unset"
                    + " to turn it off.");
        }
    }

    /**
     * Starts a builder.
     *
     * @param monitor the metric's name
     * @return the builder
     */
    public static Builder builder(String monitor) {
        return new Builder(monitor);
    }

    @Override
    public String stateKey() {
        return "EarlyStopping{'monitor': '" + monitor + "', 'mode': '" + (maximize ? "max" : "min") + "'}";
    }

    @Override
    public boolean monitorsMetrics() {
        return true;
    }

    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        // as Lightning: at the train epoch's end when validation (if any) runs once per epoch at its end, so that the
        // check sees that validation's metrics; after each validation run otherwise
        checkOnTrainEpochEnd = checkOnTrainEpochEndSetting != null
                ? checkOnTrainEpochEndSetting
                : trainer.config().validatesOncePerEpoch();
        warnedMissingMetric = false;
    }

    @Override
    public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
        if (checkOnTrainEpochEnd && !shouldSkip(trainer)) {
            runEarlyStoppingCheck(trainer);
        }
    }

    @Override
    public void onValidationEnd(Trainer trainer, LightningModule module) {
        if (!checkOnTrainEpochEnd && !shouldSkip(trainer)) {
            runEarlyStoppingCheck(trainer);
        }
    }

    private static boolean shouldSkip(Trainer trainer) {
        return trainer.fn() != TrainerFn.FIT || trainer.isSanityChecking();
    }

    /**
     * Compares the monitored metric with the best so far and asks the Trainer to stop when a criterion holds.
     *
     * @param trainer the Trainer
     */
    protected void runEarlyStoppingCheck(Trainer trainer) {
        if (trainer.isFastDevRun()) {
            return;
        }
        Map<String, Double> metrics = trainer.callbackMetrics();
        Double current = metrics.get(monitor);
        if (current == null) {
            String available = metrics.isEmpty()
                    ? "No metrics are logged yet"
                    : "Logged metrics are: " + String.join(", ", metrics.keySet());
            String message = "EarlyStopping could not find the monitored metric '" + monitor + "'. " + available
                    + ". Log it with log(\"" + monitor + "\", ...) in validationStep, or fix monitor.";
            if (strict) {
                throw new MisconfigurationException(message);
            }
            if (verbose || !warnedMissingMetric) {
                warnedMissingMetric = true;
                LOG.warn("{} With strict(false) this check is skipped and training goes on.", message);
            }
            return;
        }
        Check check = evaluate(current);
        if (check.stop()) {
            stoppedEpoch = trainer.currentEpoch();
            stoppingReasonMessage = check.message();
            trainer.requestStop(check.message());
        }
        if (check.message() != null && verbose) {
            LOG.info(check.message());
        }
    }

    /** The outcome of one check: whether to stop, and the message (null when there is nothing to say). */
    private record Check(boolean stop, String message) {}

    private Check stop(Reason reason, String message) {
        stoppingReason = reason;
        return new Check(true, message);
    }

    private Check evaluate(double current) {
        if (checkFinite && !Double.isFinite(current)) {
            return stop(Reason.NON_FINITE_METRIC, String.format(Locale.ROOT, "Monitored metric %s = %s is not finite. Previous best value was"
                    + " %.3f. Signaling Trainer to stop.", monitor, current, bestScore));
        }
        if (stoppingThreshold != null && better(current, stoppingThreshold)) {
            return stop(Reason.STOPPING_THRESHOLD, String.format(Locale.ROOT, "Stopping threshold reached: %s ="
                    + " %s %s %s. Signaling Trainer to stop.", monitor, current, maximize ? ">" : "<",
                    stoppingThreshold));
        }
        if (divergenceThreshold != null && better(-current, -divergenceThreshold)) {
            return stop(Reason.DIVERGENCE_THRESHOLD, String.format(Locale.ROOT, "Divergence threshold reached: %s"
                    + " = %s %s %s. Signaling Trainer to stop.", monitor, current, maximize ? "<" : ">",
                    divergenceThreshold));
        }
        if (better(current - minDelta, bestScore)) {
            String message = Double.isFinite(bestScore)
                    ? String.format(Locale.ROOT, "Metric %s improved by %.3f >= min_delta = %s. New best score:"
                            + " %.3f", monitor, Math.abs(bestScore - current), Math.abs(minDelta), current)
                    : String.format(Locale.ROOT, "Metric %s improved. New best score: %.3f", monitor, current);
            bestScore = current;
            waitCount = 0;
            return new Check(false, message);
        }
        waitCount++;
        if (waitCount >= patience) {
            return stop(Reason.PATIENCE_EXHAUSTED, String.format(Locale.ROOT, "Monitored metric %s did not improve"
                    + " in the last %d records. Best score: %.3f. Signaling Trainer to stop.", monitor, waitCount,
                    bestScore));
        }
        return new Check(false, null);
    }

    private boolean better(double a, double b) {
        return maximize ? a > b : a < b;
    }

    /** The monitored metric. */
    public String monitor() {
        return monitor;
    }

    /** Checks in a row without improvement. */
    public int waitCount() {
        return waitCount;
    }

    /** The best value seen. */
    public double bestScore() {
        return bestScore;
    }

    /** The epoch at which a stop was requested (0 when none). */
    public int stoppedEpoch() {
        return stoppedEpoch;
    }

    /** Why fit was stopped. */
    public Reason stoppingReason() {
        return stoppingReason;
    }

    /** The message explaining the stop, or null. */
    public String stoppingReasonMessage() {
        return stoppingReasonMessage;
    }

    /** {@code "min"} or {@code "max"}. */
    public String mode() {
        return maximize ? "max" : "min";
    }

    /**
     * Whether the check runs at the end of the training epoch (true) or after each validation run (false); the
     * setting, or the value resolved from the Trainer's flags at the start of the last run (before a run: false when
     * not set).
     */
    public boolean checkOnTrainEpochEnd() {
        return checkOnTrainEpochEndSetting != null ? checkOnTrainEpochEndSetting : checkOnTrainEpochEnd;
    }

    /** The patience: checks without improvement before stopping (restored from a checkpoint, as in Lightning). */
    public int patience() {
        return patience;
    }

    @Override
    public Map<String, Object> stateDict() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("wait_count", waitCount);
        state.put("stopped_epoch", stoppedEpoch);
        state.put("best_score", bestScore);
        state.put("patience", patience);
        state.put("stopping_reason", stoppingReason.name().toLowerCase(Locale.ROOT));
        state.put("stopping_reason_message", stoppingReasonMessage);
        return state;
    }

    @Override
    public void loadStateDict(Map<String, Object> state) {
        waitCount = ((Number) state.get("wait_count")).intValue();
        stoppedEpoch = ((Number) state.get("stopped_epoch")).intValue();
        bestScore = ((Number) state.get("best_score")).doubleValue();
        patience = ((Number) state.get("patience")).intValue();
        Object reason = state.get("stopping_reason");
        stoppingReason = reason == null ? Reason.NOT_STOPPED
                : Reason.valueOf(reason.toString().toUpperCase(Locale.ROOT));
        Object message = state.get("stopping_reason_message");
        stoppingReasonMessage = message == null ? null : message.toString();
    }

    /** Configures {@link EarlyStopping}; every setter has Lightning's default. */
    public static class Builder {
        private final String monitor;
        private double minDelta;
        private int patience = 3;
        private boolean verbose;
        private boolean maximize;
        private boolean strict = true;
        private boolean checkFinite = true;
        private Double stoppingThreshold;
        private Double divergenceThreshold;
        private Boolean checkOnTrainEpochEnd;

        Builder(String monitor) {
            this.monitor = monitor;
        }

        /** The least change that counts as an improvement (default 0); a change of exactly this much does not. */
        public Builder minDelta(double value) {
            minDelta = value;
            return this;
        }

        /** Checks without improvement before stopping (default 3); checks, not epochs. */
        public Builder patience(int value) {
            patience = value;
            return this;
        }

        /** Whether each check's outcome is logged, and every skipped check when the metric is missing. */
        public Builder verbose(boolean value) {
            verbose = value;
            return this;
        }

        /** {@code "min"} (default, lower is better) or {@code "max"}. */
        public Builder mode(String value) {
            if (!"min".equals(value) && !"max".equals(value)) {
                throw new MisconfigurationException("EarlyStopping mode must be 'min' or 'max', got '" + value + "'");
            }
            maximize = "max".equals(value);
            return this;
        }

        /** Whether a missing metric is an error (default true) or skips the check with a warning. */
        public Builder strict(boolean value) {
            strict = value;
            return this;
        }

        /** Whether a NaN or infinite metric stops fit (default true). */
        public Builder checkFinite(boolean value) {
            checkFinite = value;
            return this;
        }

        /** Stops as soon as the metric is better than this (strictly); unset by default. */
        public Builder stoppingThreshold(double value) {
            stoppingThreshold = value;
            return this;
        }

        /** Stops as soon as the metric is worse than this (strictly); unset by default. */
        public Builder divergenceThreshold(double value) {
            divergenceThreshold = value;
            return this;
        }

        /** Checks at the end of the training epoch (true) or after validation (false); default decided by flags. */
        public Builder checkOnTrainEpochEnd(boolean value) {
            checkOnTrainEpochEnd = value;
            return this;
        }

        /** Builds the callback. */
        public EarlyStopping build() {
            return new EarlyStopping(this);
        }
    }
}
