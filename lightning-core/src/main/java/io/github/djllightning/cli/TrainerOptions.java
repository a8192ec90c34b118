package io.github.djllightning.cli;

import io.github.djllightning.trainer.BatchLimit;
import io.github.djllightning.trainer.TrainerConfig;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The {@code --trainer.*} options: every value flag of {@link TrainerConfig.Builder} under Lightning's snake_case
 * name, how to read its value from a configuration and how to set it on a builder. Callbacks, loggers and the profiler
 * are objects, not values; give them through {@link LightningCLI.Builder#trainerDefaults}.
 */
final class TrainerOptions {

    /** The builder methods that take objects rather than values, so have no option. */
    static final List<String> NOT_OPTIONS = List.of("callbacks", "loggers", "profiler", "build");

    /**
     * The options for which null is a setting of its own rather than "the default" (null validates by batch count
     * across epochs); for the others a null value leaves the base configuration's value.
     */
    static final Set<String> NULL_IS_A_VALUE = Set.of("check_val_every_n_epoch");

    /** The accelerators {@link TrainerConfig.Builder#accelerator} accepts. */
    static final List<String> ACCELERATORS = List.of("auto", "cpu", "gpu", "cuda", "mps", "tpu");

    /** The precisions {@link TrainerConfig.Builder#precision} accepts. */
    static final List<String> PRECISIONS =
            List.of("32-true", "32", "64-true", "64", "16-mixed", "16", "bf16-mixed", "bf16", "16-true", "bf16-true");

    /**
     * One trainer option.
     *
     * @param name the snake_case name
     * @param builderMethod the builder's method that sets it
     * @param type the value's type
     * @param get reads the canonical value from a configuration
     * @param set applies a non-null canonical value to a builder
     * @param help one line for the help
     */
    record Entry(
            String name,
            String builderMethod,
            ValueType type,
            Function<TrainerConfig, Object> get,
            BiConsumer<TrainerConfig.Builder<?>, Object> set,
            String help) {}

    static final List<Entry> ENTRIES = List.of(
            new Entry("max_epochs", "maxEpochs", ValueType.INT.nullable(), c -> c.stopping().maxEpochs(),
                    (b, v) -> b.maxEpochs((Integer) v), "stop after this many epochs (-1: no limit; null: 1000"
                            + " unless max_steps or max_time)"),
            new Entry("min_epochs", "minEpochs", ValueType.INT.nullable(), c -> c.stopping().minEpochs(),
                    (b, v) -> b.minEpochs((Integer) v), "train at least this many epochs"),
            new Entry("max_steps", "maxSteps", ValueType.LONG, c -> c.stopping().maxSteps(),
                    (b, v) -> b.maxSteps((Long) v), "stop after this many optimizer steps (-1: no limit)"),
            new Entry("min_steps", "minSteps", ValueType.LONG.nullable(), c -> c.stopping().minSteps(),
                    (b, v) -> b.minSteps((Long) v), "train at least this many optimizer steps"),
            new Entry("max_time", "maxTime", ValueType.DURATION.nullable(),
                    c -> formatDuration(c.stopping().maxTime()), (b, v) -> b.maxTime((String) v),
                    "stop training after this wall-clock time"),
            batches("limit_train_batches", "limitTrainBatches", c -> c.batches().limitTrain(),
                    "training batches per epoch (int) or share of them (fraction)"),
            batches("limit_val_batches", "limitValBatches", c -> c.batches().limitVal(),
                    "validation batches per run or share of them (0 switches validation off)"),
            batches("limit_test_batches", "limitTestBatches", c -> c.batches().limitTest(),
                    "test batches or share of them"),
            batches("limit_predict_batches", "limitPredictBatches", c -> c.batches().limitPredict(),
                    "prediction batches or share of them"),
            batches("overfit_batches", "overfitBatches", c -> c.batches().overfitBatches(),
                    "train and validate on this many batches (or share), without shuffling"),
            batches("val_check_interval", "valCheckInterval", c -> c.validation().valCheckInterval(),
                    "validate every this many training batches (int) or share of an epoch (fraction)"),
            new Entry("check_val_every_n_epoch", "checkValEveryNEpoch", ValueType.INT.nullable(),
                    c -> c.validation().checkValEveryNEpoch(), (b, v) -> b.checkValEveryNEpoch((Integer) v),
                    "validate every n epochs (null: count val_check_interval across epochs)"),
            new Entry("num_sanity_val_steps", "numSanityValSteps", ValueType.INT,
                    c -> c.validation().numSanityValSteps(), (b, v) -> b.numSanityValSteps((Integer) v),
                    "validation batches run before training (-1: all)"),
            new Entry("accumulate_grad_batches", "accumulateGradBatches", ValueType.INT,
                    c -> c.optimization().accumulateGradBatches(), (b, v) -> b.accumulateGradBatches((Integer) v),
                    "sum the gradients of this many batches per optimizer step"),
            new Entry("gradient_clip_val", "gradientClipVal", ValueType.DOUBLE.nullable(),
                    c -> c.optimization().gradientClipVal(), (b, v) -> b.gradientClipVal((Double) v),
                    "clip gradients to this value (null: no clipping)"),
            new Entry("gradient_clip_algorithm", "gradientClipAlgorithm", ValueType.oneOf(List.of("norm", "value")),
                    c -> c.optimization().gradientClipAlgorithm().toString(),
                    (b, v) -> b.gradientClipAlgorithm((String) v), "how gradients are clipped"),
            new Entry("default_root_dir", "defaultRootDir", ValueType.STRING.nullable(), TrainerOptions::rootDir,
                    (b, v) -> b.defaultRootDir((String) v),
                    "folder of logs and checkpoints (null: the working directory)"),
            new Entry("logger", "logger", ValueType.BOOLEAN, c -> c.output().logger(),
                    (b, v) -> b.logger((Boolean) v), "use the default logger (false: no logging)"),
            new Entry("log_every_n_steps", "logEveryNSteps", ValueType.INT, c -> c.output().logEveryNSteps(),
                    (b, v) -> b.logEveryNSteps((Integer) v), "log training step metrics every n optimizer steps"),
            new Entry("enable_progress_bar", "enableProgressBar", ValueType.BOOLEAN,
                    c -> c.output().enableProgressBar(), (b, v) -> b.enableProgressBar((Boolean) v),
                    "show a progress bar"),
            new Entry("enable_model_summary", "enableModelSummary", ValueType.BOOLEAN,
                    c -> c.output().enableModelSummary(), (b, v) -> b.enableModelSummary((Boolean) v),
                    "print a model summary when fit starts"),
            new Entry("enable_checkpointing", "enableCheckpointing", ValueType.BOOLEAN,
                    c -> c.output().enableCheckpointing(), (b, v) -> b.enableCheckpointing((Boolean) v),
                    "save a checkpoint after each epoch"),
            new Entry("accelerator", "accelerator", ValueType.oneOf(ACCELERATORS), c -> c.hardware().accelerator(),
                    (b, v) -> b.accelerator((String) v), "the hardware to run on"),
            new Entry("devices", "devices", ValueType.INT, c -> c.hardware().devices(),
                    (b, v) -> b.devices((Integer) v), "the number of devices (-1: all)"),
            new Entry("precision", "precision", ValueType.oneOf(PRECISIONS), c -> c.hardware().precision(),
                    (b, v) -> b.precision((String) v), "the numeric precision"),
            new Entry("num_threads", "numThreads", ValueType.INT.nullable(), c -> c.hardware().numThreads(),
                    (b, v) -> b.numThreads((Integer) v), "the engine's intra-op threads (null: the engine's)"),
            new Entry("deterministic", "deterministic", ValueType.BOOLEAN, c -> c.hardware().deterministic(),
                    (b, v) -> b.deterministic((Boolean) v), "ask the engine for deterministic algorithms"),
            new Entry("flush_denormals", "flushDenormals", ValueType.BOOLEAN, c -> c.hardware().flushDenormals(),
                    (b, v) -> b.flushDenormals((Boolean) v), "flush float denormals to zero while training"),
            new Entry("seed", "seed", ValueType.LONG.nullable(), c -> c.hardware().seed(),
                    (b, v) -> b.seed((Long) v), "seed Java and engine random numbers and shuffling"),
            new Entry("fast_dev_run", "fastDevRun", ValueType.BOOLEAN_OR_INT,
                    c -> c.fastDevRun() == 0 ? (Object) Boolean.FALSE : (Object) c.fastDevRun(),
                    (b, v) -> {
                        if (v instanceof Boolean) {
                            b.fastDevRun((Boolean) v);
                        } else {
                            b.fastDevRun((Integer) v);
                        }
                    }, "run this many batches (true: 1) of each loop, without logging or checkpoints"));

    private TrainerOptions() {}

    private static Entry batches(String name, String method, Function<TrainerConfig, BatchLimit> get, String help) {
        return new Entry(name, method, ValueType.BATCHES, c -> batchValue(get.apply(c)), (b, v) -> {
            if (v instanceof Double) {
                setBatches(b, method, (Double) v);
            } else {
                setBatches(b, method, (Integer) v);
            }
        }, help);
    }

    private static void setBatches(TrainerConfig.Builder<?> b, String method, double fraction) {
        switch (method) {
            case "limitTrainBatches" -> b.limitTrainBatches(fraction);
            case "limitValBatches" -> b.limitValBatches(fraction);
            case "limitTestBatches" -> b.limitTestBatches(fraction);
            case "limitPredictBatches" -> b.limitPredictBatches(fraction);
            case "overfitBatches" -> b.overfitBatches(fraction);
            default -> b.valCheckInterval(fraction);
        }
    }

    private static void setBatches(TrainerConfig.Builder<?> b, String method, int count) {
        switch (method) {
            case "limitTrainBatches" -> b.limitTrainBatches(count);
            case "limitValBatches" -> b.limitValBatches(count);
            case "limitTestBatches" -> b.limitTestBatches(count);
            case "limitPredictBatches" -> b.limitPredictBatches(count);
            case "overfitBatches" -> b.overfitBatches(count);
            default -> b.valCheckInterval(count);
        }
    }

    private static Object batchValue(BatchLimit limit) {
        return limit.isFraction() ? (Object) limit.share() : (Object) (int) limit.count();
    }

    private static String formatDuration(Duration d) {
        if (d == null) {
            return null;
        }
        long s = d.getSeconds();
        return String.format("%02d:%02d:%02d:%02d", s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    }

    /** The root folder, or null when it is the working directory (so a saved config is not tied to it). */
    private static Object rootDir(TrainerConfig c) {
        Path root = c.output().defaultRootDir();
        return root.equals(Paths.get("").toAbsolutePath()) ? null : root.toString();
    }

    /**
     * The options with the defaults of a base configuration.
     *
     * @param base the configuration the flags and files change
     * @return the options, in table order
     */
    static List<Option> options(TrainerConfig base) {
        List<Option> out = new ArrayList<>();
        for (Entry e : ENTRIES) {
            out.add(new Option("trainer." + e.name(), e.type(), e.get().apply(base), false, e.help()));
        }
        return out;
    }

    /**
     * Builds the configuration: the base with every non-null value applied (and the nulls of {@link
     * #NULL_IS_A_VALUE}).
     *
     * @param base the base configuration (its callbacks, loggers and profiler are kept)
     * @param values option name to canonical value
     * @return the configuration
     * @throws CliException when the builder rejects a value, naming the flags
     */
    static TrainerConfig build(TrainerConfig base, Map<String, Object> values) {
        TrainerConfig.Builder<TrainerConfig> builder = base.toBuilder();
        for (Entry e : ENTRIES) {
            Object value = values.get(e.name());
            if (value != null || NULL_IS_A_VALUE.contains(e.name())) {
                e.set().accept(builder, value);
            }
        }
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw CliException.usage(flagNames(e.getMessage()));
        }
    }

    /** Rewrites the builder's method names in a message as the flags the user typed. */
    static String flagNames(String message) {
        Map<String, String> names = new LinkedHashMap<>();
        for (Entry e : ENTRIES) {
            names.put(e.builderMethod(), "--trainer." + e.name());
        }
        String out = message;
        for (Map.Entry<String, String> n : names.entrySet()) {
            out = out.replaceAll("\\b" + n.getKey() + "\\b", n.getValue());
        }
        return out.replace("Invalid Trainer configuration", "Invalid trainer options");
    }
}
