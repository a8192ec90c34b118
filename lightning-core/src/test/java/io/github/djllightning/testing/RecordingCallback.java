package io.github.djllightning.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Appends every hook call to a list, with the Trainer's epoch, step and stage at that moment. */
public class RecordingCallback implements Callback {

    private final List<Event> events;

    /** Records into a list of its own. */
    public RecordingCallback() {
        this(new ArrayList<>());
    }

    /**
     * Records into a shared list (so a module's steps interleave with the hooks).
     *
     * @param events the list
     */
    public RecordingCallback(List<Event> events) {
        this.events = events;
    }

    /** The events so far. */
    public List<Event> events() {
        return events;
    }

    /** The event names so far. */
    public List<String> names() {
        return events.stream().map(Event::event).toList();
    }

    /**
     * Records an event.
     *
     * @param events the list to append to
     * @param trainer the Trainer
     * @param name the event's name
     * @param batchIdx the batch index or null
     * @param arg the setup/teardown stage or null
     */
    public static void record(List<Event> events, Trainer trainer, String name, Integer batchIdx, String arg) {
        events.add(new Event(name, trainer.currentEpoch(), trainer.globalStep(),
                trainer.stage() == null ? null : trainer.stage().toString(), batchIdx, arg));
    }

    private void add(Trainer trainer, String name) {
        record(events, trainer, name, null, null);
    }

    private void add(Trainer trainer, String name, int batchIdx) {
        record(events, trainer, name, batchIdx, null);
    }

    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        record(events, trainer, "setup", null, stage.toString());
    }

    @Override
    public void teardown(Trainer trainer, LightningModule module, TrainerFn stage) {
        record(events, trainer, "teardown", null, stage.toString());
    }

    @Override
    public void onFitStart(Trainer trainer, LightningModule module) {
        add(trainer, "on_fit_start");
    }

    @Override
    public void onFitEnd(Trainer trainer, LightningModule module) {
        add(trainer, "on_fit_end");
    }

    @Override
    public void onSanityCheckStart(Trainer trainer, LightningModule module) {
        add(trainer, "on_sanity_check_start");
    }

    @Override
    public void onSanityCheckEnd(Trainer trainer, LightningModule module) {
        add(trainer, "on_sanity_check_end");
    }

    @Override
    public void onTrainStart(Trainer trainer, LightningModule module) {
        add(trainer, "on_train_start");
    }

    @Override
    public void onTrainEnd(Trainer trainer, LightningModule module) {
        add(trainer, "on_train_end");
    }

    @Override
    public void onTrainEpochStart(Trainer trainer, LightningModule module) {
        add(trainer, "on_train_epoch_start");
    }

    @Override
    public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
        add(trainer, "on_train_epoch_end");
    }

    @Override
    public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
        add(trainer, "on_train_batch_start", batchIdx);
    }

    @Override
    public void onTrainBatchEnd(
            Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
        add(trainer, "on_train_batch_end", batchIdx);
    }

    @Override
    public void onValidationStart(Trainer trainer, LightningModule module) {
        add(trainer, "on_validation_start");
    }

    @Override
    public void onValidationEnd(Trainer trainer, LightningModule module) {
        add(trainer, "on_validation_end");
    }

    @Override
    public void onValidationEpochStart(Trainer trainer, LightningModule module) {
        add(trainer, "on_validation_epoch_start");
    }

    @Override
    public void onValidationEpochEnd(Trainer trainer, LightningModule module) {
        add(trainer, "on_validation_epoch_end");
    }

    @Override
    public void onValidationBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {
        add(trainer, "on_validation_batch_start", batchIdx);
    }

    @Override
    public void onValidationBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        add(trainer, "on_validation_batch_end", batchIdx);
    }

    @Override
    public void onTestStart(Trainer trainer, LightningModule module) {
        add(trainer, "on_test_start");
    }

    @Override
    public void onTestEnd(Trainer trainer, LightningModule module) {
        add(trainer, "on_test_end");
    }

    @Override
    public void onTestEpochStart(Trainer trainer, LightningModule module) {
        add(trainer, "on_test_epoch_start");
    }

    @Override
    public void onTestEpochEnd(Trainer trainer, LightningModule module) {
        add(trainer, "on_test_epoch_end");
    }

    @Override
    public void onTestBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {
        add(trainer, "on_test_batch_start", batchIdx);
    }

    @Override
    public void onTestBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        add(trainer, "on_test_batch_end", batchIdx);
    }

    @Override
    public void onPredictStart(Trainer trainer, LightningModule module) {
        add(trainer, "on_predict_start");
    }

    @Override
    public void onPredictEnd(Trainer trainer, LightningModule module) {
        add(trainer, "on_predict_end");
    }

    @Override
    public void onPredictEpochStart(Trainer trainer, LightningModule module) {
        add(trainer, "on_predict_epoch_start");
    }

    @Override
    public void onPredictEpochEnd(Trainer trainer, LightningModule module) {
        add(trainer, "on_predict_epoch_end");
    }

    @Override
    public void onPredictBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {
        add(trainer, "on_predict_batch_start", batchIdx);
    }

    @Override
    public void onPredictBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        add(trainer, "on_predict_batch_end", batchIdx);
    }

    @Override
    public void onException(Trainer trainer, LightningModule module, Throwable exception) {
        add(trainer, "on_exception");
    }

    @Override
    public void onBeforeBackward(Trainer trainer, LightningModule module, NDArray loss) {
        add(trainer, "on_before_backward");
    }

    @Override
    public void onAfterBackward(Trainer trainer, LightningModule module) {
        add(trainer, "on_after_backward");
    }

    @Override
    public void onBeforeOptimizerStep(Trainer trainer, LightningModule module, Optimizer optimizer) {
        add(trainer, "on_before_optimizer_step");
    }

    @Override
    public void onBeforeZeroGrad(Trainer trainer, LightningModule module, Optimizer optimizer) {
        add(trainer, "on_before_zero_grad");
    }

    @Override
    public void onSaveCheckpoint(Trainer trainer, LightningModule module, Checkpoint checkpoint) {
        add(trainer, "on_save_checkpoint");
    }

    @Override
    public void onLoadCheckpoint(Trainer trainer, LightningModule module, Checkpoint checkpoint) {
        add(trainer, "on_load_checkpoint");
    }
}
