package com.example.starter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.log.LogOptions;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;

/**
 * An MNIST digit classifier: {@code Linear(784, hidden), ReLU, Linear(hidden, 10)}, trained with cross entropy.
 * Logs {@code train_loss} every step and {@code val_loss} / {@code val_accuracy} per validation run.
 */
public class LitModel extends LightningModule {

    /**
     * The hyperparameters, saved with every checkpoint.
     *
     * @param hidden the units of the hidden layer
     * @param lr Adam's learning rate
     */
    public record HParams(int hidden, double lr) {}

    private final double lr;

    /**
     * Creates the model.
     *
     * @param hp the hyperparameters
     */
    public LitModel(HParams hp) {
        saveHyperparameters(hp);
        this.lr = hp.lr();
        addChildBlock("model", new SequentialBlock()
                .add(Linear.builder().setUnits(hp.hidden()).build())
                .add(Activation::relu)
                .add(Linear.builder().setUnits(10).build()));
    }

    /**
     * The class scores (logits) of a batch of images.
     *
     * @param images the images, any shape with 784 values per image
     * @return the logits, one row of 10 per image
     */
    public NDArray logits(NDArray images) {
        return forward("model", images.reshape(-1, 28 * 28));
    }

    @Override
    public NDArray trainingStep(Batch batch, int batchIdx) {
        NDArray loss = crossEntropy(logits(batch.getData().head()), batch.getLabels().head());
        log("train_loss", loss, LogOptions.defaults().progBar(true));
        return loss;
    }

    @Override
    public Object validationStep(Batch batch, int batchIdx) {
        NDArray logits = logits(batch.getData().head());
        NDArray labels = batch.getLabels().head().toType(DataType.INT64, false).reshape(-1);
        log("val_loss", crossEntropy(logits, labels));
        log("val_accuracy", logits.argMax(1).eq(labels).toType(DataType.FLOAT32, false).mean(),
                LogOptions.defaults().progBar(true));
        return null;
    }

    @Override
    public OptimizerConfig configureOptimizers() {
        return OptimizerConfig.of(new Adam(parameters(), lr));
    }

    private static NDArray crossEntropy(NDArray logits, NDArray labels) {
        NDArray index = labels.toType(DataType.INT64, false).reshape(-1, 1);
        return logits.logSoftmax(1).gather(index, 1).neg().mean();
    }
}
