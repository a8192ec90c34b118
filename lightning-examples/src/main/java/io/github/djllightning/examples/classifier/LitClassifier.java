package io.github.djllightning.examples.classifier;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.log.LogOptions;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;

/**
 * An MNIST digit classifier: {@code Linear(784, 256), ReLU, Dropout(0.2), Linear(256, 10)}, trained with cross
 * entropy. Logs {@code train_loss}, {@code val_loss} / {@code val_accuracy} and {@code test_loss} / {@code
 * test_accuracy}.
 */
public class LitClassifier extends LightningModule {

    /**
     * The hyperparameters.
     *
     * @param hidden the units of the hidden layer
     * @param dropout the dropout rate after it
     * @param lr Adam's learning rate
     */
    public record HParams(int hidden, float dropout, double lr) {

        /** The defaults: 256 hidden units, dropout 0.2, learning rate 1e-3 (also the command line's defaults). */
        public static HParams defaults() {
            return new HParams(256, 0.2f, 1e-3);
        }
    }

    private final Block model;
    private final double lr;

    /**
     * Creates the classifier.
     *
     * @param hp the hyperparameters (saved, so {@code loadFromCheckpoint} rebuilds the module)
     */
    public LitClassifier(HParams hp) {
        saveHyperparameters(hp);
        this.lr = hp.lr();
        this.model = addChildBlock("model", new SequentialBlock()
                .add(Linear.builder().setUnits(hp.hidden()).build())
                .add(Activation::relu)
                .add(Dropout.builder().optRate(hp.dropout()).build())
                .add(Linear.builder().setUnits(10).build()));
    }

    /** The defaults: 256 hidden units, dropout 0.2, learning rate 1e-3. */
    public static LitClassifier create() {
        return new LitClassifier(HParams.defaults());
    }

    /** The class scores (logits) of flattened images. */
    @Override
    public NDList forward(NDList inputs) {
        return new NDList(forward(model, inputs.head().reshape(-1, 28 * 28)));
    }

    /** The cross-entropy loss of logits against integer labels. */
    static NDArray crossEntropy(NDArray logits, NDArray labels) {
        NDArray logProbabilities = logits.logSoftmax(1);
        return logProbabilities.gather(labels.toType(ai.djl.ndarray.types.DataType.INT64, false).reshape(-1, 1), 1)
                .neg().mean();
    }

    /** The share of images whose highest score is their label. */
    static NDArray accuracy(NDArray logits, NDArray labels) {
        return logits.argMax(1).eq(labels.toType(ai.djl.ndarray.types.DataType.INT64, false).reshape(-1))
                .toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mean();
    }

    @Override
    public NDArray trainingStep(Batch batch, int batchIdx) {
        NDArray logits = forward(new NDList(batch.getData().head())).head();
        NDArray loss = crossEntropy(logits, batch.getLabels().head());
        log("train_loss", loss, LogOptions.defaults().progBar(true));
        return loss;
    }

    @Override
    public Object validationStep(Batch batch, int batchIdx) {
        evaluate(batch, "val");
        return null;
    }

    @Override
    public Object testStep(Batch batch, int batchIdx) {
        evaluate(batch, "test");
        return null;
    }

    private void evaluate(Batch batch, String stage) {
        NDArray logits = forward(new NDList(batch.getData().head())).head();
        NDArray labels = batch.getLabels().head();
        log(stage + "_loss", crossEntropy(logits, labels));
        log(stage + "_accuracy", accuracy(logits, labels), LogOptions.defaults().progBar(true));
    }

    @Override
    public OptimizerConfig configureOptimizers() {
        return OptimizerConfig.of(new Adam(parameters(), lr));
    }
}
