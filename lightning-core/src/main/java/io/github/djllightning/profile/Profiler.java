package io.github.djllightning.profile;

import java.nio.file.Path;

/**
 * Times what the Trainer does: every hook, step, data fetch and optimizer step is an action between {@link #start}
 * and {@link #stop}. Lightning's {@code Profiler}.
 *
 * <p>Action names follow Lightning's: {@code [LightningModule]LitModel.training_step}, {@code
 * [Callback]ModelCheckpoint.on_train_epoch_end}, {@code run_training_batch}, {@code [TrainingEpochLoop].train_dataloader_next}.
 * {@link #NONE} costs nothing: the Trainer does not even build action names for it.
 */
public interface Profiler {

    /** The profiler that records nothing (the default). */
    Profiler NONE = new Profiler() {
        @Override
        public void start(String action) {}

        @Override
        public void stop(String action) {}

        @Override
        public boolean isEnabled() {
            return false;
        }
    };

    /**
     * Starts timing an action.
     *
     * @param action the action's name
     */
    void start(String action);

    /**
     * Stops timing an action.
     *
     * @param action the action's name, as given to {@link #start}
     */
    void stop(String action);

    /** Whether this profiler records anything; the Trainer skips all profiling work when it does not. */
    default boolean isEnabled() {
        return true;
    }

    /**
     * Called when a stage (fit, validate, test, predict) begins.
     *
     * @param stage the stage's name
     * @param logDir the run's log folder, where reports may go (may be null)
     */
    default void setup(String stage, Path logDir) {}

    /**
     * A report of what was measured, or an empty string.
     *
     * @return the report
     */
    default String summary() {
        return "";
    }

    /**
     * Called when the stage ends: writes or prints the report.
     *
     * @param stage the stage's name
     */
    default void teardown(String stage) {}
}
