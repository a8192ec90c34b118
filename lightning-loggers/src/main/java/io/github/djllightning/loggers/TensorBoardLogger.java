package io.github.djllightning.loggers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import io.github.djllightning.checkpoint.ParameterNames;
import io.github.djllightning.log.HparamsYaml;
import io.github.djllightning.log.Logger;
import io.github.djllightning.log.RunFolder;
import io.github.djllightning.module.LightningModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes TensorBoard event files: every metric as a scalar, the hyperparameters for TensorBoard's HPARAMS tab, and
 * weight histograms on request; also {@code hparams.yaml}. Lightning's {@code TensorBoardLogger}, and the Trainer's
 * default logger when this module is on the class path ({@link TensorBoardLoggerProvider}).
 *
 * <pre>{@code
 * Trainer.builder().loggers(TensorBoardLogger.builder(Path.of("logs")).name("mnist").build()).build();
 * // logs/mnist/version_0/events.out.tfevents.<seconds>.<host>.<pid>.<n>, logs/mnist/version_0/hparams.yaml
 * // then: tensorboard --logdir logs
 * }</pre>
 *
 * <p>The run folder is {@code saveDir/name/version_N}, chosen as {@link io.github.djllightning.log.CsvLogger} chooses
 * it: {@code name} null or empty drops that level; without an explicit version, {@code N} is one more than the highest
 * {@code version_<int>} folder present when the version is first asked for.
 *
 * <p>{@link #logMetrics} writes one event per metric, {@code Event{wall_time, step, summary{value{tag,
 * simple_value}}}} (values are stored as 32-bit floats, as TensorBoard keeps them). Events are buffered; {@link #save}
 * hands them to the file, {@link #finish} also forces the file to disk and closes it. Files are only ever appended
 * to: a run that logs into an existing version folder (an explicit version, a resumed run), or that logs again after
 * {@link #finish} (a {@code test} after a {@code fit}), starts a new event file next to the old ones, and TensorBoard
 * shows them as one run.
 *
 * <p>{@link #logHyperparams} writes the hparams plugin's experiment and session-start records (flattened with
 * {@code /}; values other than numbers, booleans and strings are written as text) and, like Lightning with
 * {@code default_hp_metric}, the scalar {@code hp_metric = -1} at step 0 so the HPARAMS tab has a metric column; log the
 * real value under {@code hp_metric} to fill it, or turn this off with {@link Builder#defaultHpMetric(boolean)}.
 * {@link #finish} writes the session-end record with the run's status.
 *
 * <p>Not meant for concurrent use by several loggers on the same version folder.
 */
public final class TensorBoardLogger implements Logger {

    /** The hyperparameters file's name. */
    public static final String HPARAMS_FILE = "hparams.yaml";

    /** The default experiment name. */
    public static final String DEFAULT_NAME = "lightning_logs";

    /** The metric that the HPARAMS tab shows by default. */
    public static final String HP_METRIC = "hp_metric";

    /** The prefix of event file names. */
    public static final String EVENT_FILE_PREFIX = "events.out.tfevents.";

    private static final String PREFIX_JOIN = "-";

    private final RunFolder folder;
    private final String prefix;
    private final boolean defaultHpMetric;
    private final Map<String, Object> hparams = new LinkedHashMap<>();

    private EventFileWriter writer;
    private final List<Path> eventFiles = new ArrayList<>();
    private boolean sessionOpen;

    /**
     * Creates a logger writing to {@code saveDir/lightning_logs/version_N}, with the next free version number.
     *
     * @param saveDir the folder under which experiments are written
     */
    public TensorBoardLogger(Path saveDir) {
        this(builder(saveDir));
    }

    private TensorBoardLogger(Builder builder) {
        this.folder = new RunFolder(builder.saveDir, builder.name, builder.version, builder.numericVersion);
        this.prefix = builder.prefix == null ? "" : builder.prefix;
        this.defaultHpMetric = builder.defaultHpMetric;
    }

    /**
     * A builder of TensorBoard loggers.
     *
     * @param saveDir the folder under which experiments are written
     * @return the builder, with name {@code lightning_logs}, the next free version, no prefix and the default
     *     {@code hp_metric}
     */
    public static Builder builder(Path saveDir) {
        return new Builder(saveDir);
    }

    @Override
    public String name() {
        return folder.name();
    }

    /** {@inheritDoc} Without an explicit version, scans the experiment folder on the first call. */
    @Override
    public String version() {
        return folder.version();
    }

    @Override
    public Path saveDir() {
        return folder.saveDir();
    }

    /** {@inheritDoc} The folder is created on the first write, not here. */
    @Override
    public Path logDir() {
        return folder.logDir();
    }

    /** The metric name prefix (empty for none). */
    public String prefix() {
        return prefix;
    }

    /** The hyperparameters logged so far, merged, in the order they were first logged. */
    public synchronized Map<String, Object> hyperparams() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(hparams));
    }

    /** The event files this logger has created, oldest first (the last one may still be open). */
    public synchronized List<Path> eventFiles() {
        return List.copyOf(eventFiles);
    }

    /** {@inheritDoc} Writes one scalar event per metric (buffered until {@link #save()}). */
    @Override
    public synchronized void logMetrics(Map<String, Double> metrics, long step) {
        double wallTime = now();
        for (Map.Entry<String, Double> entry : metrics.entrySet()) {
            float value = entry.getValue() == null ? Float.NaN : entry.getValue().floatValue();
            write(EventProtos.scalarEvent(wallTime, step, tag(entry.getKey()), value));
        }
    }

    /**
     * {@inheritDoc} Merges into the hyperparameters logged before, rewrites {@code hparams.yaml} at once, and writes
     * the hparams plugin records with {@code hp_metric = -1} at step 0 (unless turned off).
     */
    @Override
    public synchronized void logHyperparams(Map<String, Object> params) {
        logHyperparams(params, defaultHpMetric ? Map.of(HP_METRIC, -1.0) : Map.of());
    }

    /**
     * Records the run's hyperparameters together with metrics for the HPARAMS tab (Lightning's {@code
     * log_hyperparams(params, metrics)}): the metrics are logged as scalars at step 0 and become the tab's columns.
     *
     * @param params name to value; values are plain (numbers, strings, booleans, lists, maps)
     * @param metrics metric name to value; empty writes no hparams plugin records (as in Lightning)
     */
    public synchronized void logHyperparams(Map<String, Object> params, Map<String, Double> metrics) {
        hparams.putAll(params);
        writeHparamsYaml();
        if (metrics.isEmpty()) {
            return;
        }
        logMetrics(metrics, 0);
        Map<String, Object> flat = new LinkedHashMap<>();
        flatten("", hparams, flat);
        List<String> metricTags = new ArrayList<>();
        for (String metric : metrics.keySet()) {
            metricTags.add(tag(metric));
        }
        double wallTime = now();
        write(EventProtos.summaryEvent(wallTime, 0, List.of(EventProtos.experimentValue(flat, metricTags, wallTime))));
        write(EventProtos.summaryEvent(wallTime, 0, List.of(EventProtos.sessionStartValue(flat, wallTime))));
        sessionOpen = true;
    }

    /**
     * Writes a histogram of every parameter of a module, tagged with its PyTorch-style name ({@code encoder.0.weight},
     * prefixed when a prefix is set). Parameters not created yet are skipped. Copies the weights to the host.
     *
     * @param module the module
     * @param step the step on the x-axis, typically {@code trainer.globalStep()}
     */
    public synchronized void logHistograms(LightningModule module, long step) {
        for (Map.Entry<String, Parameter> entry : ParameterNames.of(module).entrySet()) {
            Parameter parameter = entry.getValue();
            if (parameter.isInitialized()) {
                logHistogram(entry.getKey(), hostValues(parameter.getArray()), step);
            }
        }
    }

    /**
     * Writes a histogram of values.
     *
     * @param tag the name TensorBoard shows (prefixed when a prefix is set)
     * @param values the values; NaN and infinite ones are left out
     * @param step the step on the x-axis
     */
    public synchronized void logHistogram(String tag, float[] values, long step) {
        write(EventProtos.summaryEvent(now(), step,
                List.of(EventProtos.histogramValue(tag(tag), Histogram.of(values)))));
    }

    /** {@inheritDoc} Hands the buffered events to the event file. */
    @Override
    public synchronized void save() {
        if (writer != null) {
            try {
                writer.flush();
            } catch (IOException e) {
                throw failure(writer.file(), e);
            }
        }
    }

    /**
     * {@inheritDoc} Writes the hparams session-end record (success for {@code success} and {@code finished}, failure
     * for {@code failed}), forces the event file to disk and closes it; logging afterwards starts a new file.
     */
    @Override
    public synchronized void finish(String status) {
        if (writer == null) {
            return;
        }
        if (sessionOpen) {
            int code = "failed".equals(status) ? EventProtos.STATUS_FAILURE : EventProtos.STATUS_SUCCESS;
            double wallTime = now();
            write(EventProtos.summaryEvent(wallTime, 0, List.of(EventProtos.sessionEndValue(code, wallTime))));
            sessionOpen = false;
        }
        EventFileWriter closing = writer;
        writer = null;
        try {
            closing.close();
        } catch (IOException e) {
            throw failure(closing.file(), e);
        }
    }

    @Override
    public String toString() {
        return "TensorBoardLogger(" + folder + ")";
    }

    // ------------------------------------------------------------------ events

    private String tag(String metric) {
        return prefix.isEmpty() ? metric : prefix + PREFIX_JOIN + metric;
    }

    private void write(byte[] event) {
        try {
            if (writer == null) {
                writer = EventFileWriter.create(logDir());
                eventFiles.add(writer.file());
            }
            writer.write(event);
        } catch (IOException e) {
            throw failure(writer != null ? writer.file() : logDir(), e);
        }
    }

    private static UncheckedIOException failure(Path file, IOException e) {
        return new UncheckedIOException("TensorBoardLogger could not write " + file + ": " + e.getMessage(), e);
    }

    private static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    private static float[] hostValues(NDArray array) {
        if (array.getDataType() == DataType.FLOAT32) {
            return array.toFloatArray();
        }
        try (NDArray converted = array.toType(DataType.FLOAT32, true)) {
            return converted.toFloatArray();
        }
    }

    // ------------------------------------------------------------------ hyperparameters

    private void writeHparamsYaml() {
        Path file = logDir().resolve(HPARAMS_FILE);
        try {
            HparamsYaml.write(file, hparams);
        } catch (IOException e) {
            throw failure(file, e);
        }
    }

    /** Nested maps become {@code outer/inner} keys; values TensorBoard cannot hold become their text. */
    private static void flatten(String prefix, Map<?, ?> params, Map<String, Object> out) {
        for (Map.Entry<?, ?> entry : params.entrySet()) {
            String key = prefix + entry.getKey();
            Object value = entry.getValue();
            if (value instanceof Map<?, ?> nested && !nested.isEmpty()) {
                flatten(key + "/", nested, out);
            } else if (value instanceof Boolean || value instanceof String) {
                out.put(key, value);
            } else if (value instanceof Number number && !(value instanceof java.math.BigDecimal)
                    && !(value instanceof java.math.BigInteger)) {
                out.put(key, number.doubleValue());
            } else {
                out.put(key, String.valueOf(value));
            }
        }
    }


    /** Configures a {@link TensorBoardLogger}. */
    public static final class Builder {

        private final Path saveDir;
        private String name = DEFAULT_NAME;
        private String version;
        private boolean numericVersion;
        private String prefix = "";
        private boolean defaultHpMetric = true;

        private Builder(Path saveDir) {
            this.saveDir = Objects.requireNonNull(saveDir,
                    "TensorBoardLogger needs a saveDir (the folder for its runs)");
        }

        /**
         * Sets the experiment name, the folder level under the save dir.
         *
         * @param value the name; null or empty writes the version folders straight into the save dir
         * @return this builder
         */
        public Builder name(String value) {
            name = value;
            return this;
        }

        /**
         * Writes into {@code version_<value>}, adding a new event file next to those already there.
         *
         * @param value the version number, at least 0
         * @return this builder
         */
        public Builder version(int value) {
            if (value < 0) {
                throw new IllegalArgumentException("TensorBoardLogger version must be at least 0, got " + value
                        + "; leave it unset for the next free number.");
            }
            version = Integer.toString(value);
            numericVersion = true;
            return this;
        }

        /**
         * Writes into a folder of this name (instead of {@code version_N}), adding a new event file next to those
         * already there.
         *
         * @param value the folder name; null for the next free number
         * @return this builder
         */
        public Builder version(String value) {
            if (value != null && (value.isEmpty() || value.contains("/") || value.contains("\\"))) {
                throw new IllegalArgumentException("TensorBoardLogger version must be a non-empty folder name"
                        + " without separators, got '" + value + "'.");
            }
            version = value;
            numericVersion = false;
            return this;
        }

        /**
         * Sets a prefix for metric and histogram names: {@code train_loss} is written as {@code <prefix>-train_loss}.
         *
         * @param value the prefix; empty for none
         * @return this builder
         */
        public Builder prefix(String value) {
            prefix = value;
            return this;
        }

        /**
         * Whether {@link TensorBoardLogger#logHyperparams(Map)} also logs {@code hp_metric = -1} at step 0, so that the
         * HPARAMS tab shows the run (Lightning's {@code default_hp_metric}, on by default).
         *
         * @param value false to log hyperparameters to {@code hparams.yaml} only
         * @return this builder
         */
        public Builder defaultHpMetric(boolean value) {
            defaultHpMetric = value;
            return this;
        }

        /**
         * Creates the logger; nothing is written until something is logged.
         *
         * @return the logger
         */
        public TensorBoardLogger build() {
            return new TensorBoardLogger(this);
        }
    }
}
