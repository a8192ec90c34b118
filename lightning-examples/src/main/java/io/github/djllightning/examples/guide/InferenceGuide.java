package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.callbacks.BasePredictionWriter;
import io.github.djllightning.callbacks.FilePredictionWriter;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.examples.classifier.LitClassifier;
import io.github.djllightning.examples.classifier.LitMcDropoutModel;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The samples of the guide page {@code docs/inference.md}: a trained classifier loaded from its checkpoint and used
 * directly, through {@code predictStep} and {@code Trainer.predict}, with Monte Carlo dropout, and with prediction
 * writers.
 */
public final class InferenceGuide {

    private InferenceGuide() {}

    /** The MNIST classifier of the examples with a prediction step that gives each image's digit and probability. */
    public static class LitDigitClassifier extends LitClassifier {

        /**
         * Creates the classifier.
         *
         * @param hp the hyperparameters (saved, so {@code loadFromCheckpoint} rebuilds the module)
         */
        public LitDigitClassifier(HParams hp) {
            super(hp);
        }

        // snippet:predict-step
        @Override
        public Object predictStep(Batch batch, int batchIdx, int dataloaderIdx) {
            // the most likely digit of every image of the batch, and its probability
            NDArray probabilities = forward(batch.getData().head()).softmax(1);
            return new NDList(probabilities.argMax(1), probabilities.max(new int[] {1}));
        }
        // end-snippet:predict-step
    }

    /**
     * Loads a trained classifier and classifies one random image.
     *
     * @param checkpoint the classifier's checkpoint
     * @param manager owns the image and the result
     * @return the class scores, 1 x 10
     */
    public static NDArray loadAndPredict(Path checkpoint, NDManager manager) {
        NDArray yHat;
        // snippet:load
        try (LitClassifier model = LightningModule.loadFromCheckpoint(LitClassifier.class, checkpoint)) {
            // evaluation mode (dropout off), and no parameter records gradients: torch.no_grad() for this model
            model.freeze();
            NDArray x = manager.randomUniform(0, 1, new Shape(1, 28 * 28));
            yHat = model.forward(x);
        }
        // end-snippet:load
        return yHat;
    }

    /**
     * Predicts every image of a dataset with the Trainer, keeping the predictions.
     *
     * @param model the classifier; the predictions are freed when it is closed
     * @param images the images
     * @return per batch, the digits and their probabilities
     */
    public static List<Object> predict(LitDigitClassifier model, RandomAccessDataset images) {
        // snippet:predict
        DataLoader loader = DataLoader.of(images).batchSize(256).build();
        Trainer trainer = Trainer.builder().logger(false).build();
        List<Object> predictions = trainer.predict(model, loader);   // per batch, what predictStep returned
        // end-snippet:predict
        return predictions;
    }

    /**
     * The digits predicted for a batch of images, with their probabilities, read to the host.
     *
     * @param digits the most likely digit of each image
     * @param probabilities its probability
     */
    public record Digits(long[] digits, float[] probabilities) {}

    /**
     * Classifies images with Monte Carlo dropout: each prediction is the mean of 20 dropout draws.
     *
     * @param trained the trained classifier
     * @param images the images
     * @return the digits of the first 256 images
     */
    public static Digits monteCarloDropout(LitClassifier trained, RandomAccessDataset images) {
        long[] digits;
        float[] confidence;
        // snippet:mc-dropout
        try (LitMcDropoutModel mc = new LitMcDropoutModel(trained, 20)) {
            Trainer trainer = Trainer.builder().logger(false).build();
            List<Object> predictions = trainer.predict(mc, DataLoader.of(images).batchSize(256).build());
            NDArray probabilities = (NDArray) predictions.get(0);   // the first batch, 256 x 10
            // read what you need before mc.close() frees the predictions
            digits = probabilities.argMax(1).toLongArray();
            confidence = probabilities.max(new int[] {1}).toFloatArray();
        }
        // end-snippet:mc-dropout
        return new Digits(digits, confidence);
    }

    /**
     * Predicts a dataset and writes the predictions to files, keeping none in memory.
     *
     * @param model the classifier
     * @param images the images
     * @param outputDir where the files go
     * @return the writer, which names its files
     */
    public static FilePredictionWriter writePredictions(
            LitDigitClassifier model, RandomAccessDataset images, Path outputDir) {
        DataLoader loader = DataLoader.of(images).batchSize(256).build();
        // snippet:file-writer
        FilePredictionWriter writer = new FilePredictionWriter(outputDir, "epoch");
        Trainer trainer = Trainer.builder().logger(false).callbacks(writer).build();
        trainer.predict(model, List.of(loader), false);   // false: keep no prediction in memory
        // end-snippet:file-writer
        return writer;
    }

    // snippet:custom-writer
    /** Writes a CSV line per image as soon as its batch is predicted: its index in the dataset, digit, probability. */
    public static class CsvPredictionWriter extends BasePredictionWriter {

        private final Path file;

        /**
         * Creates the writer.
         *
         * @param file the CSV file, replaced at the start of each prediction run
         */
        public CsvPredictionWriter(Path file) {
            super("batch");
            this.file = file;
        }

        @Override
        public void onPredictStart(Trainer trainer, LightningModule module) {
            write("index,digit,probability\n", StandardOpenOption.TRUNCATE_EXISTING);
        }

        @Override
        protected void writeOnBatchEnd(Trainer trainer, LightningModule module, Object prediction,
                List<Long> batchIndices, Batch batch, int batchIdx, int dataloaderIdx) {
            NDList digitsAndProbabilities = (NDList) prediction;
            long[] digits = digitsAndProbabilities.get(0).toLongArray();
            float[] probabilities = digitsAndProbabilities.get(1).toFloatArray();
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < digits.length; i++) {
                lines.append(batchIndices.get(i)).append(',').append(digits[i]).append(',')
                        .append(probabilities[i]).append('\n');
            }
            write(lines, StandardOpenOption.APPEND);
        }

        private void write(CharSequence text, StandardOpenOption mode) {
            try {
                Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE, mode);
            } catch (IOException e) {
                throw new UncheckedIOException("could not write predictions to " + file, e);
            }
        }
    }
    // end-snippet:custom-writer

    /**
     * Predicts a dataset and writes the predictions to a CSV file, as they come.
     *
     * @param model the classifier
     * @param images the images
     * @param csv the file
     */
    public static void writeCsv(LitDigitClassifier model, RandomAccessDataset images, Path csv) {
        DataLoader loader = DataLoader.of(images).batchSize(256).shuffle(true).build();
        // snippet:csv-writer
        Trainer trainer = Trainer.builder().logger(false).callbacks(new CsvPredictionWriter(csv)).build();
        trainer.predict(model, List.of(loader), false);
        // end-snippet:csv-writer
    }
}
