package io.github.djllightning.examples.guide;

// snippet:imports
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.util.PairList;
import io.github.djllightning.data.BatchIterator;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.module.Losses;
import io.github.djllightning.module.TorchInit;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Path;
// end-snippet:imports

/**
 * The samples of the guide page {@code docs/training.md}: the seed's autoencoder written as an encoder and a decoder
 * block, trained by the Trainer, and the hand-written loop the Trainer replaces.
 */
public final class TrainingGuide {

    private TrainingGuide() {}

    // snippet:blocks
    /** The seed's {@code Encoder}: one child, {@code l1}, holding {@code Linear(28 * 28, 64), ReLU, Linear(64, 3)}. */
    public static class Encoder extends AbstractBlock {

        private final Block l1;

        /** Creates the layers, initialized as PyTorch initializes {@code nn.Linear}. */
        public Encoder() {
            l1 = addChildBlock("l1", new SequentialBlock()
                    .add(TorchInit.linear(64, 28 * 28))
                    .add(Activation::relu)
                    .add(TorchInit.linear(3, 64)));
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
            return l1.forward(store, inputs, training);
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            l1.initialize(manager, dataType, inputShapes);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return l1.getOutputShapes(inputShapes);
        }
    }

    /** The seed's {@code Decoder}: one child, {@code l1}, holding {@code Linear(3, 64), ReLU, Linear(64, 28 * 28)}. */
    public static class Decoder extends AbstractBlock {

        private final Block l1;

        /** Creates the layers, initialized as PyTorch initializes {@code nn.Linear}. */
        public Decoder() {
            l1 = addChildBlock("l1", new SequentialBlock()
                    .add(TorchInit.linear(64, 3))
                    .add(Activation::relu)
                    .add(TorchInit.linear(28 * 28, 64)));
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
            return l1.forward(store, inputs, training);
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            l1.initialize(manager, dataType, inputShapes);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return l1.getOutputShapes(inputShapes);
        }
    }
    // end-snippet:blocks

    // snippet:module
    /** The seed's autoencoder, made of an {@link Encoder} and a {@link Decoder}. */
    public static class LitAutoEncoder extends LightningModule {

        private final Block encoder;
        private final Block decoder;

        /**
         * Creates the module around its two blocks.
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
            // trainingStep defines the training loop
            NDArray x = batch.getData().head().reshape(-1, 28 * 28);
            NDArray z = forward(encoder, x);
            NDArray xHat = forward(decoder, z);
            return Losses.mse(xHat, x);
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Adam(parameters(), 1e-3));
        }
    }
    // end-snippet:module

    /**
     * MNIST's training images.
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
     * The loader that feeds a dataset to training, in a fixed order.
     *
     * @param dataset the images
     * @return batches of 32
     */
    public static DataLoader trainLoader(RandomAccessDataset dataset) {
        // snippet:loader
        DataLoader trainLoader = DataLoader.of(dataset).batchSize(32).build();
        // end-snippet:loader
        return trainLoader;
    }

    /**
     * Trains a new autoencoder for one epoch with the Trainer.
     *
     * @param trainLoader the training batches
     * @param root where {@code lightning_logs} goes
     * @return the trained module; close it when done
     */
    public static LitAutoEncoder trainWithTrainer(DataLoader trainLoader, Path root) {
        // snippet:train
        // model
        LitAutoEncoder autoencoder = new LitAutoEncoder(new Encoder(), new Decoder());

        // train model
        Trainer trainer = Trainer.builder().maxEpochs(1).defaultRootDir(root).build();
        trainer.fit(autoencoder, trainLoader);
        // end-snippet:train
        return autoencoder;
    }

    /**
     * Trains a new autoencoder for one epoch with a hand-written DJL loop: the steps the Trainer takes for the seed's
     * example, without anything else.
     *
     * @param trainLoader the training batches
     * @return the trained module; close it when done
     */
    public static LitAutoEncoder trainByHand(DataLoader trainLoader) {
        // snippet:by-hand
        LitAutoEncoder autoencoder = new LitAutoEncoder(new Encoder(), new Decoder());

        try (Optimizer optimizer = autoencoder.configureOptimizers().optimizers().get(0);
                NDManager manager = NDManager.newBaseManager();
                BatchIterator batches = trainLoader.iterator(manager, 0)) {
            for (int batchIdx = 0; batches.hasNext(); batchIdx++) {
                try (Batch batch = batches.next();
                        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = autoencoder.trainingStep(batch, batchIdx);
                    collector.backward(loss);
                }
                optimizer.step();
                optimizer.zeroGrad();
            }
        }
        // end-snippet:by-hand
        return autoencoder;
    }
}
