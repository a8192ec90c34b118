package io.github.djllightning.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.log.LogOptions;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.Sgd;
import io.github.djllightning.trainer.LightningOptimizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The smallest useful module, as in Lightning's tests and the conformance traces: one {@code Linear(32 -> 2)}, loss
 * = mean of the outputs squared, SGD with lr 0.1; logs {@code train_loss} per step and epoch, {@code val_loss} and
 * {@code test_loss}. Scriptable: skip the loss at some batches, end epochs early, script validation losses. Records
 * its steps into the same list as a {@link RecordingCallback}.
 */
public class BoringModule extends LightningModule {

    private static final LogOptions STEP_AND_EPOCH = LogOptions.defaults().onStep(true).onEpoch(true);

    private final List<Event> events;
    private Set<Integer> noneAt = Set.of();
    private int stopEpochAt = -1;
    private List<Double> valLosses = List.of();
    private int validationRuns;

    /** A module recording into a list of its own. */
    public BoringModule() {
        this(new ArrayList<>());
    }

    /**
     * A module recording its steps into a shared list.
     *
     * @param events the list
     */
    public BoringModule(List<Event> events) {
        this.events = events;
        addChildBlock("layer", Linear.builder().setUnits(2).build());
    }

    /** The recorded events. */
    public List<Event> events() {
        return events;
    }

    /** Makes trainingStep return null at these batch indices. */
    public BoringModule noneAt(Set<Integer> batchIndices) {
        this.noneAt = batchIndices;
        return this;
    }

    /** Makes onTrainBatchStart end the epoch when it reaches this batch index. */
    public BoringModule stopEpochAt(int batchIdx) {
        this.stopEpochAt = batchIdx;
        return this;
    }

    /** Scripts the validation loss: run k (after the sanity check) reports losses[min(k, n-1)] for every batch. */
    public BoringModule valLosses(List<Double> losses) {
        this.valLosses = losses;
        return this;
    }

    private void record(String name, int batchIdx) {
        RecordingCallback.record(events, getTrainer(), name, batchIdx, null);
    }

    private NDArray loss(Batch batch) {
        NDArray out = forward("layer", batch.getData().head());
        return out.square().mean();
    }

    @Override
    public Object trainingStep(Batch batch, int batchIdx) {
        record("training_step", batchIdx);
        NDArray loss = loss(batch);
        log("train_loss", loss, STEP_AND_EPOCH);
        return noneAt.contains(batchIdx) ? null : loss;
    }

    @Override
    public Object validationStep(Batch batch, int batchIdx) {
        record("validation_step", batchIdx);
        if (valLosses.isEmpty() || getTrainer().isSanityChecking()) {
            log("val_loss", loss(batch));
        } else {
            log("val_loss", valLosses.get(Math.min(validationRuns, valLosses.size() - 1)));
        }
        return null;
    }

    @Override
    public void onValidationEpochEnd() {
        if (!getTrainer().isSanityChecking()) {
            validationRuns++;
        }
    }

    @Override
    public Object testStep(Batch batch, int batchIdx) {
        record("test_step", batchIdx);
        log("test_loss", loss(batch));
        return null;
    }

    @Override
    public Object predictStep(Batch batch, int batchIdx, int dataloaderIdx) {
        record("predict_step", batchIdx);
        return forward("layer", batch.getData().head());
    }

    @Override
    public int onTrainBatchStart(Batch batch, int batchIdx) {
        return batchIdx == stopEpochAt ? END_EPOCH : 0;
    }

    @Override
    public void optimizerStep(int epoch, int batchIdx, LightningOptimizer optimizer, Runnable closure) {
        super.optimizerStep(epoch, batchIdx, optimizer, closure);
        record("optimizer_step", batchIdx);
    }

    @Override
    public OptimizerConfig configureOptimizers() {
        return OptimizerConfig.of(new Sgd(parameters(), 0.1));
    }

    /**
     * A loader of {@code batches} batches of 4 rows of 32 random floats, in order.
     *
     * @param manager the manager that owns the data
     * @param batches the number of batches
     * @return the loader
     */
    public static DataLoader data(NDManager manager, int batches) {
        NDArray x = manager.randomNormal(new Shape(batches * 4L, 32));
        return DataLoader.of(new ArrayDataset.Builder().setData(x).setSampling(4, false).build())
                .batchSize(4)
                .build();
    }
}
