package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.Sgd;
import io.github.djllightning.tuner.HasLearningRate;

/**
 * The tuning page's classifier: an MNIST MLP trained with SGD, whose learning rate the learning-rate finder sets
 * through {@link HasLearningRate}.
 */
// snippet:class
public class TunableClassifier extends LightningModule implements HasLearningRate {
    private final Block model = addChildBlock("model", new SequentialBlock()
            .add(Linear.builder().setUnits(32).build())
            .add(Activation::relu)
            .add(Linear.builder().setUnits(10).build()));
    private double lr = 1e-3;

    @Override
    public double learningRate() {
        return lr;
    }

    @Override
    public void setLearningRate(double value) {
        lr = value;
    }

    @Override
    public NDArray trainingStep(Batch batch, int batchIdx) {
        NDArray logits = forward(model, batch.getData().head().reshape(-1, 28 * 28));
        NDArray labels = batch.getLabels().head().toType(DataType.INT64, false).reshape(-1, 1);
        NDArray loss = logits.logSoftmax(1).gather(labels, 1).neg().mean();
        log("train_loss", loss);
        return loss;
    }

    @Override
    public OptimizerConfig configureOptimizers() {
        return OptimizerConfig.of(new Sgd(parameters(), lr));   // the rate the finder set, if it ran
    }
}
// end-snippet:class
