package io.github.djllightning.log;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.djllightning.trainer.Hook;
import io.github.djllightning.util.HostScalars;
import io.github.djllightning.util.ScalarCache;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Receives every {@code log(...)} call, applies Lightning's rules for the hook it comes from, keeps the running
 * values on the device, and hands them to the loggers, the progress bar and the callbacks when they need them.
 *
 * <p>Nothing here copies a value to the host during a step: the maps below hold device arrays, which are read only
 * when a logger writes, the progress bar redraws, or someone asks for {@link #callbackMetrics()}.
 */
public final class MetricsConnector {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(MetricsConnector.class);

    /**
     * Step values reach the loggers at once but their files at most this often ({@link Logger#save()}); epoch values,
     * a stop and the end of a run write at once. Saving after every logged step (every 50 batches by default) made
     * each of them wait for a write to the file system.
     */
    static final long SAVE_INTERVAL_NANOS = 1_000_000_000L;

    private NDManager manager;
    private ResultCollection trainResults;
    private ResultCollection evalResults;
    private final Map<String, Object> callbackMetrics = new LinkedHashMap<>();
    private final Map<String, Object> loggedMetrics = new LinkedHashMap<>();
    private final Map<String, Object> progressBarMetrics = new LinkedHashMap<>();
    private List<Logger> loggers = Collections.emptyList();
    private ResultCollection active;
    private Hook hook;
    private Boolean firstLoopIter;
    private int batchSize = 1;
    private Integer dataloaderIdx;
    private boolean warnedCast;
    private boolean savedOnce;
    private long lastSaveNanos;

    /** Creates a connector; {@link #start} gives it the memory of a run. */
    public MetricsConnector() {}

    /**
     * Starts a run: forgets the previous run's metrics and keeps device values in the given manager, which {@link
     * #teardown()} closes.
     *
     * @param runManager a manager on the module's device, owned by the connector until teardown
     */
    public void start(NDManager runManager) {
        this.manager = runManager;
        ScalarCache scalars = new ScalarCache(runManager);
        this.trainResults = new ResultCollection(true, runManager, scalars);
        this.evalResults = new ResultCollection(false, runManager, scalars);
        this.active = trainResults;
        this.hook = null;
        this.firstLoopIter = null;
        this.dataloaderIdx = null;
        this.batchSize = 1;
        this.savedOnce = false;
        resetMetrics();
    }

    /** Sets the loggers that receive {@link #logMetrics}. */
    public void setLoggers(List<Logger> loggers) {
        this.loggers = loggers;
    }

    /** Records which hook runs, for the logging rules. */
    public void setHook(Hook hook) {
        this.hook = hook;
    }

    /** The hook that runs now, or null. */
    public Hook hook() {
        return hook;
    }

    /** Makes the training results the active ones (during training batches and training epoch hooks). */
    public void activateTraining() {
        active = trainResults;
    }

    /** Makes the evaluation results the active ones (during validation or test). */
    public void activateEvaluation() {
        active = evalResults;
    }

    // ------------------------------------------------------------------ log()

    /**
     * Records an array value logged by the module or a callback.
     *
     * @param name the metric name
     * @param value a one-element array
     * @param options how to record it
     */
    public void log(String name, NDArray value, LogOptions options) {
        ResultMetric metric = resolve(name, options);
        if (value.size() != 1) {
            throw new IllegalArgumentException(
                    "log('" + name + "'): the value must be a scalar (one element), got shape " + value.getShape()
                            + ". Reduce it first, e.g. value.mean().");
        }
        int size = options.getBatchSize() != null ? options.getBatchSize() : batchSize;
        if (value.getDataType() == DataType.FLOAT32) {
            metric.update(value, size);
            return;
        }
        if (!warnedCast && !value.getDataType().isFloating()) {
            warnedCast = true;
            LOG.warn("log('{}'): the value is {}, it is recorded as float32.", name, value.getDataType());
        }
        try (NDArray cast = value.toType(DataType.FLOAT32, false)) {
            metric.update(cast, size);
        }
    }

    /**
     * Records a number logged by the module or a callback.
     *
     * @param name the metric name
     * @param value the value
     * @param options how to record it
     */
    public void log(String name, double value, LogOptions options) {
        ResultMetric metric = resolve(name, options);
        metric.update(value, options.getBatchSize() != null ? options.getBatchSize() : batchSize);
    }

    private ResultMetric resolve(String name, LogOptions options) {
        if (hook == null) {
            throw new IllegalStateException(
                    "log('" + name + "') was called outside of a Trainer hook; log from trainingStep,"
                            + " validationStep, testStep or an on...Start/End hook.");
        }
        Hook.LogRule rule = hook.logRule();
        if (!rule.allowed()) {
            throw new IllegalStateException(
                    "You can't log('" + name + "') inside " + hook.lightningName() + ". Log in trainingStep,"
                            + " validationStep, testStep, the batch/epoch hooks or on_train_start.");
        }
        if (name.contains("/dataloader_idx_")) {
            throw new IllegalArgumentException(
                    "log('" + name + "'): names must not contain '/dataloader_idx_', it is added automatically.");
        }
        boolean onStep = options.getOnStep() != null ? options.getOnStep() : rule.defaultOnStep();
        boolean onEpoch = options.getOnEpoch() != null ? options.getOnEpoch() : rule.defaultOnEpoch();
        if (onStep && !rule.onStepAllowed()) {
            throw new IllegalArgumentException(
                    "You can't log('" + name + "', onStep=true) inside " + hook.lightningName()
                            + ": only onStep=false is possible there.");
        }
        if (!onEpoch && !rule.onEpochFalseAllowed()) {
            throw new IllegalArgumentException(
                    "You can't log('" + name + "', onEpoch=false) inside " + hook.lightningName()
                            + ": only onEpoch=true is possible there.");
        }
        if (!onStep && !onEpoch) {
            throw new IllegalArgumentException(
                    "log('" + name + "'): onStep=false and onEpoch=false records nothing; set one of them.");
        }
        return active.metric(hook, name, dataloaderIdx, onStep, onEpoch, options);
    }

    // ------------------------------------------------------------------ loop events

    /**
     * A batch starts: its size weights the epoch means.
     *
     * @param size the number of samples in the batch
     * @param loaderIdx the evaluation loader's index when there are several, else null
     */
    public void onBatchStart(int size, Integer loaderIdx) {
        if (firstLoopIter == null) {
            firstLoopIter = Boolean.TRUE;
        } else if (firstLoopIter) {
            firstLoopIter = Boolean.FALSE;
        }
        batchSize = size;
        dataloaderIdx = loaderIdx;
    }

    /** A batch ended: the step values become visible to callbacks, loggers and the progress bar. */
    public void onBatchEnd() {
        active.collect(true, dataloaderIdx, callbackMetrics, loggedMetrics, progressBarMetrics);
        batchSize = 1;
    }

    /** The last batch of an epoch or evaluation run was processed. */
    public void epochEndReached() {
        firstLoopIter = null;
    }

    /** An epoch ended: its reduced values become visible. */
    public void onEpochEnd() {
        active.collect(false, dataloaderIdx, callbackMetrics, loggedMetrics, progressBarMetrics);
        hook = null;
    }

    /**
     * Sends the training step values to the loggers when due.
     *
     * @param step the x-axis value (Lightning's {@code _batches_that_stepped})
     * @param epoch the current epoch
     */
    public void logTrainStepMetrics(long step, int epoch) {
        Map<String, Object> log = new LinkedHashMap<>();
        active.collect(true, null, null, log, null);
        sendToLoggers(log, step, epoch, false);
    }

    /**
     * Sends the training epoch values to the loggers and starts the next epoch's accumulation.
     *
     * @param step the x-axis value
     * @param epoch the current epoch
     */
    public void logTrainEpochMetrics(long step, int epoch) {
        Map<String, Object> log = new LinkedHashMap<>();
        trainResults.collect(false, null, null, log, null);
        logMetrics(log, step, epoch);
        resetResults();
    }

    /**
     * Makes the evaluation epoch values visible and returns what goes to the loggers; nothing during the sanity
     * check.
     *
     * @param loaderIdx the loader whose values are wanted, or null for those logged at epoch level
     * @param sanity whether this is the sanity check
     * @return the metrics for the loggers
     */
    public Map<String, Object> evalEpochMetrics(Integer loaderIdx, boolean sanity) {
        if (sanity) {
            return new LinkedHashMap<>();
        }
        Map<String, Object> log = new LinkedHashMap<>();
        evalResults.collect(false, loaderIdx, callbackMetrics, log, progressBarMetrics);
        loggedMetrics.putAll(log);
        return log;
    }

    /**
     * Sends the evaluation step values (metrics logged with onStep) to the loggers, on the per-loader batch axis.
     *
     * @param loaderIdx the loader, or null with a single loader
     * @param step the number of batches of that loader seen before this one
     */
    public void logEvalStepMetrics(Integer loaderIdx, long step) {
        Map<String, Object> log = new LinkedHashMap<>();
        evalResults.collect(true, loaderIdx, null, log, null);
        if (!log.isEmpty()) {
            sendToLoggers(log, step, null, false);
        }
    }

    /** Sets the evaluation loader whose metrics are collected (null for epoch-level ones). */
    public void setDataloaderIdx(Integer loaderIdx) {
        dataloaderIdx = loaderIdx;
    }

    /**
     * Converts held values (device arrays or numbers) to numbers.
     *
     * @param values the values
     * @return the same keys with numbers, in the same order
     */
    public Map<String, Double> toNumbers(Map<String, Object> values) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : values.entrySet()) {
            out.put(entry.getKey(), toDouble(entry.getValue()));
        }
        return out;
    }

    /**
     * The training epoch accumulators (the metrics logged per epoch), for a checkpoint written inside an epoch.
     *
     * @return one plain-value entry per metric
     */
    public List<Object> trainingStateDict() {
        return trainResults == null ? List.of() : trainResults.stateDict();
    }

    /**
     * Restores {@link #trainingStateDict()} when a fit resumes inside an epoch.
     *
     * @param state the saved entries
     * @throws IllegalArgumentException naming a malformed entry
     */
    public void loadTrainingStateDict(List<?> state) {
        trainResults.loadStateDict(state);
    }

    /**
     * Checks saved training accumulators before a restore uses them.
     *
     * @param state the saved entries
     * @throws IllegalArgumentException naming a malformed entry
     */
    public static void checkTrainingStateDict(List<?> state) {
        ResultCollection.check(state);
    }

    /** Clears the active results (after an epoch or an evaluation run). */
    public void resetResults() {
        active.reset();
        firstLoopIter = null;
        hook = null;
    }

    /** Forgets all metrics seen so far (before and after a sanity check, at a new run). */
    public void resetMetrics() {
        callbackMetrics.clear();
        loggedMetrics.clear();
        progressBarMetrics.clear();
    }

    /**
     * Sends metrics to every logger, Lightning's {@code log_metrics}: a logged {@code step} metric is the x value,
     * otherwise {@code epoch} is added and the given step is used.
     *
     * @param metrics name to value (NDArrays or numbers)
     * @param step the default x value
     * @param epoch the current epoch
     */
    public void logMetrics(Map<String, Object> metrics, long step, int epoch) {
        sendToLoggers(metrics, step, epoch, true);
    }

    private void sendToLoggers(Map<String, Object> metrics, long step, Integer epoch, boolean saveNow) {
        if (loggers.isEmpty() || metrics.isEmpty()) {
            return;
        }
        loggedMetrics.putAll(metrics);
        Map<String, Double> scalars = toNumbers(metrics);
        long x = step;
        if (epoch != null) {
            Double stepMetric = scalars.remove("step");
            if (stepMetric != null) {
                x = stepMetric.longValue();
            } else {
                scalars.putIfAbsent("epoch", (double) epoch);
            }
        }
        long now = System.nanoTime();
        boolean save = saveNow || !savedOnce || now - lastSaveNanos >= SAVE_INTERVAL_NANOS;
        for (Logger logger : loggers) {
            logger.logMetrics(scalars, x);
            if (save) {
                logger.save();
            }
        }
        if (save) {
            savedOnce = true;
            lastSaveNanos = now;
        }
    }

    // ------------------------------------------------------------------ views

    /**
     * The metrics callbacks can monitor, converted to numbers (reads device values). Like Lightning's {@code
     * callback_metrics}, they are brought up to date on access while a run is on: a callback's {@code
     * onTrainBatchEnd} sees this batch's step values, and a monitoring callback's {@code onTrainEpochEnd} sees the
     * epoch values, including what the module logged in its own {@code onTrainEpochEnd}.
     */
    public Map<String, Double> callbackMetrics() {
        if (manager != null && active != null) {
            active.collect(firstLoopIter != null, dataloaderIdx, callbackMetrics, null, null);
        }
        return toDoubles(callbackMetrics);
    }

    /**
     * Adds values that a callback sends to the loggers itself (a learning rate, for example) to the callback
     * metrics, so that other callbacks can monitor them; they stay until the next reset of the metrics.
     *
     * @param values name to value
     */
    public void putCallbackMetrics(Map<String, Double> values) {
        callbackMetrics.putAll(values);
    }

    /** The metrics sent (or due) to the loggers, converted to numbers. */
    public Map<String, Double> loggedMetrics() {
        return toDoubles(loggedMetrics);
    }

    /** The metrics for the progress bar, converted to numbers. */
    public Map<String, Double> progressBarMetrics() {
        return toDoubles(progressBarMetrics);
    }

    /** Whether any metric is marked for the progress bar (lets the bar skip reading when there is none). */
    public boolean hasProgressBarMetrics() {
        return !progressBarMetrics.isEmpty();
    }

    private static Map<String, Double> toDoubles(Map<String, Object> values) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : values.entrySet()) {
            out.put(entry.getKey(), toDouble(entry.getValue()));
        }
        return out;
    }

    private static double toDouble(Object value) {
        if (value instanceof NDArray) {
            NDArray array = (NDArray) value;
            // every held array is a float32 scalar: read it without creating another array
            return array.isReleased() ? Double.NaN : HostScalars.read(array);
        }
        return ((Number) value).doubleValue();
    }

    /** Turns every held value into a number and frees the run's device arrays; the maps stay readable. */
    public void teardown() {
        freeze(callbackMetrics);
        freeze(loggedMetrics);
        freeze(progressBarMetrics);
        if (manager != null) {
            manager.close();
            manager = null;
        }
        hook = null;
    }

    private static void freeze(Map<String, Object> values) {
        for (Map.Entry<String, Object> entry : values.entrySet()) {
            entry.setValue(toDouble(entry.getValue()));
        }
    }

}
