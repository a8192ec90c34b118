package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.callbacks.StochasticWeightAveraging;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.callbacks.MirrorCheckpoints;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.module.Losses;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.trainer.GradientClipAlgorithm;
import io.github.djllightning.trainer.LightningOptimizer;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The samples of the guide page {@code docs/key-steps.md}: the seed tutorial's seven key steps (define the module,
 * define the data, train, use the model, visualise, supercharge, customise the loop) with its MNIST autoencoder.
 */
public final class KeyStepsGuide {

    private KeyStepsGuide() {}

    // snippet:blocks
    /** The seed's encoder, {@code Linear(28 * 28, 64), ReLU, Linear(64, 3)}. */
    public static Block encoder() {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(64).build())
                .add(Activation::relu)
                .add(Linear.builder().setUnits(3).build());
    }

    /** The seed's decoder, {@code Linear(3, 64), ReLU, Linear(64, 28 * 28)}. */
    public static Block decoder() {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(64).build())
                .add(Activation::relu)
                .add(Linear.builder().setUnits(28 * 28).build());
    }
    // end-snippet:blocks

    // snippet:module
    /** The seed's autoencoder: reconstructs MNIST digits through a 3-number code. */
    public static class LitAutoEncoder extends LightningModule {

        private final Block encoder;
        private final Block decoder;

        /**
         * Creates the module around its two layers.
         *
         * @param encoder maps a flattened image to its code
         * @param decoder maps a code back to an image
         */
        public LitAutoEncoder(Block encoder, Block decoder) {
            this.encoder = addChildBlock("encoder", encoder);
            this.decoder = addChildBlock("decoder", decoder);
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            // trainingStep defines the training loop; it is independent of forward
            NDArray x = batch.getData().head().reshape(-1, 28 * 28);
            NDArray z = forward(encoder, x);
            NDArray xHat = forward(decoder, z);
            NDArray loss = Losses.mse(xHat, x);
            // to TensorBoard when lightning-loggers is on the class path, else to metrics.csv
            log("train_loss", loss);
            return loss;
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Adam(parameters(), 1e-3));
        }
    }
    // end-snippet:module

    /**
     * Step 1: the autoencoder made of the seed's layers.
     *
     * @return a new, untrained module
     */
    public static LitAutoEncoder createAutoEncoder() {
        // snippet:init
        LitAutoEncoder autoencoder = new LitAutoEncoder(encoder(), decoder());
        // end-snippet:init
        return autoencoder;
    }

    /**
     * Step 2: MNIST's training images.
     *
     * @return the dataset; close it to free its memory
     * @throws IOException when the MNIST files cannot be read
     */
    public static MnistDataset trainingImages() throws IOException {
        // snippet:dataset
        MnistDataset dataset = MnistDataset.builder().usage(Usage.TRAIN).build();
        // end-snippet:dataset
        return dataset;
    }

    /**
     * Step 2: the loader that feeds a dataset to training.
     *
     * @param dataset the images
     * @return shuffled batches of 32
     */
    public static DataLoader trainLoader(RandomAccessDataset dataset) {
        // snippet:loader
        DataLoader trainLoader = DataLoader.of(dataset).batchSize(32).shuffle(true).build();
        // end-snippet:loader
        return trainLoader;
    }

    /**
     * Step 3: trains with the seed's flags for rapid iteration, 100 batches of one epoch.
     *
     * @param autoencoder the module
     * @param trainLoader the training batches
     * @param root where {@code lightning_logs} goes
     * @return the Trainer after the fit
     */
    public static Trainer train(LitAutoEncoder autoencoder, DataLoader trainLoader, Path root) {
        // snippet:train
        // train the model (hint: here are some helpful Trainer flags for rapid idea iteration)
        Trainer trainer = Trainer.builder().limitTrainBatches(100).maxEpochs(1).defaultRootDir(root).build();
        trainer.fit(autoencoder, trainLoader);
        // end-snippet:train
        return trainer;
    }

    /**
     * Step 4: loads the trained autoencoder from its checkpoint and embeds 4 random images with its encoder.
     *
     * @param root the folder holding {@code lightning_logs}
     * @param manager owns the images and the embeddings
     * @return the embeddings, 4 x 3
     */
    public static NDArray embedFourFakeImages(Path root, NDManager manager) {
        NDArray embeddings;
        // snippet:use
        // load the checkpoint; layers are not hyperparameters, so the module gets new ones to load the weights into
        Path checkpoint = root.resolve("lightning_logs/version_0/checkpoints/epoch=0-step=100.ckpt");
        try (LitAutoEncoder autoencoder = LightningModule.loadFromCheckpoint(
                LitAutoEncoder.class, checkpoint, Map.of(), encoder(), decoder())) {
            // choose your trained block; the loaded module is in evaluation mode
            Block encoder = autoencoder.child("encoder");

            // embed 4 fake images!
            NDArray fakeImageBatch = manager.randomUniform(0, 1, new Shape(4, 28 * 28));
            embeddings = autoencoder.forward(encoder, fakeImageBatch);
            System.out.println("⚡".repeat(20) + "\nPredictions (4 image embeddings):\n" + embeddings + "\n"
                    + "⚡".repeat(20));
        }
        // end-snippet:use
        return embeddings;
    }

    /**
     * Step 6: a Trainer on the first CUDA device.
     *
     * @return the Trainer
     * @throws io.github.djllightning.trainer.MisconfigurationException when the engine sees no CUDA device
     */
    public static Trainer gpuTrainer() {
        // snippet:gpu
        // train on a GPU: needs the PyTorch engine's CUDA natives on the class path instead of pytorch-native-cpu
        Trainer trainer = Trainer.builder().accelerator("gpu").devices(1).build();
        // end-snippet:gpu
        return trainer;
    }

    /**
     * Step 6: the seed's flags for rapid idea iteration, here overfitting one batch for ten epochs.
     *
     * @param autoencoder the module
     * @param trainLoader the training batches; only the first is used
     * @param root where {@code lightning_logs} goes
     * @return the Trainer after the fit
     */
    public static Trainer overfitOneBatch(LitAutoEncoder autoencoder, DataLoader trainLoader, Path root) {
        // snippet:flags
        Trainer trainer = Trainer.builder()
                .maxEpochs(10)
                .minEpochs(5)
                .overfitBatches(1)
                .defaultRootDir(root)
                .build();
        trainer.fit(autoencoder, trainLoader);
        // end-snippet:flags
        return trainer;
    }

    /**
     * Step 6: stochastic weight averaging over the last epochs.
     *
     * @param autoencoder the module
     * @param trainLoader the training batches
     * @param root where {@code lightning_logs} goes
     * @return the callback after the fit
     */
    public static StochasticWeightAveraging averageWeights(
            LitAutoEncoder autoencoder, DataLoader trainLoader, Path root) {
        // snippet:swa
        // from the 4th of 5 epochs on (swaEpochStart 0.8): learning rate annealed to 1e-3, weights averaged
        StochasticWeightAveraging swa = new StochasticWeightAveraging(1e-3);
        Trainer trainer = Trainer.builder().maxEpochs(5).callbacks(swa).defaultRootDir(root).build();
        trainer.fit(autoencoder, trainLoader);
        // end-snippet:swa
        return swa;
    }

    /**
     * Step 7: extends the Trainer with a callback that copies every checkpoint to a second folder.
     *
     * @param autoencoder the module
     * @param trainLoader the training batches
     * @param root where {@code lightning_logs} goes
     * @param backup the folder receiving the copies
     */
    public static void mirrorCheckpoints(LitAutoEncoder autoencoder, DataLoader trainLoader, Path root, Path backup) {
        // snippet:extend
        Trainer trainer = Trainer.builder()
                .maxEpochs(1)
                .callbacks(new MirrorCheckpoints(backup))
                .defaultRootDir(root)
                .build();
        trainer.fit(autoencoder, trainLoader);
        // end-snippet:extend
    }

    /**
     * The autoencoder with its own versions of the optimization hooks: a timed backward pass, a learning-rate
     * warm-up, a count of gradient windows and no clipping during the warm-up.
     */
    public static class CustomLoopAutoEncoder extends LitAutoEncoder {

        private final int warmupSteps;
        private int gradientWindows;

        /**
         * Creates the module.
         *
         * @param encoder maps a flattened image to its code
         * @param decoder maps a code back to an image
         * @param warmupSteps the optimizer steps over which the learning rate rises to 1e-3
         */
        public CustomLoopAutoEncoder(Block encoder, Block decoder, int warmupSteps) {
            super(encoder, decoder);
            this.warmupSteps = warmupSteps;
        }

        /** How many times the gradients were cleared: once per accumulation window. */
        public int gradientWindows() {
            return gradientWindows;
        }

        // snippet:backward
        @Override
        public void backward(NDArray loss) {
            long start = System.nanoTime();
            super.backward(loss);   // the engine's backward pass: Lightning's loss.backward()
            log("backward_ms", (System.nanoTime() - start) / 1e6);
        }
        // end-snippet:backward

        // snippet:optimizer-step
        @Override
        public void optimizerStep(int epoch, int batchIdx, LightningOptimizer optimizer, Runnable closure) {
            // linear learning-rate warm-up over the first warmupSteps steps
            double scale = Math.min(1.0, (globalStep() + 1) / (double) warmupSteps);
            optimizer.optimizer().setLr(scale * 1e-3);
            log("lr", optimizer.optimizer().lr());
            optimizer.step(closure);   // runs trainingStep and backward, then the step; call it exactly once
        }
        // end-snippet:optimizer-step

        // snippet:zero-grad
        @Override
        public void optimizerZeroGrad(int epoch, int batchIdx, Optimizer optimizer) {
            // before the backward pass of the first batch of each accumulation window (every batch without
            // accumulateGradBatches); the gradients of the last step are still there until this call
            gradientWindows++;
            optimizer.zeroGrad();
        }
        // end-snippet:zero-grad

        // snippet:clipping
        @Override
        public void configureGradientClipping(
                Optimizer optimizer, Double gradientClipVal, GradientClipAlgorithm algorithm) {
            // no clipping during the warm-up, then the Trainer's gradientClipVal and gradientClipAlgorithm
            if (globalStep() >= warmupSteps) {
                clipGradients(optimizer, gradientClipVal, algorithm);
            }
        }
        // end-snippet:clipping
    }

    // snippet:manual
    /** The autoencoder optimized by hand: one optimizer step for every two batches. */
    public static class ManualAutoEncoder extends LightningModule {

        private final Block encoder;
        private final Block decoder;

        /**
         * Creates the module and switches automatic optimization off.
         *
         * @param encoder maps a flattened image to its code
         * @param decoder maps a code back to an image
         */
        public ManualAutoEncoder(Block encoder, Block decoder) {
            this.encoder = addChildBlock("encoder", encoder);
            this.decoder = addChildBlock("decoder", decoder);
            setAutomaticOptimization(false);
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            LightningOptimizer optimizer = optimizer();
            NDArray x = batch.getData().head().reshape(-1, 28 * 28);
            NDArray loss = Losses.mse(forward(decoder, forward(encoder, x)), x);
            // the gradients of two batches add up before each step
            manualBackward(loss.div(2));
            if (batchIdx % 2 == 1) {
                optimizer.step();
                optimizer.zeroGrad();
            }
            log("train_loss", loss);
            return loss;
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Adam(parameters(), 1e-3));
        }
    }
    // end-snippet:manual
}
