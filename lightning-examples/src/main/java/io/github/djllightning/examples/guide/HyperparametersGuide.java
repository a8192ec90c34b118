package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.module.Losses;
import io.github.djllightning.module.TorchInit;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;
import java.nio.file.Path;
import java.util.Map;

/**
 * The samples of the "Loading a model and its hyperparameters" part of {@code docs/checkpoints.md}: the tutorial's
 * {@code LitModel(in_dim, out_dim)} with its hyperparameters saved, loaded back, read from the file, and overridden.
 */
public final class HyperparametersGuide {

    private HyperparametersGuide() {}

    // snippet:module
    /** The constructor arguments of {@link LitModel}: Lightning's {@code __init__(self, in_dim, out_dim, lr)}. */
    public record Hyperparameters(int inDim, int outDim, double learningRate) {}

    /** One linear layer from {@code inDim} features to {@code outDim} outputs. */
    public static class LitModel extends LightningModule {

        private final Hyperparameters hp;

        /**
         * Creates the model; {@code loadFromCheckpoint} calls this constructor with the stored record.
         *
         * @param hp the hyperparameters
         */
        public LitModel(Hyperparameters hp) {
            this.hp = hp;
            saveHyperparameters(hp); // into every checkpoint, and hparams.yaml
            addChildBlock("layer", TorchInit.linear(hp.outDim(), hp.inDim()));
        }

        /** The hyperparameters this instance was built with. */
        public Hyperparameters hp() {
            return hp;
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            NDArray y = forward("layer", batch.getData().head());
            NDArray loss = Losses.mse(y, batch.getLabels().head());
            log("train_loss", loss);
            return loss;
        }

        @Override
        public NDList forward(NDList inputs) {
            return forward("layer", inputs);
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Adam(parameters(), hp.learningRate()));
        }
    }
    // end-snippet:module

    /**
     * Loads a trained {@link LitModel} as it was saved.
     *
     * @param checkpoint the checkpoint file
     * @return the model, in evaluation mode
     */
    public static LitModel load(Path checkpoint) {
        // snippet:load
        LitModel model = LightningModule.loadFromCheckpoint(LitModel.class, checkpoint);
        // the record the model was trained with: its constructor ran with it
        System.out.println(model.hp().learningRate());
        // end-snippet:load
        return model;
    }

    /**
     * The hyperparameters stored in a checkpoint, read without building a model.
     *
     * @param checkpoint the checkpoint file
     * @return name to value, as stored
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> storedHyperparameters(Path checkpoint) {
        // snippet:read
        Map<String, Object> entries = CheckpointReader.readEntries(checkpoint);
        Map<String, Object> hparams = (Map<String, Object>) entries.get("hyper_parameters");
        System.out.println(hparams); // {inDim=32, outDim=10, learningRate=0.001}
        // end-snippet:read
        return hparams;
    }

    /**
     * Loads a trained {@link LitModel} with a different learning rate (with a different output size it would fail).
     *
     * @param checkpoint the checkpoint file
     * @return the model built with {@code learningRate = 1e-4}
     */
    public static LitModel loadWithOverrides(Path checkpoint) {
        // snippet:override
        // uses inDim=32, outDim=10 from the checkpoint, and a new learning rate for further training
        LitModel slower = LightningModule.loadFromCheckpoint(LitModel.class, checkpoint, Map.of("learningRate", 1e-4));

        // builds a layer with 5 outputs, which the stored 10-output weights do not fit: a CheckpointException names
        // the weight and both shapes. Overrides change the model, not the weights; keep shapes that match them.
        // LightningModule.loadFromCheckpoint(LitModel.class, checkpoint, Map.of("outDim", 5));
        // end-snippet:override
        return slower;
    }
}
