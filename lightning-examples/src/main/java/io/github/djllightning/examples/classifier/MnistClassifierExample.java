package io.github.djllightning.examples.classifier;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.callbacks.EarlyStopping;
import io.github.djllightning.callbacks.FilePredictionWriter;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.Datasets;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.Args;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The seed's validation, test and early-stopping sections on a real task: an MNIST classifier trained on 55,000
 * images, validated on the other 5,000 (a seeded random split), stopped early when {@code val_accuracy} stops
 * improving, checkpointed at its best, and tested on the 10,000 test images with the best checkpoint. Then the best
 * model is loaded from its checkpoint and predicts with Monte Carlo dropout, and a prediction writer saves its
 * predictions of the whole test set to files.
 *
 * <p>Arguments (all optional): {@code --epochs N} (5), {@code --batch-size N} (64), {@code --root DIR} (where {@code
 * lightning_logs} goes; the working directory).
 */
public final class MnistClassifierExample {

    private MnistClassifierExample() {}

    /**
     * Runs the example.
     *
     * @param args the arguments above
     * @throws Exception when MNIST cannot be read
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = Args.parse(args, List.of("epochs", "batch-size", "root"));
        int epochs = Integer.parseInt(options.getOrDefault("epochs", "5"));
        int batchSize = Integer.parseInt(options.getOrDefault("batch-size", "64"));
        try (MnistDataset all = MnistDataset.builder().usage(Usage.TRAIN).build();
                MnistDataset test = MnistDataset.builder().usage(Usage.TEST).build()) {
            RandomAccessDataset[] split = Datasets.randomSplit(all, new long[] {55_000, 5_000}, 42);
            DataLoader trainLoader = DataLoader.of(split[0]).batchSize(batchSize).shuffle(true).build();
            DataLoader valLoader = DataLoader.of(split[1]).batchSize(500).build();
            DataLoader testLoader = DataLoader.of(test).batchSize(500).build();

            ModelCheckpoint checkpoint = ModelCheckpoint.builder().monitor("val_accuracy").mode("max")
                    .filename("{epoch}-{val_accuracy:.4f}").build();
            EarlyStopping earlyStopping = EarlyStopping.builder("val_accuracy").mode("max").patience(3).build();
            TrainerConfig.Builder<Trainer> builder = Trainer.builder().maxEpochs(epochs).seed(7)
                    .callbacks(checkpoint, earlyStopping);
            if (options.containsKey("root")) {
                builder.defaultRootDir(options.get("root"));
            }
            Trainer trainer = builder.build();
            try (LitClassifier classifier = LitClassifier.create()) {
                trainer.fit(classifier, trainLoader, valLoader);
                double accuracy = trainer.test(classifier, List.of(testLoader), "best").get(0).get("test_accuracy");
                System.out.printf(Locale.ROOT, "Best checkpoint: %s (val_accuracy %.4f)%n", checkpoint.bestModelPath(),
                        checkpoint.bestModelScore());
                System.out.printf(Locale.ROOT, "Test accuracy: %.4f%n", accuracy);
                System.out.println("RESULT test_accuracy=" + accuracy);
            }
            Path best = Path.of(checkpoint.bestModelPath());
            monteCarloDropout(best, test);
            writePredictions(best, testLoader, trainer.logDir().resolve("predictions"));
        }
    }

    /**
     * The seed's distributed-inference section, on one process: a prediction writer saves the predictions of the
     * whole test set and the indices of their images to files, and the Trainer keeps nothing in memory.
     */
    private static void writePredictions(Path best, DataLoader testLoader, Path outputDir) {
        try (LitClassifier trained = LightningModule.loadFromCheckpoint(LitClassifier.class, best)) {
            FilePredictionWriter writer = new FilePredictionWriter(outputDir, "epoch");
            Trainer predictor = Trainer.builder().logger(false).enableProgressBar(false).enableModelSummary(false)
                    .callbacks(writer).build();
            predictor.predict(trained, List.of(testLoader), false);
            System.out.println("Predictions written to " + writer.predictionsFile() + " and "
                    + writer.batchIndicesFile());
        }
    }

    /** The seed's inference section: load the best model and predict 8 test digits with MC dropout. */
    private static void monteCarloDropout(Path best, MnistDataset test) {
        LitClassifier trained = LightningModule.loadFromCheckpoint(LitClassifier.class, best);
        try (LitMcDropoutModel mc = new LitMcDropoutModel(trained, 20)) {
            DataLoader eight = DataLoader.of(test).batchSize(8).build();
            Trainer predictor = Trainer.builder().logger(false).enableProgressBar(false).enableModelSummary(false)
                    .limitPredictBatches(1).build();
            NDArray probabilities = (NDArray) predictor.predict(mc, eight).get(0);
            NDArray classes = probabilities.argMax(1);
            NDArray confidence = probabilities.max(new int[] {1});
            System.out.println("MC dropout (20 draws) on 8 test digits:");
            long[] predicted = classes.toLongArray();
            float[] sure = confidence.toFloatArray();
            for (int i = 0; i < predicted.length; i++) {
                System.out.printf(Locale.ROOT, "  digit %d: predicted %d with mean probability %.3f%n", i,
                        predicted[i], sure[i]);
            }
        } finally {
            trained.close();
        }
    }
}
