package io.github.djllightning.callbacks;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.RunningStage;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import ai.djl.training.dataset.Batch;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures the time spent training, validating and testing, and stops fit when the training time reaches a limit.
 * Lightning's {@code Timer}.
 *
 * <pre>{@code
 * Timer timer = new Timer("00:12:00:00");          // 12 hours; also a Duration, or Map.of("hours", 12)
 * Trainer trainer = Trainer.builder().callbacks(timer).build();
 * trainer.fit(module, loader);
 * Duration trained = timer.timeElapsed(RunningStage.TRAIN);
 * }</pre>
 *
 * <p>The limit is checked when fit starts and then after every training batch ({@code interval "step"}, the default)
 * or at every training epoch's end ({@code "epoch"}). When it is reached the Timer asks the Trainer to stop ({@link
 * Trainer#requestStop}), so validation due at that point still runs, and {@code minEpochs}/{@code minSteps} hold.
 *
 * <p><b>Resume.</b> The elapsed time of every stage is saved in checkpoints ({@code {"time_elapsed": {"train": s,
 * "validate": s, ...}}}, seconds). Each fit counts its training time from zero, and a fit resumed from a checkpoint
 * adds the checkpoint's training time, so the limit spans resumes; the other stages are not restored, as in
 * Lightning.
 *
 * <p><b>The Trainer's {@code maxTime}</b> is a separate, simpler limit: it counts from the start of training in the
 * current fit only (not across resumes) and is checked after every batch. Lightning implements {@code max_time} by
 * adding a Timer; here the Trainer enforces it itself, so with both set each applies and the first that runs out
 * stops training; the Timer does not ask again when a stop is already requested. Use a Timer instead of {@code
 * maxTime} for a limit that spans resumes.
 */
public class Timer implements Callback {

    /** When the limit is checked during training. */
    public enum Interval {
        /** After every training batch. */
        STEP,
        /** At the end of every training epoch. */
        EPOCH
    }

    private static final Logger LOG = LoggerFactory.getLogger(Timer.class);
    private static final Pattern DD_HH_MM_SS = Pattern.compile("(\\d+):(\\d\\d):(\\d\\d):(\\d\\d)");
    private static final Map<String, Long> UNIT_NANOS = units();

    private final Duration duration;
    private final Interval interval;
    private final boolean verbose;
    private final Map<RunningStage, Long> startNanos = new EnumMap<>(RunningStage.class);
    private final Map<RunningStage, Long> endNanos = new EnumMap<>(RunningStage.class);
    private final Map<RunningStage, Instant> startInstants = new EnumMap<>(RunningStage.class);
    private final Map<RunningStage, Instant> endInstants = new EnumMap<>(RunningStage.class);
    private long offsetNanos;

    /**
     * A Timer that stops training after {@code duration}.
     *
     * @param duration {@code "DD:HH:MM:SS"}, e.g. {@code "00:12:00:00"} for 12 hours
     * @throws MisconfigurationException when the text is not in that form
     */
    public Timer(String duration) {
        this(builder().duration(duration));
    }

    /**
     * A Timer that stops training after {@code duration}.
     *
     * @param duration the training time limit, zero or more
     * @throws MisconfigurationException for a null or negative duration
     */
    public Timer(Duration duration) {
        this(builder().duration(duration));
    }

    /**
     * A Timer that stops training after a duration given in units, as Python's {@code timedelta(**kwargs)}.
     *
     * @param duration unit to amount, e.g. {@code Map.of("hours", 1, "minutes", 30)}; units {@code weeks, days, hours,
     *     minutes, seconds, milliseconds, microseconds}; amounts may have fractions
     * @throws MisconfigurationException for an unknown unit or a negative total
     */
    public Timer(Map<String, ? extends Number> duration) {
        this(builder().duration(duration));
    }

    /**
     * Creates a Timer from a builder.
     *
     * @param b the builder
     */
    protected Timer(Builder b) {
        this.duration = b.duration;
        this.interval = b.interval;
        this.verbose = b.verbose;
    }

