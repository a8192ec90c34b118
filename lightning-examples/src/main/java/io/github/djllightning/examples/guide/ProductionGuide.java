package io.github.djllightning.examples.guide;

import ai.djl.ModelException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import ai.djl.util.PairList;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.checkpoint.PyTorchWeights;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.module.Losses;
import io.github.djllightning.module.TorchInit;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The samples of the guide page {@code docs/production.md}: the part of a trained module that production needs, as
 * a plain DJL model served by a DJL {@code Predictor}, and weights moved to and from PyTorch.
 */
public final class ProductionGuide {

    private ProductionGuide() {}

    // snippet:prod
    /** What production needs, the seed's {@code AutoEncoderProd}: an encoder and a decoder; forward encodes. */
    public static class AutoEncoderProd extends AbstractBlock {

        private final Block encoder;
        private final Block decoder;

        /**
         * Creates the layers.
         *
         * @param hidden the width of the hidden layers
         */
        public AutoEncoderProd(int hidden) {
            encoder = addChildBlock("encoder", new SequentialBlock()
                    .add(TorchInit.linear(hidden, 28 * 28))
                    .add(Activation::relu)
                    .add(TorchInit.linear(3, hidden)));
            decoder = addChildBlock("decoder", new SequentialBlock()
                    .add(TorchInit.linear(hidden, 3))
                    .add(Activation::relu)
                    .add(TorchInit.linear(28 * 28, hidden)));
        }

        /** The decoder, which training needs and forward does not use. */
        public Block decoder() {
            return decoder;
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
            return encoder.forward(store, inputs, training);
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            encoder.initialize(manager, dataType, inputShapes);
            decoder.initialize(manager, dataType, encoder.getOutputShapes(inputShapes));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return encoder.getOutputShapes(inputShapes);
        }
    }
    // end-snippet:prod

    // snippet:system
    /** Trains an {@link AutoEncoderProd}, the seed's {@code AutoEncoderSystem}. */
    public static class AutoEncoderSystem extends LightningModule {

        /**
         * The hyperparameters.
         *
         * @param hidden the width of the hidden layers
         */
        public record HParams(int hidden) {}

        private final AutoEncoderProd autoEncoder;

        /**
         * Creates the module and records its hyperparameters in its checkpoints.
         *
         * @param hp the hyperparameters
         */
        public AutoEncoderSystem(HParams hp) {
            saveHyperparameters(hp);
            autoEncoder = addChildBlock("auto_encoder", new AutoEncoderProd(hp.hidden()));
        }

