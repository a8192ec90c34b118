package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.Datasets;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.module.Losses;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The samples of the guide page {@code docs/validation-and-test.md}: a held-out test set, a seeded validation split,
 * the validation and test steps, and when validation runs.
 */
public final class ValidationTestGuide {

    private ValidationTestGuide() {}

    /** The autoencoder of the key steps with a test step and a validation step. */
    public static class LitAutoEncoder extends KeyStepsGuide.LitAutoEncoder {

        /**
         * Creates the module around its two layers.
         *
         * @param encoder maps a flattened image to its code
         * @param decoder maps a code back to an image
         */
        public LitAutoEncoder(Block encoder, Block decoder) {
            super(encoder, decoder);
        }

        // snippet:test-step
        @Override
        public Object testStep(Batch batch, int batchIdx) {
            // this is the test loop
            NDArray x = batch.getData().head().reshape(-1, 28 * 28);
            NDArray z = forward("encoder", x);
            NDArray xHat = forward("decoder", z);
            NDArray testLoss = Losses.mse(xHat, x);
            log("test_loss", testLoss);
            return null;
        }
        // end-snippet:test-step

        // snippet:validation-step
        @Override
        public Object validationStep(Batch batch, int batchIdx) {
            // this is the validation loop
            NDArray x = batch.getData().head().reshape(-1, 28 * 28);
            NDArray z = forward("encoder", x);
            NDArray xHat = forward("decoder", z);
            NDArray valLoss = Losses.mse(xHat, x);
            log("val_loss", valLoss);
            return null;
        }
        // end-snippet:validation-step
    }

    /**
     * MNIST's two splits: 60,000 training and 10,000 test images.
     *
     * @return the training set and the test set; close both
     * @throws IOException when the MNIST files cannot be read
     */
    public static MnistDataset[] loadMnist() throws IOException {
        // snippet:load
        MnistDataset trainSet = MnistDataset.builder().usage(Usage.TRAIN).build();
        MnistDataset testSet = MnistDataset.builder().usage(Usage.TEST).build();
        // end-snippet:load
        return new MnistDataset[] {trainSet, testSet};
    }

    /**
     * Tests a trained module on the test set.
     *
     * @param autoencoder the trained module
     * @param testSet the test images
     * @param root where {@code lightning_logs} goes
     * @return the test loss
     */
    public static double test(LitAutoEncoder autoencoder, RandomAccessDataset testSet, Path root) {
        // snippet:test
        // initialize the Trainer
        Trainer trainer = Trainer.builder().defaultRootDir(root).build();

        // test the model
        List<Map<String, Double>> results = trainer.test(autoencoder, DataLoader.of(testSet).batchSize(256).build());
        double testLoss = results.get(0).get("test_loss");
        // end-snippet:test
        return testLoss;
    }

    /**
     * Splits the training set into 80% for training and 20% for validation, the same way in every run.
     *
     * @param trainSet the training set
     * @return the training part and the validation part
     */
    public static RandomAccessDataset[] split(RandomAccessDataset trainSet) {
        // snippet:split
        // use 20% of the training data for validation; the seed fixes which 20%
        RandomAccessDataset[] parts = Datasets.randomSplit(trainSet, new double[] {0.8, 0.2}, 42);
        RandomAccessDataset trainPart = parts[0];
        RandomAccessDataset validPart = parts[1];
        // end-snippet:split
        return new RandomAccessDataset[] {trainPart, validPart};
    }

    /**
     * Trains on the training part, validating on the validation part, then validates once more.
     *
     * @param autoencoder the module
     * @param trainPart the training part
     * @param validPart the validation part
     * @param root where {@code lightning_logs} goes
     * @return the validation loss of the last {@code validate}
     */
    public static double fitAndValidate(
            LitAutoEncoder autoencoder, RandomAccessDataset trainPart, RandomAccessDataset validPart, Path root) {
        // snippet:fit
        DataLoader trainLoader = DataLoader.of(trainPart).batchSize(32).shuffle(true).build();
        DataLoader validLoader = DataLoader.of(validPart).batchSize(256).build();

        // train with both splits
        Trainer trainer = Trainer.builder().maxEpochs(1).defaultRootDir(root).build();
        trainer.fit(autoencoder, trainLoader, validLoader);
        // end-snippet:fit
        // snippet:validate
        List<Map<String, Double>> results = trainer.validate(autoencoder, validLoader);
        double valLoss = results.get(0).get("val_loss");
        // end-snippet:validate
        return valLoss;
    }

    /**
     * A Trainer that validates less often and on fewer batches than the defaults.
     *
     * @param root where {@code lightning_logs} goes
     * @return the Trainer
     */
    public static Trainer scheduledValidation(Path root) {
        // snippet:schedule
        Trainer trainer = Trainer.builder()
                .maxEpochs(4)
                .checkValEveryNEpoch(2)    // validate in every second epoch...
                .valCheckInterval(0.5)     // ...twice: halfway and at the end
                .limitValBatches(2)        // on the first 2 validation batches
                .numSanityValSteps(1)      // and run 1 batch before training to catch bugs early (default 2)
                .defaultRootDir(root)
                .build();
        // end-snippet:schedule
        return trainer;
    }
}
