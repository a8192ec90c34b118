package io.github.djllightning.log;

import java.nio.file.Path;
import java.util.Map;

/**
 * An experiment logger: receives metrics and hyperparameters from the Trainer and writes them somewhere (a CSV file,
 * TensorBoard event files, a tracking service). Lightning's {@code Logger}.
 *
 * <p>The Trainer calls {@link #logMetrics} on the training thread and {@link #save} right after it; implementations
 * should buffer and write cheaply. The first logger of a Trainer decides {@code trainer.logDir()}, where checkpoints
 * and other run files go.
 */
public interface Logger {

    /** The experiment name, the folder level under the save dir ({@code lightning_logs} by default). */
    String name();

    /**
     * The run's version: a number ({@code "0"}, {@code "1"}, ...) for the {@code version_N} folders, or any string.
     *
     * @return the version; assigning a new number may look at the disk on first call
     */
    String version();

    /** The folder under which all experiments are written (Lightning's {@code save_dir}), or null for none. */
    Path saveDir();

    /** This run's folder, e.g. {@code save_dir/lightning_logs/version_0}, or null when the logger writes no files. */
    Path logDir();

    /**
     * Records metrics at a step.
     *
     * @param metrics metric name to value, in the order they were collected
     * @param step the step on the x-axis
     */
    void logMetrics(Map<String, Double> metrics, long step);

    /**
     * Records the run's hyperparameters.
     *
     * @param params name to value; values are plain (numbers, strings, booleans, lists, maps)
     */
    void logHyperparams(Map<String, Object> params);

    /** Makes what was logged so far durable (flushes buffers to disk). */
    void save();

    /**
     * Ends the run.
     *
     * @param status {@code success}, {@code failed} or {@code finished}
     */
    void finish(String status);

    /** The character that separates groups in metric names (for example {@code DeviceStatsMonitor/cpu}). */
    default String groupSeparator() {
        return "/";
    }

    /**
     * Called after a checkpoint was written, for loggers that upload or index checkpoints.
     *
     * @param checkpointPath the file just written
     */
    default void afterSaveCheckpoint(Path checkpointPath) {}
}
