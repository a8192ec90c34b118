package io.github.djllightning.trainer;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.log.Logger;
import io.github.djllightning.profile.Profiler;
import io.github.djllightning.profile.Profilers;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * Everything a {@link Trainer} is configured with: Lightning's Trainer flags, validated once when built.
 *
 * <p>Immutable. Build it with {@link #builder()} (or {@link Trainer#builder()}, which builds the Trainer directly);
 * derive a variant with {@link #toBuilder()}. Every setter of the builder records the value; {@code build()} checks
 * them all and names the flag, the bad value and what is valid.
 *
 * @param stopping when fit stops
 * @param batches how many batches of each loader are used
 * @param validation when validation runs in fit
 * @param optimization gradient accumulation and clipping
 * @param output loggers, progress bar, model summary, checkpointing and the root folder
 * @param hardware device, precision, threads and seeding
 * @param fastDevRun 0 for off, else the number of batches of a quick smoke run
 * @param callbacks the user's callbacks, in order
 * @param profiler the profiler
 */
public record TrainerConfig(
        Stopping stopping,
        Batches batches,
        Validation validation,
        Optimization optimization,
        Output output,
        Hardware hardware,
        int fastDevRun,
        List<Callback> callbacks,
        Profiler profiler) {

    /** The accelerators that can be named. */
    static final List<String> ACCELERATORS = List.of("auto", "cpu", "gpu", "cuda", "mps", "tpu");
    /** The precisions that can be named; only the first two run on this engine. */
    static final List<String> PRECISIONS =
            List.of("32-true", "32", "64-true", "64", "16-mixed", "16", "bf16-mixed", "bf16", "16-true", "bf16-true");

    /**
     * When fit stops.
     *
     * @param maxEpochs the epoch limit: -1 for none, null for Lightning's default (1000 unless maxSteps or maxTime)
     * @param minEpochs epochs to train before a stop request is honoured, or null
     * @param maxSteps the optimizer-step limit, -1 for none
     * @param minSteps optimizer steps before a stop request is honoured, or null
     * @param maxTime the wall-clock limit of training, or null
     */
    public record Stopping(Integer maxEpochs, Integer minEpochs, long maxSteps, Long minSteps, Duration maxTime) {}

    /**
     * How many batches of each loader are used per epoch or run.
     *
     * @param limitTrain training batches per epoch
     * @param limitVal validation batches per run
     * @param limitTest test batches
     * @param limitPredict prediction batches
     * @param overfitBatches when not zero: train and validate on this many batches, without shuffling
     */
    public record Batches(
            BatchLimit limitTrain,
            BatchLimit limitVal,
            BatchLimit limitTest,
            BatchLimit limitPredict,
            BatchLimit overfitBatches) {}

    /**
     * When validation runs inside fit.
     *
     * @param valCheckInterval a fraction of the epoch or a number of training batches
     * @param checkValEveryNEpoch validate every n epochs; null to count valCheckInterval batches across epochs
     * @param numSanityValSteps validation batches run before training (-1 for all)
     */
    public record Validation(BatchLimit valCheckInterval, Integer checkValEveryNEpoch, int numSanityValSteps) {}

    /**
     * Gradient handling.
     *
     * @param accumulateGradBatches batches whose gradients are summed before each optimizer step
     * @param gradientClipVal the clipping limit, or null for none
     * @param gradientClipAlgorithm norm or value
     */
    public record Optimization(
            int accumulateGradBatches, Double gradientClipVal, GradientClipAlgorithm gradientClipAlgorithm) {}

    /**
     * What the run writes and shows.
     *
     * @param defaultRootDir the folder for logs and checkpoints when no logger or callback says otherwise
     * @param logger whether the default logger is used when {@code loggers} is empty
     * @param loggers explicit loggers (the first decides the log folder)
     * @param logEveryNSteps training step metrics go to the loggers every n optimizer steps (0: never)
     * @param enableProgressBar whether a progress bar is added when none is in the callbacks
     * @param enableModelSummary whether a model summary is added when none is in the callbacks
     * @param enableCheckpointing whether a ModelCheckpoint is added when none is in the callbacks
     */
    public record Output(
            Path defaultRootDir,
            boolean logger,
            List<Logger> loggers,
            int logEveryNSteps,
            boolean enableProgressBar,
            boolean enableModelSummary,
            boolean enableCheckpointing) {}

    /**
     * Where and how the math runs.
     *
     * @param accelerator {@code cpu}, {@code gpu}/{@code cuda} or {@code auto}
     * @param devices the number of devices, -1 for all
     * @param precision {@code 32-true}
     * @param numThreads the engine's intra-op threads, or null to leave the engine's setting
     * @param deterministic whether to ask the engine for deterministic algorithms
     * @param seed the seed for Java and engine random numbers and shuffling, or null
     * @param flushDenormals whether float denormals are flushed to zero on the threads that run the engine's work
     */
    public record Hardware(
            String accelerator,
            int devices,
            String precision,
            Integer numThreads,
            boolean deterministic,
            Long seed,
            boolean flushDenormals) {}

    /** Starts a builder with Lightning's defaults. */
    public static Builder<TrainerConfig> builder() {
        return new Builder<>(Function.identity());
    }

    /** The defaults: what {@code Trainer()} gets in Lightning. */
    public static TrainerConfig defaults() {
        return builder().build();
    }

    /** A builder holding this configuration, to derive a variant. */
    public Builder<TrainerConfig> toBuilder() {
        return new Builder<>(Function.identity(), this);
    }

    /** The epoch limit after Lightning's defaulting: 1000 when neither maxSteps nor maxTime is set, else -1. */
    public int resolvedMaxEpochs() {
        if (fastDevRun > 0) {
            return 1;
        }
        if (stopping.maxEpochs() != null) {
            return stopping.maxEpochs();
        }
        return stopping.maxSteps() == -1 && stopping.maxTime() == null ? 1000 : -1;
    }

    /** The step limit, with fastDevRun applied. */
    public long resolvedMaxSteps() {
        return fastDevRun > 0 ? fastDevRun : stopping.maxSteps();
    }

    /** The minimum epochs after defaulting: 1 when only minSteps is set, else 0. */
    public int resolvedMinEpochs() {
        if (stopping.minEpochs() != null) {
            return stopping.minEpochs();
        }
        return stopping.minSteps() != null ? 1 : 0;
    }

    /** The minimum steps, 0 when unset. */
    public long resolvedMinSteps() {
        return stopping.minSteps() == null ? 0 : stopping.minSteps();
    }

    /** The training batch limit with fastDevRun and overfitBatches applied. */
    public BatchLimit effectiveLimitTrain() {
        if (!batches.overfitBatches().isZero()) {
            return batches.overfitBatches();
        }
        return fastDevRun > 0 ? BatchLimit.count(fastDevRun) : batches.limitTrain();
    }

    /** The validation batch limit with fastDevRun and overfitBatches applied. */
    public BatchLimit effectiveLimitVal() {
        if (!batches.overfitBatches().isZero()) {
            return batches.overfitBatches();
        }
        return fastDevRun > 0 ? BatchLimit.count(fastDevRun) : batches.limitVal();
    }

    /** The test batch limit with fastDevRun applied. */
    public BatchLimit effectiveLimitTest() {
        return fastDevRun > 0 ? BatchLimit.count(fastDevRun) : batches.limitTest();
    }

    /** The prediction batch limit with fastDevRun applied. */
    public BatchLimit effectiveLimitPredict() {
        return fastDevRun > 0 ? BatchLimit.count(fastDevRun) : batches.limitPredict();
    }

    /** The sanity-check batches per loader; 0 under fastDevRun, {@code Long.MAX_VALUE} for all. */
    public long effectiveNumSanityValSteps() {
        if (fastDevRun > 0) {
            return 0;
        }
        int n = validation.numSanityValSteps();
        return n == -1 ? Long.MAX_VALUE : n;
    }

    /** The validation interval with fastDevRun applied. */
    public BatchLimit effectiveValCheckInterval() {
        return fastDevRun > 0 ? BatchLimit.ALL : validation.valCheckInterval();
    }

    /**
     * Lightning's test {@code val_check_interval == 1.0 and check_val_every_n_epoch == 1}, which decides whether
     * checkpointing and early stopping act at the end of the training epoch or after each validation. As in Python,
     * the count 1 equals 1.0 here.
     *
     * @return whether validation is configured to run once per epoch, at its end
     */
    public boolean validatesOncePerEpoch() {
        BatchLimit interval = effectiveValCheckInterval();
        boolean wholeEpoch = interval.equals(BatchLimit.ALL) || !interval.isFraction() && interval.count() == 1;
        Integer every = effectiveCheckValEveryNEpoch();
        return wholeEpoch && every != null && every == 1;
    }

    /** The validation epoch period with fastDevRun applied; null means batch-count based. */
    public Integer effectiveCheckValEveryNEpoch() {
        return fastDevRun > 0 ? Integer.valueOf(1) : validation.checkValEveryNEpoch();
    }

    /**
     * Builds a {@link TrainerConfig} (or a Trainer, from {@link Trainer#builder()}), with Lightning's defaults for
     * whatever is not set.
     *
     * @param <T> what {@link #build()} returns
     */
    public static final class Builder<T> {

        private final Function<TrainerConfig, T> finisher;
        private final List<String> errors = new ArrayList<>();

        private Integer maxEpochs;
        private Integer minEpochs;
        private long maxSteps = -1;
        private Long minSteps;
        private Duration maxTime;
        private BatchLimit limitTrain = BatchLimit.ALL;
        private BatchLimit limitVal = BatchLimit.ALL;
        private BatchLimit limitTest = BatchLimit.ALL;
        private BatchLimit limitPredict = BatchLimit.ALL;
        private BatchLimit overfitBatches = BatchLimit.NONE;
        private BatchLimit valCheckInterval = BatchLimit.ALL;
        private Integer checkValEveryNEpoch = 1;
        private int numSanityValSteps = 2;
        private int accumulateGradBatches = 1;
        private Double gradientClipVal;
        private GradientClipAlgorithm gradientClipAlgorithm = GradientClipAlgorithm.NORM;
        private Path defaultRootDir;
        private boolean logger = true;
        private List<Logger> loggers = new ArrayList<>();
        private int logEveryNSteps = 50;
        private boolean enableProgressBar = true;
        private boolean enableModelSummary = true;
        private boolean enableCheckpointing = true;
        private String accelerator = "auto";
        private int devices = 1;
        private String precision = "32-true";
        private Integer numThreads;
        private boolean deterministic;
        private boolean flushDenormals = true;
        private Long seed;
        private int fastDevRun;
        private List<Callback> callbacks = new ArrayList<>();
        private Profiler profiler = Profiler.NONE;

        /**
         * Creates a builder with the defaults.
         *
         * @param finisher turns the validated configuration into what {@link #build()} returns
         */
        public Builder(Function<TrainerConfig, T> finisher) {
            this.finisher = finisher;
        }

        Builder(Function<TrainerConfig, T> finisher, TrainerConfig from) {
            this.finisher = finisher;
            maxEpochs = from.stopping.maxEpochs();
            minEpochs = from.stopping.minEpochs();
            maxSteps = from.stopping.maxSteps();
            minSteps = from.stopping.minSteps();
            maxTime = from.stopping.maxTime();
            limitTrain = from.batches.limitTrain();
            limitVal = from.batches.limitVal();
            limitTest = from.batches.limitTest();
            limitPredict = from.batches.limitPredict();
            overfitBatches = from.batches.overfitBatches();
            valCheckInterval = from.validation.valCheckInterval();
            checkValEveryNEpoch = from.validation.checkValEveryNEpoch();
            numSanityValSteps = from.validation.numSanityValSteps();
            accumulateGradBatches = from.optimization.accumulateGradBatches();
            gradientClipVal = from.optimization.gradientClipVal();
            gradientClipAlgorithm = from.optimization.gradientClipAlgorithm();
            defaultRootDir = from.output.defaultRootDir();
            logger = from.output.logger();
            loggers = new ArrayList<>(from.output.loggers());
            logEveryNSteps = from.output.logEveryNSteps();
            enableProgressBar = from.output.enableProgressBar();
            enableModelSummary = from.output.enableModelSummary();
            enableCheckpointing = from.output.enableCheckpointing();
            accelerator = from.hardware.accelerator();
            devices = from.hardware.devices();
            precision = from.hardware.precision();
            numThreads = from.hardware.numThreads();
            deterministic = from.hardware.deterministic();
            flushDenormals = from.hardware.flushDenormals();
            seed = from.hardware.seed();
            fastDevRun = from.fastDevRun;
            callbacks = new ArrayList<>(from.callbacks);
            profiler = from.profiler;
        }

        /** Stops after this many epochs; -1 for no limit. Default: 1000, or none when maxSteps/maxTime is set. */
        public Builder<T> maxEpochs(int value) {
            maxEpochs = value;
            return this;
        }

        /** Trains at least this many epochs, even when a callback asks to stop. */
        public Builder<T> minEpochs(int value) {
            minEpochs = value;
            return this;
        }

        /** Stops after this many optimizer steps; -1 (default) for no limit. */
        public Builder<T> maxSteps(long value) {
            maxSteps = value;
            return this;
        }

        /** Trains at least this many optimizer steps, even when a callback asks to stop. */
        public Builder<T> minSteps(long value) {
            minSteps = value;
            return this;
        }

        /** Stops training after this much wall-clock time (checked after every batch). */
        public Builder<T> maxTime(Duration value) {
            maxTime = value;
            return this;
        }

        /**
         * Stops training after this much time, Lightning's {@code "DD:HH:MM:SS"} notation.
         *
         * @param value e.g. {@code "00:12:00:00"} for 12 hours
         * @return this builder
         */
        public Builder<T> maxTime(String value) {
            maxTime = parseDuration("maxTime", value);
            return this;
        }

        /** Uses this many training batches per epoch. */
        public Builder<T> limitTrainBatches(int count) {
            limitTrain = count("limitTrainBatches", count);
            return this;
        }

        /** Uses this share (0.0 to 1.0) of the training batches per epoch. */
        public Builder<T> limitTrainBatches(double fraction) {
            limitTrain = fraction("limitTrainBatches", fraction);
            return this;
        }

        /** Uses this many validation batches per run; 0 switches validation off. */
        public Builder<T> limitValBatches(int count) {
            limitVal = count("limitValBatches", count);
            return this;
        }

        /** Uses this share of the validation batches per run. */
        public Builder<T> limitValBatches(double fraction) {
            limitVal = fraction("limitValBatches", fraction);
            return this;
        }

        /** Uses this many test batches. */
        public Builder<T> limitTestBatches(int count) {
            limitTest = count("limitTestBatches", count);
            return this;
        }

        /** Uses this share of the test batches. */
        public Builder<T> limitTestBatches(double fraction) {
            limitTest = fraction("limitTestBatches", fraction);
            return this;
        }

        /** Uses this many prediction batches. */
        public Builder<T> limitPredictBatches(int count) {
            limitPredict = count("limitPredictBatches", count);
            return this;
        }

        /** Uses this share of the prediction batches. */
        public Builder<T> limitPredictBatches(double fraction) {
            limitPredict = fraction("limitPredictBatches", fraction);
            return this;
        }

        /** Trains and validates on this many batches, without shuffling: a check that the model can overfit. */
        public Builder<T> overfitBatches(int count) {
            overfitBatches = count("overfitBatches", count);
            return this;
        }

        /** Trains and validates on this share of the batches, without shuffling. */
        public Builder<T> overfitBatches(double fraction) {
            overfitBatches = fraction("overfitBatches", fraction);
            return this;
        }

        /** Validates every this many training batches (within the epoch, or across epochs without checkValEveryNEpoch). */
        public Builder<T> valCheckInterval(int batches) {
            if (batches < 1) {
                errors.add("valCheckInterval must be at least 1 batch, got " + batches);
            } else {
                valCheckInterval = BatchLimit.count(batches);
            }
            return this;
        }

        /** Validates after each such share of a training epoch (0.25: four times per epoch). */
        public Builder<T> valCheckInterval(double fraction) {
            if (!(fraction > 0.0 && fraction <= 1.0)) {
                if (fraction > 1.0 && fraction == Math.rint(fraction)) {
                    return valCheckInterval((int) fraction);
                }
                errors.add("valCheckInterval must be a fraction within (0.0, 1.0] or a whole number of batches, got "
                        + fraction);
            } else {
                valCheckInterval = BatchLimit.fraction(fraction);
            }
            return this;
        }

        /** Validates every n epochs; null to validate every {@code valCheckInterval} batches across epochs. */
        public Builder<T> checkValEveryNEpoch(Integer value) {
            checkValEveryNEpoch = value;
            return this;
        }

        /** Runs this many validation batches per loader before training, to catch bugs early; -1 for all. */
        public Builder<T> numSanityValSteps(int value) {
            numSanityValSteps = value;
            return this;
        }

        /** Runs 1 training, validation and test batch only, with no logging or checkpointing (or off). */
        public Builder<T> fastDevRun(boolean value) {
            fastDevRun = value ? 1 : 0;
            return this;
        }

        /** Runs this many batches of each loop only, with no logging or checkpointing. */
        public Builder<T> fastDevRun(int batches) {
            fastDevRun = batches;
            if (batches < 0) {
                errors.add("fastDevRun must be true, false or a number of batches >= 0, got " + batches);
            }
            return this;
        }

        /** Sums the gradients of this many batches before each optimizer step. */
        public Builder<T> accumulateGradBatches(int value) {
            accumulateGradBatches = value;
            return this;
        }

        /** Clips gradients to this value (by norm unless {@link #gradientClipAlgorithm} says value). */
        public Builder<T> gradientClipVal(double value) {
            gradientClipVal = value;
            return this;
        }

        /** How gradients are clipped: norm (default) or value. */
        public Builder<T> gradientClipAlgorithm(GradientClipAlgorithm value) {
            gradientClipAlgorithm = Objects.requireNonNull(value, "gradientClipAlgorithm");
            return this;
        }

        /** How gradients are clipped, by Lightning's name: {@code "norm"} or {@code "value"}. */
        public Builder<T> gradientClipAlgorithm(String value) {
            try {
                gradientClipAlgorithm = GradientClipAlgorithm.parse(value);
            } catch (IllegalArgumentException e) {
                errors.add(e.getMessage());
            }
            return this;
        }

        /** Sends training step metrics to the loggers every n optimizer steps (default 50; 0 never). */
        public Builder<T> logEveryNSteps(int value) {
            logEveryNSteps = value;
            return this;
        }

        /** Where logs and checkpoints go when loggers and callbacks do not say (default: the working directory). */
        public Builder<T> defaultRootDir(Path value) {
            defaultRootDir = Objects.requireNonNull(value, "defaultRootDir");
            return this;
        }

        /** Where logs and checkpoints go, as a path string ({@code ~} is expanded). */
        public Builder<T> defaultRootDir(String value) {
            Objects.requireNonNull(value, "defaultRootDir");
            String expanded = value.startsWith("~") ? System.getProperty("user.home") + value.substring(1) : value;
            return defaultRootDir(Paths.get(expanded));
        }

        /** Whether the default logger (CSV, or TensorBoard when available) is used; false for none. */
        public Builder<T> logger(boolean value) {
            logger = value;
            return this;
        }

        /** Uses these loggers instead of the default; the first decides the log folder. */
        public Builder<T> loggers(Logger... values) {
            return loggers(Arrays.asList(values));
        }

        /** Uses these loggers instead of the default. */
        public Builder<T> loggers(List<? extends Logger> values) {
            loggers = new ArrayList<>(values);
            logger = !loggers.isEmpty() || logger;
            return this;
        }

        /** Whether a progress bar is shown (default true). */
        public Builder<T> enableProgressBar(boolean value) {
            enableProgressBar = value;
            return this;
        }

        /** Whether a model summary is printed when fit starts (default true). */
        public Builder<T> enableModelSummary(boolean value) {
            enableModelSummary = value;
            return this;
        }

        /** Whether a checkpoint is saved after each epoch when no ModelCheckpoint is given (default true). */
        public Builder<T> enableCheckpointing(boolean value) {
            enableCheckpointing = value;
            return this;
        }

        /** The hardware to run on: {@code "auto"} (default), {@code "cpu"}, {@code "gpu"} or {@code "cuda"}. */
        public Builder<T> accelerator(String value) {
            accelerator = value == null ? null : value.toLowerCase(Locale.ROOT);
            return this;
        }

        /** The number of devices; -1 for all. */
        public Builder<T> devices(int value) {
            devices = value;
            return this;
        }

        /** The numeric precision: {@code "32-true"} (default). */
        public Builder<T> precision(String value) {
            precision = value;
            return this;
        }

        /** The engine's intra-op thread count (default: the engine's setting). */
        public Builder<T> numThreads(int value) {
            numThreads = value;
            return this;
        }

        /** Asks the engine for deterministic algorithms. */
        public Builder<T> deterministic(boolean value) {
            deterministic = value;
            return this;
        }

        /**
         * Whether float denormals (numbers below about 1.2e-38) are flushed to zero while the Trainer runs, on its
         * thread, the engine's intra-op threads serving it and the loaders' prefetch threads: {@code true} by
         * default, like {@code torch.set_flush_denormal(True)}. Optimizer moments of inputs that are almost always
         * zero decay into denormals, which a CPU computes with many times slower; flushing them changes results only
         * below float's normal range. It also applies to Java {@code float}/{@code double} arithmetic on those
         * threads during the run. Only on Linux with the engine's CPU library; elsewhere it has no effect.
         */
        public Builder<T> flushDenormals(boolean value) {
            flushDenormals = value;
            return this;
        }

        /** Seeds Java and engine random numbers and the loaders' shuffling at the start of each run. */
        public Builder<T> seed(long value) {
            seed = value;
            return this;
        }

        /** Adds callbacks, after those added before. */
        public Builder<T> callbacks(Callback... values) {
            return callbacks(Arrays.asList(values));
        }

        /** Adds callbacks, after those added before. */
        public Builder<T> callbacks(List<? extends Callback> values) {
            for (Callback callback : values) {
                callbacks.add(Objects.requireNonNull(callback, "callbacks must not contain null"));
            }
            return this;
        }

        /** Profiles the run with this profiler. */
        public Builder<T> profiler(Profiler value) {
            profiler = Objects.requireNonNull(value, "profiler");
            return this;
        }

        /**
         * Profiles the run with a new profiler of this name, with its defaults: {@code "simple"}, {@code "advanced"}
         * or {@code "pytorch"} (see {@link Profilers#byName}). An unknown name is reported by {@link #build()}.
         */
        public Builder<T> profiler(String name) {
            try {
                profiler = Profilers.byName(name);
            } catch (IllegalArgumentException e) {
                errors.add(e.getMessage());
            }
            return this;
        }

        /**
         * Validates every flag and builds.
         *
         * @return the configuration, or the Trainer for {@link Trainer#builder()}
         * @throws IllegalArgumentException listing every invalid flag with its value and the valid range
         */
        public T build() {
            List<String> problems = new ArrayList<>(errors);
            if (maxEpochs != null && maxEpochs < -1) {
                problems.add("maxEpochs must be -1 (no limit) or at least 0, got " + maxEpochs);
            }
            if (minEpochs != null && minEpochs < 0) {
                problems.add("minEpochs must be at least 0, got " + minEpochs);
            }
            if (maxSteps < -1) {
                problems.add("maxSteps must be -1 (no limit) or at least 0, got " + maxSteps);
            }
            if (minSteps != null && minSteps < 0) {
                problems.add("minSteps must be at least 0, got " + minSteps);
            }
            if (maxTime != null && (maxTime.isNegative() || maxTime.isZero())) {
                problems.add("maxTime must be a positive duration, got " + maxTime);
            }
            if (maxEpochs != null && minEpochs != null && maxEpochs >= 0 && minEpochs > maxEpochs) {
                problems.add("minEpochs (" + minEpochs + ") must not exceed maxEpochs (" + maxEpochs + ")");
            }
            if (checkValEveryNEpoch != null && checkValEveryNEpoch < 1) {
                problems.add("checkValEveryNEpoch must be at least 1, or null to count batches across epochs, got "
                        + checkValEveryNEpoch);
            }
            if (numSanityValSteps < -1) {
                problems.add("numSanityValSteps must be -1 (all) or at least 0, got " + numSanityValSteps);
            }
            if (accumulateGradBatches < 1) {
                problems.add("accumulateGradBatches must be at least 1, got " + accumulateGradBatches);
            }
            if (gradientClipVal != null && !(gradientClipVal >= 0)) {
                problems.add("gradientClipVal must be at least 0 (0 switches clipping off), got " + gradientClipVal);
            }
            if (logEveryNSteps < 0) {
                problems.add("logEveryNSteps must be at least 0 (0 switches step logging off), got "
                        + logEveryNSteps);
            }
            if (accelerator == null || !ACCELERATORS.contains(accelerator)) {
                problems.add("accelerator must be one of " + ACCELERATORS + ", got '" + accelerator + "'");
            }
            if (devices < -1 || devices == 0) {
                problems.add("devices must be at least 1, or -1 for all devices, got " + devices);
            }
            if (precision == null || !PRECISIONS.contains(precision)) {
                problems.add("precision must be one of " + PRECISIONS + ", got '" + precision + "'");
            }
            if (numThreads != null && numThreads < 1) {
                problems.add("numThreads must be at least 1, got " + numThreads);
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("Invalid Trainer configuration:\n  - " + String.join("\n  - ", problems));
            }
            TrainerConfig config = new TrainerConfig(
                    new Stopping(maxEpochs, minEpochs, maxSteps, minSteps, maxTime),
                    new Batches(limitTrain, limitVal, limitTest, limitPredict, overfitBatches),
                    new Validation(valCheckInterval, checkValEveryNEpoch, numSanityValSteps),
                    new Optimization(accumulateGradBatches, gradientClipVal, gradientClipAlgorithm),
                    new Output(
                            defaultRootDir == null ? Paths.get("").toAbsolutePath() : defaultRootDir,
                            logger,
                            Collections.unmodifiableList(new ArrayList<>(loggers)),
                            logEveryNSteps,
                            enableProgressBar,
                            enableModelSummary,
                            enableCheckpointing),
                    new Hardware(accelerator, devices, precision, numThreads, deterministic, seed, flushDenormals),
                    fastDevRun,
                    Collections.unmodifiableList(new ArrayList<>(callbacks)),
                    profiler);
            return finisher.apply(config);
        }

        private BatchLimit count(String flag, int count) {
            if (count < 0) {
                errors.add(flag + " must be at least 0 batches (0 switches it off), got " + count);
                return BatchLimit.ALL;
            }
            return BatchLimit.count(count);
        }

        private BatchLimit fraction(String flag, double value) {
            try {
                return BatchLimit.ofDouble(flag, value);
            } catch (IllegalArgumentException e) {
                errors.add(e.getMessage());
                return BatchLimit.ALL;
            }
        }

        private Duration parseDuration(String flag, String value) {
            String[] parts = value == null ? new String[0] : value.split(":");
            if (parts.length == 4) {
                try {
                    return Duration.ofDays(Long.parseLong(parts[0]))
                            .plusHours(Long.parseLong(parts[1]))
                            .plusMinutes(Long.parseLong(parts[2]))
                            .plusSeconds(Long.parseLong(parts[3]));
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
            errors.add(flag + " must be \"DD:HH:MM:SS\" (e.g. \"00:12:00:00\"), got '" + value + "'");
            return null;
        }
    }
}