    /**
     * Starts a builder: no limit (the Timer only measures), interval {@code "step"}, verbose.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** The training time limit, or null when the Timer only measures. */
    public Duration duration() {
        return duration;
    }

    /** When the limit is checked. */
    public Interval interval() {
        return interval;
    }

    /**
     * When a stage last started.
     *
     * @param stage {@code TRAIN}, {@code VALIDATE} (also the sanity check's validation) or {@code TEST}
     * @return the wall-clock time, or null when the stage has not started
     */
    public Instant startTime(RunningStage stage) {
        return startInstants.get(stage);
    }

    /** When training last started, or null. */
    public Instant startTime() {
        return startTime(RunningStage.TRAIN);
    }

    /**
     * When a stage last ended.
     *
     * @param stage the stage
     * @return the wall-clock time, or null when the stage has not ended since it last started
     */
    public Instant endTime(RunningStage stage) {
        return endInstants.get(stage);
    }

    /** When training last ended, or null. */
    public Instant endTime() {
        return endTime(RunningStage.TRAIN);
    }

    /**
     * The time spent in a stage: from its last start to its end, or to now while it runs; for training, plus the
     * training time of the run a checkpoint was resumed from.
     *
     * @param stage the stage
     * @return the elapsed time, measured with a monotonic clock
     */
    public Duration timeElapsed(RunningStage stage) {
        long offset = stage == RunningStage.TRAIN ? offsetNanos : 0;
        Long start = startNanos.get(stage);
        if (start == null) {
            return Duration.ofNanos(offset);
        }
        Long end = endNanos.get(stage);
        return Duration.ofNanos((end == null ? System.nanoTime() : end) - start + offset);
    }

    /** The training time so far, including that of the run resumed from. */
    public Duration timeElapsed() {
        return timeElapsed(RunningStage.TRAIN);
    }

    /**
     * The time left before the limit, measured for a stage.
     *
     * @param stage the stage
     * @return the limit minus the stage's elapsed time (negative once passed), or null without a limit
     */
    public Duration timeRemaining(RunningStage stage) {
        return duration == null ? null : duration.minus(timeElapsed(stage));
    }

    /** The training time left before the limit (negative once passed), or null without a limit. */
    public Duration timeRemaining() {
        return timeRemaining(RunningStage.TRAIN);
    }

