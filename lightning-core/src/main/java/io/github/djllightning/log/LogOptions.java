package io.github.djllightning.log;

import java.util.Objects;

/**
 * How a value given to {@code log(...)} is recorded: Lightning's {@code self.log} keyword arguments.
 *
 * <p>Immutable; each setter returns a copy, so an instance can be kept in a constant and reused every step without
 * allocating: {@code static final LogOptions PBAR = LogOptions.defaults().progBar(true);}
 *
 * <p>{@code onStep} and {@code onEpoch} left unset take the default of the hook that logs (for example
 * {@code trainingStep} logs per step, {@code validationStep} per epoch).
 */
public final class LogOptions {

    private static final LogOptions DEFAULTS = new LogOptions(null, null, false, true, Reduce.MEAN, null, true);

    private final Boolean onStep;
    private final Boolean onEpoch;
    private final boolean progBar;
    private final boolean logger;
    private final Reduce reduce;
    private final Integer batchSize;
    private final boolean addDataloaderIdx;

    private LogOptions(
            Boolean onStep,
            Boolean onEpoch,
            boolean progBar,
            boolean logger,
            Reduce reduce,
            Integer batchSize,
            boolean addDataloaderIdx) {
        this.onStep = onStep;
        this.onEpoch = onEpoch;
        this.progBar = progBar;
        this.logger = logger;
        this.reduce = reduce;
        this.batchSize = batchSize;
        this.addDataloaderIdx = addDataloaderIdx;
    }

    /** Lightning's defaults: hook-dependent onStep/onEpoch, not on the progress bar, to the loggers, mean. */
    public static LogOptions defaults() {
        return DEFAULTS;
    }

    /** Returns a copy that records the value of every step (under {@code name_step} when also per epoch). */
    public LogOptions onStep(boolean value) {
        return new LogOptions(value, onEpoch, progBar, logger, reduce, batchSize, addDataloaderIdx);
    }

    /** Returns a copy that also reduces the values over the epoch (under {@code name_epoch} when also per step). */
    public LogOptions onEpoch(boolean value) {
        return new LogOptions(onStep, value, progBar, logger, reduce, batchSize, addDataloaderIdx);
    }

    /** Returns a copy that shows the metric on the progress bar or not. */
    public LogOptions progBar(boolean value) {
        return new LogOptions(onStep, onEpoch, value, logger, reduce, batchSize, addDataloaderIdx);
    }

    /** Returns a copy that sends the metric to the loggers or not. */
    public LogOptions logger(boolean value) {
        return new LogOptions(onStep, onEpoch, progBar, value, reduce, batchSize, addDataloaderIdx);
    }

    /** Returns a copy that reduces the epoch value with the given function. */
    public LogOptions reduce(Reduce value) {
        return new LogOptions(
                onStep, onEpoch, progBar, logger, Objects.requireNonNull(value, "reduce"), batchSize, addDataloaderIdx);
    }

    /**
     * Returns a copy that weights this value by the given batch size in the epoch mean, instead of the batch size
     * inferred from the batch.
     *
     * @param value the batch size, at least 1
     * @return the copy
     */
    public LogOptions batchSize(int value) {
        if (value < 1) {
            throw new IllegalArgumentException("LogOptions.batchSize must be at least 1, got " + value);
        }
        return new LogOptions(onStep, onEpoch, progBar, logger, reduce, value, addDataloaderIdx);
    }

    /** Returns a copy that appends {@code /dataloader_idx_N} to the name with several evaluation loaders, or not. */
    public LogOptions addDataloaderIdx(boolean value) {
        return new LogOptions(onStep, onEpoch, progBar, logger, reduce, batchSize, value);
    }

    /** The requested per-step recording, or null for the hook's default. */
    public Boolean getOnStep() {
        return onStep;
    }

    /** The requested per-epoch reduction, or null for the hook's default. */
    public Boolean getOnEpoch() {
        return onEpoch;
    }

    /** Whether the metric is shown on the progress bar. */
    public boolean isProgBar() {
        return progBar;
    }

    /** Whether the metric is sent to the loggers. */
    public boolean isLogger() {
        return logger;
    }

    /** The epoch reduction. */
    public Reduce getReduce() {
        return reduce;
    }

    /** The explicit batch size, or null to infer it from the batch. */
    public Integer getBatchSize() {
        return batchSize;
    }

    /** Whether {@code /dataloader_idx_N} is appended with several evaluation loaders. */
    public boolean isAddDataloaderIdx() {
        return addDataloaderIdx;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof LogOptions)) {
            return false;
        }
        LogOptions that = (LogOptions) o;
        return progBar == that.progBar
                && logger == that.logger
                && addDataloaderIdx == that.addDataloaderIdx
                && Objects.equals(onStep, that.onStep)
                && Objects.equals(onEpoch, that.onEpoch)
                && reduce == that.reduce
                && Objects.equals(batchSize, that.batchSize);
    }

    @Override
    public int hashCode() {
        return Objects.hash(onStep, onEpoch, progBar, logger, reduce, batchSize, addDataloaderIdx);
    }

    @Override
    public String toString() {
        return "LogOptions{onStep=" + onStep + ", onEpoch=" + onEpoch + ", progBar=" + progBar + ", logger=" + logger
                + ", reduce=" + reduce + ", batchSize=" + batchSize + ", addDataloaderIdx=" + addDataloaderIdx + "}";
    }
}