        @Override
        public NDList forward(NDList inputs) {
            return new NDList(forward(autoEncoder, inputs.head().reshape(-1, 28 * 28)));
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            NDArray x = batch.getData().head().reshape(-1, 28 * 28);
            NDArray z = forward(autoEncoder, x);
            NDArray xHat = forward(autoEncoder.decoder(), z);
            NDArray loss = Losses.mse(xHat, x);
            log("train_loss", loss);
            return loss;
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Adam(parameters(), 1e-3));
        }
    }
    // end-snippet:system

    /**
     * Trains the system for one epoch and saves its checkpoint.
     *
     * @param trainLoader the training batches
     * @param root the folder for the run and the checkpoint
     * @return the checkpoint, {@code root/best_model.ckpt}
     */
    public static Path trainAndSave(DataLoader trainLoader, Path root) {
        try (AutoEncoderSystem model = new AutoEncoderSystem(new AutoEncoderSystem.HParams(64))) {
            // snippet:train
            Trainer trainer = Trainer.builder().maxEpochs(1).defaultRootDir(root).build();
            trainer.fit(model, trainLoader);
            trainer.saveCheckpoint(root.resolve("best_model.ckpt"));
            // end-snippet:train
        }
        return root.resolve("best_model.ckpt");
    }

    /**
     * Builds the production block and loads its weights from the system's checkpoint.
     *
     * @param checkpoint the system's checkpoint
     * @param manager owns the block's parameters
     * @return the block with the trained weights
     */
    public static AutoEncoderProd fromCheckpoint(Path checkpoint, NDManager manager) {
        // snippet:from-checkpoint
        // the hyperparameters, read without building the Lightning module
        Map<?, ?> hyperParameters = (Map<?, ?>) CheckpointReader.readEntries(checkpoint).get("hyper_parameters");
        AutoEncoderProd model = new AutoEncoderProd(((Number) hyperParameters.get("hidden")).intValue());
        model.initialize(manager, DataType.FLOAT32, new Shape(1, 28 * 28));

        // the weights: the checkpoint's auto_encoder.encoder.0.weight is the block's encoder.0.weight
        PyTorchWeights.fromCheckpoint(checkpoint, "auto_encoder.", model);
        // end-snippet:from-checkpoint
        return model;
    }

    /**
     * Saves the block as a DJL model folder.
     *
     * @param model the block with its weights
     * @param modelDir the folder
     * @return the parameter file written
     */
    public static Path saveForDjl(AutoEncoderProd model, Path modelDir) {
        // snippet:save-djl
        Path params = PyTorchWeights.saveDjlModel(model, modelDir, "autoencoder");   // autoencoder-0000.params
        // end-snippet:save-djl
        return params;
    }

    // snippet:translator
    /** The model's input and output as plain Java: the 784 pixels of an image in, the 3 numbers of its code out. */
    public static class EmbeddingTranslator implements Translator<float[], float[]> {

        @Override
        public NDList processInput(TranslatorContext ctx, float[] image) {
            return new NDList(ctx.getNDManager().create(image));
        }

        @Override
        public float[] processOutput(TranslatorContext ctx, NDList output) {
            return output.singletonOrThrow().toFloatArray();
        }
    }
    // end-snippet:translator

    /**
     * Loads the DJL model folder and encodes images with a DJL {@code Predictor}.
     *
     * @param modelDir the folder {@link #saveForDjl} wrote
     * @param images flattened images, 784 values in {@code [0, 1]} each
     * @return the code of each image
     * @throws ModelException when the model cannot be loaded
     * @throws IOException when the folder cannot be read
     * @throws TranslateException when a prediction fails
     */
    public static List<float[]> serve(Path modelDir, List<float[]> images)
            throws ModelException, IOException, TranslateException {
        List<float[]> codes;
        // snippet:serve
        Criteria<float[], float[]> criteria = Criteria.builder()
                .setTypes(float[].class, float[].class)
                .optModelPath(modelDir)
                .optModelName("autoencoder")
                .optBlock(new AutoEncoderProd(64))   // the architecture; the weights come from the folder
                .optTranslator(new EmbeddingTranslator())
                .build();
        try (ZooModel<float[], float[]> model = criteria.loadModel();
                Predictor<float[], float[]> predictor = model.newPredictor()) {
            float[] code = predictor.predict(images.get(0));   // one image
            codes = predictor.batchPredict(images);            // several, run as one batch
            System.out.println("The code of the first image: " + Arrays.toString(code));
        }
        // end-snippet:serve
        return codes;
    }

    /**
     * Writes the block's weights for PyTorch.
     *
     * @param model the block
     * @param dir the folder of the file
     */
    public static void exportWeights(AutoEncoderProd model, Path dir) {
        // snippet:export
        PyTorchWeights.exportSafetensors(model, dir.resolve("autoencoder.safetensors"));
        // end-snippet:export
    }

    /**
     * Reads weights written by PyTorch into the block.
     *
     * @param model the block, initialized
     * @param dir the folder of the file
     */
    public static void importWeights(AutoEncoderProd model, Path dir) {
        // snippet:import
        PyTorchWeights.importSafetensors(model, dir.resolve("from_torch.safetensors"));
        // end-snippet:import
    }
}
