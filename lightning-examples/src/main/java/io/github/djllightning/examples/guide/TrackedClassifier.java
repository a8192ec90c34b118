package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.log.LogOptions;
import io.github.djllightning.log.Reduce;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;
import java.util.Map;

/**
 * The experiment-tracking page's module: an MNIST classifier that records its hyperparameters and logs its metrics
 * with the different options of {@code log}.
 */
public class TrackedClassifier extends LightningModule {

    /**
     * The hyperparameters.
     *
     * @param hidden the units of the hidden layer
     * @param lr Adam's learning rate
     */
    public record HParams(int hidden, double lr) {}

    private static final LogOptions ON_THE_BAR = LogOptions.defaults().progBar(true);

    private final Block model;
    private final double lr;

    /**
     * Creates the classifier.
     *
     * @param hp the hyperparameters
     */
    public TrackedClassifier(HParams hp) {
        // snippet:hparams
        saveHyperparameters(hp);   // to hparams.yaml, to TensorBoard's HPARAMS tab, and to checkpoints
        // end-snippet:hparams
        this.lr = hp.lr();
        this.model = addChildBlock("model", new SequentialBlock()
                .add(Linear.builder().setUnits(hp.hidden()).build())
                .add(Activation::relu)
                .add(Linear.builder().setUnits(10).build()));
    }

    private NDArray logits(Batch batch) {
        return forward(model, batch.getData().head().reshape(-1, 28 * 28));
    }

    private static NDArray labels(Batch batch) {
        return batch.getLabels().head().toType(DataType.INT64, false).reshape(-1);
    }

    private static NDArray crossEntropy(NDArray logits, NDArray labels) {
        return logits.logSoftmax(1).gather(labels.reshape(-1, 1), 1).neg().mean();
    }

    private static NDArray accuracy(NDArray logits, NDArray labels) {
        return logits.argMax(1).eq(labels).toType(DataType.FLOAT32, false).mean();
    }

    // snippet:training-step
    @Override
    public NDArray trainingStep(Batch batch, int batchIdx) {
        NDArray logits = logits(batch);
        NDArray loss = crossEntropy(logits, labels(batch));
        log("train_loss", loss, ON_THE_BAR);   // every step (the default here), and on the progress bar
        log("train_acc", accuracy(logits, labels(batch)),
                LogOptions.defaults().onStep(true).onEpoch(true));   // as train_acc_step and train_acc_epoch
        return loss;
    }
    // end-snippet:training-step

    // snippet:validation-step
    @Override
    public Object validationStep(Batch batch, int batchIdx) {
        NDArray logits = logits(batch);
        NDArray accuracy = accuracy(logits, labels(batch));
        // once per validation run (the default here): the mean over its batches, weighted by their sizes
        logDict(Map.of("val_loss", crossEntropy(logits, labels(batch)), "val_acc", accuracy));
        log("val_acc_worst_batch", accuracy, LogOptions.defaults().reduce(Reduce.MIN));
        return null;
    }
    // end-snippet:validation-step

    @Override
    public OptimizerConfig configureOptimizers() {
        return OptimizerConfig.of(new Adam(parameters(), lr));
    }
}
