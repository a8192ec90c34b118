package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.module.Losses;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;

/** The samples of the README and of the getting-started page: the seed's autoencoder, trained by the Trainer. */
public final class GettingStartedGuide {

    private GettingStartedGuide() {}

    /**
     * The README's sample: the autoencoder as a module, trained on 100 batches.
     *
     * @param encoder maps a flattened image to a code
     * @param decoder maps a code back to an image
     * @param mnistTrain the training images
     * @return the Trainer after the fit; its {@code lightningModule()} is the trained module
     */
    public static Trainer readme(Block encoder, Block decoder, RandomAccessDataset mnistTrain) {
        // snippet:readme
        class LitAutoEncoder extends LightningModule {
            private final Block encoder;
            private final Block decoder;

            LitAutoEncoder(Block encoder, Block decoder) {
                this.encoder = addChildBlock("encoder", encoder);
                this.decoder = addChildBlock("decoder", decoder);
            }

            @Override
            public NDArray trainingStep(Batch batch, int batchIdx) {
                NDArray x = batch.getData().head().reshape(-1, 28 * 28);
                NDArray xHat = forward(decoder, forward(encoder, x));
                NDArray loss = Losses.mse(xHat, x);
                log("train_loss", loss);
                return loss;
            }

            @Override
            public OptimizerConfig configureOptimizers() {
                return OptimizerConfig.of(new Adam(parameters(), 1e-3));
            }
        }

        Trainer trainer = Trainer.builder().limitTrainBatches(100).maxEpochs(1).build();
        trainer.fit(new LitAutoEncoder(encoder, decoder), DataLoader.of(mnistTrain).batchSize(32).build());
        // end-snippet:readme
        return trainer;
    }

    /**
     * The getting-started page's sample: the example's {@link LitAutoEncoder}, one epoch on the 60,000 MNIST training
     * images.
     *
     * @return the trained module; {@code getTrainer()} is the Trainer that trained it
     * @throws IOException when MNIST cannot be read
     */
    public static LitAutoEncoder trainOneEpoch() throws IOException {
        // snippet:train
        LitAutoEncoder autoencoder = LitAutoEncoder.create();
        try (MnistDataset train = MnistDataset.builder().usage(Usage.TRAIN).build()) {
            Trainer trainer = Trainer.builder().maxEpochs(1).build();
            trainer.fit(autoencoder, DataLoader.of(train).batchSize(32).build());
        }
        // end-snippet:train
        return autoencoder;
    }
}
