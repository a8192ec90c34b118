package io.github.djllightning.examples.autoencoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.module.Losses;
import io.github.djllightning.module.TorchInit;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;

/**
 * The seed's autoencoder: an encoder {@code 784 -> 64 -> 3} and a decoder {@code 3 -> 64 -> 784}, trained to
 * reconstruct MNIST digits with the mean squared error and Adam (lr 1e-3).
 */
public class LitAutoEncoder extends LightningModule {

    private final Block encoder;
    private final Block decoder;

    /**
     * Creates the module around an encoder and a decoder.
     *
     * @param encoder maps a flattened image to a code
     * @param decoder maps a code back to an image
     */
    public LitAutoEncoder(Block encoder, Block decoder) {
        this.encoder = addChildBlock("encoder", encoder);
        this.decoder = addChildBlock("decoder", decoder);
    }

    /** The seed's encoder: {@code Linear(784, 64), ReLU, Linear(64, 3)}, initialized as in PyTorch. */
    public static Block encoder() {
        return new SequentialBlock()
                .add(TorchInit.linear(64, 28 * 28))
                .add(Activation::relu)
                .add(TorchInit.linear(3, 64));
    }

    /** The seed's decoder: {@code Linear(3, 64), ReLU, Linear(64, 784)}, initialized as in PyTorch. */
    public static Block decoder() {
        return new SequentialBlock()
                .add(TorchInit.linear(64, 3))
                .add(Activation::relu)
                .add(TorchInit.linear(28 * 28, 64));
    }

    /** The seed module with its encoder and decoder. */
    public static LitAutoEncoder create() {
        return new LitAutoEncoder(encoder(), decoder());
    }

    private NDArray reconstructionLoss(Batch batch) {
        NDArray x = batch.getData().head().reshape(-1, 28 * 28);
        NDArray xHat = forward(decoder, forward(encoder, x));
        return Losses.mse(xHat, x);
    }

    @Override
    public NDArray trainingStep(Batch batch, int batchIdx) {
        NDArray loss = reconstructionLoss(batch);
        log("train_loss", loss);
        return loss;
    }

    @Override
    public Object testStep(Batch batch, int batchIdx) {
        log("test_loss", reconstructionLoss(batch));
        return null;
    }

    // snippet:validation-step
    @Override
    public Object validationStep(Batch batch, int batchIdx) {
        log("val_loss", reconstructionLoss(batch));   // the mean over the validation run is what callbacks see
        return null;
    }
    // end-snippet:validation-step

    /** Encodes flattened images into their 3-number codes. */
    @Override
    public NDList forward(NDList inputs) {
        return new NDList(forward(encoder, inputs.head().reshape(-1, 28 * 28)));
    }

    @Override
    public OptimizerConfig configureOptimizers() {
        return OptimizerConfig.of(new Adam(parameters(), 1e-3));
    }
}
