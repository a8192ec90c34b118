package io.github.djllightning.testing;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.optim.LrScheduler;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.trainer.GradientClipAlgorithm;
import io.github.djllightning.trainer.TrainerFn;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@link BoringModule} that also records every module hook the Trainer calls, as {@code module:<lightning name>},
 * into the list a {@link RecordingCallback} writes to, so callback and module hooks of the same name can be told
 * apart and their interleaving checked. The steps keep BoringModule's names ({@code training_step}, ...).
 *
 * <p>It overrides no {@code *Dataloader} hook: which data a run has is decided by the test.
 */
public class RecordingModule extends BoringModule {

    /** The prefix of module hook events. */
    public static final String PREFIX = "module:";

    /** A module recording into a list of its own. */
    public RecordingModule() {
        this(new ArrayList<>());
    }

    /**
     * A module recording into a shared list.
     *
     * @param events the list
     */
    public RecordingModule(List<Event> events) {
        super(events);
    }

    private void hook(String name) {
        RecordingCallback.record(events(), getTrainer(), PREFIX + name, null, null);
    }

    private void hook(String name, int batchIdx) {
        RecordingCallback.record(events(), getTrainer(), PREFIX + name, batchIdx, null);
    }

    private void stageHook(String name, TrainerFn stage) {
        RecordingCallback.record(events(), getTrainer(), PREFIX + name, null, stage.toString());
    }

    @Override
    public List<Callback> configureCallbacks() {
        // called before the run starts: the Trainer may not be attached yet, so no counters
        events().add(new Event(PREFIX + "configure_callbacks", 0, 0, null, null, null));
        return super.configureCallbacks();
    }

    @Override
    public void prepareData() {
        hook("prepare_data");
    }

    @Override
    public void setup(TrainerFn stage) {
        stageHook("setup", stage);
    }

    @Override
    public void teardown(TrainerFn stage) {
        stageHook("teardown", stage);
    }

    @Override
    public void configureModel() {
        hook("configure_model");
    }

    @Override
    public OptimizerConfig configureOptimizers() {
        hook("configure_optimizers");
        return super.configureOptimizers();
    }

    @Override
    public Batch onBeforeBatchTransfer(Batch batch, int dataloaderIdx) {
        hook("on_before_batch_transfer");
        return super.onBeforeBatchTransfer(batch, dataloaderIdx);
    }

    @Override
    public Batch transferBatchToDevice(Batch batch, Device device, int dataloaderIdx) {
        hook("transfer_batch_to_device");
        return super.transferBatchToDevice(batch, device, dataloaderIdx);
    }

    @Override
    public Batch onAfterBatchTransfer(Batch batch, int dataloaderIdx) {
        hook("on_after_batch_transfer");
        return super.onAfterBatchTransfer(batch, dataloaderIdx);
    }

    @Override
    public void onFitStart() {
        hook("on_fit_start");
    }

    @Override
    public void onFitEnd() {
        hook("on_fit_end");
    }

    @Override
    public void onTrainStart() {
        hook("on_train_start");
    }

    @Override
    public void onTrainEnd() {
        hook("on_train_end");
    }

    @Override
    public void onTrainEpochStart() {
        hook("on_train_epoch_start");
    }

    @Override
    public void onTrainEpochEnd() {
        hook("on_train_epoch_end");
    }

    @Override
    public int onTrainBatchStart(Batch batch, int batchIdx) {
        hook("on_train_batch_start", batchIdx);
        return super.onTrainBatchStart(batch, batchIdx);
    }

    @Override
    public void onTrainBatchEnd(Map<String, Object> outputs, Batch batch, int batchIdx) {
        hook("on_train_batch_end", batchIdx);
    }

    @Override
    public void onValidationStart() {
        hook("on_validation_start");
    }

    @Override
    public void onValidationEnd() {
        hook("on_validation_end");
    }

