package io.github.djllightning.callback;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.nio.file.Path;
import java.util.Map;

/**
 * A hook into the Trainer's run: every method is a no-op by default, so a callback overrides only what it needs.
 *
 * <p>Contract. For every hook the Trainer calls the callbacks first, in their order, and then the module's hook of
 * the same name; the one exception is {@link #onTrainEpochEnd}, where callbacks that {@linkplain #monitorsMetrics()
 * monitor metrics} run after the module so they can see what it logged there. Every {@code ...Start} hook has its
 * {@code ...End}, unless an exception ends the run, which is reported to {@link #onException}. Callbacks run on the
 * training thread: they must be fast, must not block, and must not call {@code fit}/{@code validate} of the Trainer
 * that runs them (another Trainer may run, as the tuner callbacks do).
 * An exception thrown by a callback ends the run and is rethrown by the Trainer after {@link #onException}.
 *
 * <p>Nesting of a {@code fit}: setup, onFitStart, [onSanityCheckStart, validation hooks, onSanityCheckEnd],
 * onTrainStart, per epoch (onTrainEpochStart, per batch (onTrainBatchStart, onBeforeZeroGrad, onBeforeBackward,
 * onAfterBackward, onBeforeOptimizerStep, onTrainBatchEnd), validation hooks when due, onTrainEpochEnd), onTrainEnd,
 * onFitEnd, teardown.
 */
public interface Callback {

    /**
     * The key under which this callback's {@link #stateDict()} is stored in a checkpoint. Two callbacks with state
     * must have different keys; include the arguments that identify an instance when several may be used.
     *
     * @return the state key, by default the class's simple name
     */
    default String stateKey() {
        return getClass().getSimpleName();
    }

    /**
     * Whether this callback decides on metrics (as early stopping and checkpointing do); such callbacks run their
     * {@link #onTrainEpochEnd} after the module's, so they see metrics the module logs there.
     *
     * @return true for monitoring callbacks
     */
    default boolean monitorsMetrics() {
        return false;
    }

    /** Fires when fit, validate, test or predict begins, before any data is loaded. */
    default void setup(Trainer trainer, LightningModule module, TrainerFn stage) {}

    /** Fires when fit, validate, test or predict ends normally; after a failure {@link #onException} fires instead. */
    default void teardown(Trainer trainer, LightningModule module, TrainerFn stage) {}

    /** Fires once when fit begins, after the optimizers are configured. */
    default void onFitStart(Trainer trainer, LightningModule module) {}

    /** Fires once when fit ends. */
    default void onFitEnd(Trainer trainer, LightningModule module) {}

    /** Fires before the sanity-check validation batches. */
    default void onSanityCheckStart(Trainer trainer, LightningModule module) {}

    /** Fires after the sanity-check validation batches. */
    default void onSanityCheckEnd(Trainer trainer, LightningModule module) {}

    /** Fires before the first training epoch. */
    default void onTrainStart(Trainer trainer, LightningModule module) {}

    /** Fires after the last training epoch. */
    default void onTrainEnd(Trainer trainer, LightningModule module) {}

    /** Fires at the start of every training epoch. */
    default void onTrainEpochStart(Trainer trainer, LightningModule module) {}

    /** Fires at the end of every training epoch, after validation when validation ran at the epoch's end. */
    default void onTrainEpochEnd(Trainer trainer, LightningModule module) {}

    /** Fires before a training batch is used by {@code trainingStep}. */
    default void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {}

    /**
     * Fires after a training batch, once the optimizer stepped (or accumulated).
     *
     * @param outputs what {@code trainingStep} returned, with the loss under {@code "loss"}; empty when it returned
     *     nothing
     */
    default void onTrainBatchEnd(
            Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {}

    /** Fires when a validation run (also the sanity check) begins. */
    default void onValidationStart(Trainer trainer, LightningModule module) {}

    /** Fires when a validation run ends, after its metrics are computed. */
    default void onValidationEnd(Trainer trainer, LightningModule module) {}

    /** Fires at the start of every validation epoch. */
    default void onValidationEpochStart(Trainer trainer, LightningModule module) {}

    /** Fires at the end of every validation epoch. */
    default void onValidationEpochEnd(Trainer trainer, LightningModule module) {}

    /** Fires before {@code validationStep}. */
    default void onValidationBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Fires after {@code validationStep}, with what it returned. */
    default void onValidationBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Fires when a test run begins. */
    default void onTestStart(Trainer trainer, LightningModule module) {}

    /** Fires when a test run ends. */
    default void onTestEnd(Trainer trainer, LightningModule module) {}

    /** Fires at the start of the test epoch. */
    default void onTestEpochStart(Trainer trainer, LightningModule module) {}

    /** Fires at the end of the test epoch. */
    default void onTestEpochEnd(Trainer trainer, LightningModule module) {}

    /** Fires before {@code testStep}. */
    default void onTestBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Fires after {@code testStep}, with what it returned. */
    default void onTestBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Fires when a predict run begins. */
    default void onPredictStart(Trainer trainer, LightningModule module) {}

    /** Fires when a predict run ends. */
    default void onPredictEnd(Trainer trainer, LightningModule module) {}

    /** Fires at the start of the predict epoch. */
    default void onPredictEpochStart(Trainer trainer, LightningModule module) {}

    /** Fires at the end of the predict epoch. */
    default void onPredictEpochEnd(Trainer trainer, LightningModule module) {}

    /** Fires before {@code predictStep}. */
    default void onPredictBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Fires after {@code predictStep}, with what it returned. */
    default void onPredictBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Fires when the run fails with an exception, before teardown; the exception is rethrown afterwards. */
    default void onException(Trainer trainer, LightningModule module, Throwable exception) {}

    /** Fires before the loss's backward pass; {@link Trainer#skipBackward()} called here cancels that pass. */
    default void onBeforeBackward(Trainer trainer, LightningModule module, NDArray loss) {}

    /** Fires after the backward pass, when the gradients are available. */
    default void onAfterBackward(Trainer trainer, LightningModule module) {}

    /** Fires before the optimizer steps, after gradients are accumulated and before they are clipped. */
    default void onBeforeOptimizerStep(Trainer trainer, LightningModule module, Optimizer optimizer) {}

    /** Fires before the gradients are set to zero. */
    default void onBeforeZeroGrad(Trainer trainer, LightningModule module, Optimizer optimizer) {}

    /** Fires when a checkpoint is being written; the callback may add entries to it. */
    default void onSaveCheckpoint(Trainer trainer, LightningModule module, Checkpoint checkpoint) {}

    /**
     * Fires after a checkpoint file was written completely (by a checkpoint callback, an interrupt or {@link
     * Trainer#saveCheckpoint}), for callbacks that copy, upload or index checkpoints. An exception thrown here ends
     * the run like any callback's, but the file stays written.
     *
     * @param path the file just written
     */
    default void onCheckpointSaved(Trainer trainer, LightningModule module, Path path) {}

    /** Fires when a checkpoint is being restored, before {@link #loadStateDict}. */
    default void onLoadCheckpoint(Trainer trainer, LightningModule module, Checkpoint checkpoint) {}

    /**
     * This callback's state for checkpoints: plain values only (numbers, strings, booleans, lists and maps of them).
     *
     * @return the state; empty for stateless callbacks
     */
    default Map<String, Object> stateDict() {
        return Map.of();
    }

    /** Restores the state produced by {@link #stateDict()}. */
    default void loadStateDict(Map<String, Object> state) {}
}