    /** For fit: starts the training time from zero; a checkpoint restored next adds its training time. */
    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        if (stage != TrainerFn.FIT) {
            return;
        }
        offsetNanos = 0;
        startNanos.remove(RunningStage.TRAIN);
        endNanos.remove(RunningStage.TRAIN);
        startInstants.remove(RunningStage.TRAIN);
        endInstants.remove(RunningStage.TRAIN);
        Duration maxTime = trainer.config().stopping().maxTime();
        if (duration != null && maxTime != null) {
            LOG.warn("The Trainer's maxTime ({}) and a Timer ({}) both limit training; it stops at whichever runs out"
                    + " first, and only the Timer counts the time of resumed runs.", maxTime, duration);
        }
    }

    @Override
    public void onFitStart(Trainer trainer, LightningModule module) {
        // after a resume the restored training time may already be past the limit
        checkTimeRemaining(trainer);
    }

    @Override
    public void onTrainStart(Trainer trainer, LightningModule module) {
        start(RunningStage.TRAIN);
    }

    @Override
    public void onTrainEnd(Trainer trainer, LightningModule module) {
        end(RunningStage.TRAIN);
    }

    @Override
    public void onValidationStart(Trainer trainer, LightningModule module) {
        start(RunningStage.VALIDATE);
    }

    @Override
    public void onValidationEnd(Trainer trainer, LightningModule module) {
        end(RunningStage.VALIDATE);
    }

    @Override
    public void onTestStart(Trainer trainer, LightningModule module) {
        start(RunningStage.TEST);
    }

    @Override
    public void onTestEnd(Trainer trainer, LightningModule module) {
        end(RunningStage.TEST);
    }

    @Override
    public void onTrainBatchEnd(
            Trainer trainer,
            LightningModule module,
            Map<String, Object> outputs,
            Batch batch,
            int batchIdx) {
        if (interval == Interval.STEP) {
            checkTimeRemaining(trainer);
        }
    }

    @Override
    public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
        if (interval == Interval.EPOCH) {
            checkTimeRemaining(trainer);
        }
    }

    private void start(RunningStage stage) {
        startNanos.put(stage, System.nanoTime());
        startInstants.put(stage, Instant.now());
        endNanos.remove(stage);
        endInstants.remove(stage);
    }

    private void end(RunningStage stage) {
        endNanos.put(stage, System.nanoTime());
        endInstants.put(stage, Instant.now());
    }

    private void checkTimeRemaining(Trainer trainer) {
        if (duration == null || trainer.shouldStop()) {
            return;
        }
        Duration elapsed = timeElapsed(RunningStage.TRAIN);
        if (elapsed.compareTo(duration) >= 0) {
            String reason = "Timer: time limit of " + format(duration) + " reached, elapsed " + format(elapsed);
            if (verbose) {
                LOG.info("Time limit reached. Elapsed time is {}. Signaling Trainer to stop.", format(elapsed));
            }
            trainer.requestStop(reason);
        }
    }

    /** {@code D days, HH:MM:SS} as Python prints a {@code timedelta} of whole seconds. */
    private static String format(Duration d) {
        long seconds = d.getSeconds();
        long days = seconds / 86_400;
        long rest = seconds % 86_400;
        String clock = String.format(Locale.ROOT, "%d:%02d:%02d", rest / 3600, rest / 60 % 60, rest % 60);
        return days == 0 ? clock : days + (days == 1 ? " day, " : " days, ") + clock;
    }

    /**
     * The elapsed time of every stage, in seconds: {@code {"time_elapsed": {"train": ..., "sanity_check": ...,
     * "validate": ..., "test": ..., "predict": ...}}}.
     */
    @Override
    public Map<String, Object> stateDict() {
        Map<String, Object> elapsed = new LinkedHashMap<>();
        for (RunningStage stage : RunningStage.values()) {
            elapsed.put(stage.toString(), timeElapsed(stage).toNanos() / 1e9);
        }
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("time_elapsed", elapsed);
        return state;
    }

    /** Restores the training time as an offset added to the time measured from now on; other stages start at 0. */
    @Override
    public void loadStateDict(Map<String, Object> state) {
        Object elapsed = state.get("time_elapsed");
        Object train = elapsed instanceof Map ? ((Map<?, ?>) elapsed).get(RunningStage.TRAIN.toString()) : null;
        if (train != null && !(train instanceof Number)) {
            throw new IllegalArgumentException("time_elapsed.train must be a number of seconds, got " + train);
        }
        offsetNanos = train == null ? 0 : Math.round(((Number) train).doubleValue() * 1e9);
    }

    private static Map<String, Long> units() {
        Map<String, Long> units = new LinkedHashMap<>();
        units.put("weeks", Duration.ofDays(7).toNanos());
        units.put("days", Duration.ofDays(1).toNanos());
        units.put("hours", Duration.ofHours(1).toNanos());
        units.put("minutes", Duration.ofMinutes(1).toNanos());
        units.put("seconds", Duration.ofSeconds(1).toNanos());
        units.put("milliseconds", Duration.ofMillis(1).toNanos());
        units.put("microseconds", 1_000L);
        return units;
    }

    /** Configures a {@link Timer}; every setter has Lightning's default. */
    public static class Builder {
        private Duration duration;
        private Interval interval = Interval.STEP;
        private boolean verbose = true;

        Builder() {}

        /**
         * Stops training after this long, Lightning's {@code "DD:HH:MM:SS"} notation.
         *
         * @param value e.g. {@code "00:12:00:00"} for 12 hours, {@code "01:00:00:00"} for a day
         * @return this builder
         * @throws MisconfigurationException when the text is not in that form
         */
        public Builder duration(String value) {
            Matcher m = value == null ? null : DD_HH_MM_SS.matcher(value.strip());
            if (m != null && m.matches()) {
                try {
                    duration = Duration.ofDays(Long.parseLong(m.group(1)))
                            .plusHours(Long.parseLong(m.group(2)))
                            .plusMinutes(Long.parseLong(m.group(3)))
                            .plusSeconds(Long.parseLong(m.group(4)));
                    return this;
                } catch (ArithmeticException | NumberFormatException e) {
                    // too many days: reported below
                }
            }
            throw new MisconfigurationException("Timer(duration=" + (value == null ? "null" : "'" + value + "'")
                    + ") is not a valid duration. Expected a string in the format DD:HH:MM:SS (days, hours, minutes,"
                    + " seconds), e.g. \"00:12:00:00\" for 12 hours, or pass a java.time.Duration.");
        }

        /**
         * Stops training after this long.
         *
         * @param value zero or more
         * @return this builder
         * @throws MisconfigurationException for a null or negative duration
         */
        public Builder duration(Duration value) {
            if (value == null || value.isNegative()) {
                throw new MisconfigurationException("Timer duration must be zero or more, got " + value
                        + "; use e.g. Duration.ofHours(12), or the builder without duration to only measure time.");
            }
            duration = value;
            return this;
        }

        /**
         * Stops training after a duration given in units, as Python's {@code timedelta(**kwargs)}.
         *
         * @param value unit to amount: {@code weeks, days, hours, minutes, seconds, milliseconds, microseconds};
         *     amounts may have fractions
         * @return this builder
         * @throws MisconfigurationException for an unknown unit, a missing amount or a negative total
         */
        public Builder duration(Map<String, ? extends Number> value) {
            if (value == null) {
                throw new MisconfigurationException("Timer duration units must not be null; use e.g."
                        + " Map.of(\"hours\", 12).");
            }
            BigDecimal nanos = BigDecimal.ZERO;
            for (Map.Entry<String, ? extends Number> entry : value.entrySet()) {
                Long unit = UNIT_NANOS.get(entry.getKey());
                if (unit == null || entry.getValue() == null) {
                    throw new MisconfigurationException("Timer duration " + value + " has "
                            + (unit == null ? "an unknown unit '" + entry.getKey() + "'" : "no amount for '"
                                    + entry.getKey() + "'")
                            + "; units are " + String.join(", ", UNIT_NANOS.keySet()) + ".");
                }
                BigDecimal amount;
                try {
                    amount = new BigDecimal(entry.getValue().toString());
                } catch (NumberFormatException e) {
                    throw new MisconfigurationException("Timer duration " + value + " has the amount "
                            + entry.getValue() + " for '" + entry.getKey() + "'; amounts must be finite numbers.");
                }
                nanos = nanos.add(amount.multiply(BigDecimal.valueOf(unit)));
            }
            if (nanos.signum() < 0) {
                throw new MisconfigurationException("Timer duration must be zero or more, got " + value);
            }
            try {
                return duration(Duration.ofNanos(nanos.setScale(0, RoundingMode.HALF_EVEN)
                        .longValueExact()));
            } catch (ArithmeticException e) {
                throw new MisconfigurationException("Timer duration " + value + " is too long; the limit is about"
                        + " 292 years.");
            }
        }

        /**
         * When the limit is checked.
         *
         * @param value {@code "step"} (after every training batch, the default) or {@code "epoch"} (at every
         *     training epoch's end)
         * @return this builder
         * @throws MisconfigurationException for another value
         */
        public Builder interval(String value) {
            if ("step".equals(value)) {
                interval = Interval.STEP;
            } else if ("epoch".equals(value)) {
                interval = Interval.EPOCH;
            } else {
                throw new MisconfigurationException("Timer interval must be 'step' or 'epoch', got "
                        + (value == null ? "null" : "'" + value + "'"));
            }
            return this;
        }

        /** Whether reaching the limit is logged (default true). */
        public Builder verbose(boolean value) {
            verbose = value;
            return this;
        }

        /** Builds the Timer. */
        public Timer build() {
            return new Timer(this);
        }
    }
}