    @Override
    public void onValidationEpochStart() {
        hook("on_validation_epoch_start");
    }

    @Override
    public void onValidationEpochEnd() {
        hook("on_validation_epoch_end");
        super.onValidationEpochEnd();
    }

    @Override
    public void onValidationBatchStart(Batch batch, int batchIdx, int dataloaderIdx) {
        hook("on_validation_batch_start", batchIdx);
    }

    @Override
    public void onValidationBatchEnd(Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        hook("on_validation_batch_end", batchIdx);
    }

    @Override
    public void onValidationModelEval() {
        hook("on_validation_model_eval");
        super.onValidationModelEval();
    }

    @Override
    public void onValidationModelTrain() {
        hook("on_validation_model_train");
        super.onValidationModelTrain();
    }

    @Override
    public void onValidationModelZeroGrad() {
        hook("on_validation_model_zero_grad");
    }

    @Override
    public void onTestStart() {
        hook("on_test_start");
    }

    @Override
    public void onTestEnd() {
        hook("on_test_end");
    }

    @Override
    public void onTestEpochStart() {
        hook("on_test_epoch_start");
    }

    @Override
    public void onTestEpochEnd() {
        hook("on_test_epoch_end");
    }

    @Override
    public void onTestBatchStart(Batch batch, int batchIdx, int dataloaderIdx) {
        hook("on_test_batch_start", batchIdx);
    }

    @Override
    public void onTestBatchEnd(Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        hook("on_test_batch_end", batchIdx);
    }

    @Override
    public void onTestModelEval() {
        hook("on_test_model_eval");
        super.onTestModelEval();
    }

    @Override
    public void onTestModelTrain() {
        hook("on_test_model_train");
        super.onTestModelTrain();
    }

    @Override
    public void onPredictStart() {
        hook("on_predict_start");
    }

    @Override
    public void onPredictEnd() {
        hook("on_predict_end");
    }

    @Override
    public void onPredictEpochStart() {
        hook("on_predict_epoch_start");
    }

    @Override
    public void onPredictEpochEnd() {
        hook("on_predict_epoch_end");
    }

    @Override
    public void onPredictBatchStart(Batch batch, int batchIdx, int dataloaderIdx) {
        hook("on_predict_batch_start", batchIdx);
    }

    @Override
    public void onPredictBatchEnd(Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        hook("on_predict_batch_end", batchIdx);
    }

    @Override
    public void onPredictModelEval() {
        hook("on_predict_model_eval");
        super.onPredictModelEval();
    }

    @Override
    public void onBeforeBackward(NDArray loss) {
        hook("on_before_backward");
    }

    @Override
    public void backward(NDArray loss) {
        hook("backward");
        super.backward(loss);
    }

    @Override
    public void onAfterBackward() {
        hook("on_after_backward");
    }

    @Override
    public void onBeforeOptimizerStep(Optimizer optimizer) {
        hook("on_before_optimizer_step");
    }

    @Override
    public void onBeforeZeroGrad(Optimizer optimizer) {
        hook("on_before_zero_grad");
    }

    @Override
    public void optimizerZeroGrad(int epoch, int batchIdx, Optimizer optimizer) {
        hook("optimizer_zero_grad", batchIdx);
        super.optimizerZeroGrad(epoch, batchIdx, optimizer);
    }

    @Override
    public void configureGradientClipping(
            Optimizer optimizer, Double gradientClipVal, GradientClipAlgorithm algorithm) {
        hook("configure_gradient_clipping");
        super.configureGradientClipping(optimizer, gradientClipVal, algorithm);
    }

    @Override
    public void lrSchedulerStep(LrScheduler scheduler, Double metric) {
        hook("lr_scheduler_step");
        super.lrSchedulerStep(scheduler, metric);
    }

    @Override
    public void onSaveCheckpoint(Checkpoint checkpoint) {
        hook("on_save_checkpoint");
    }
}
