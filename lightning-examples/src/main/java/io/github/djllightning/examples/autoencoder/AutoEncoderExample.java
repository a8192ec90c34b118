package io.github.djllightning.examples.autoencoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.Args;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The seed's first example, in Java: train the MNIST autoencoder with the Trainer, then use its encoder.
 *
 * <p>Arguments (all optional): {@code --epochs N} (1), {@code --batch-size N} (32), {@code --limit-train-batches N}
 * (all), {@code --root DIR} (where {@code lightning_logs} goes; the working directory).
 */
public final class AutoEncoderExample {

    private AutoEncoderExample() {}

    /**
     * Runs the example.
     *
     * @param args the arguments above
     * @throws Exception when MNIST cannot be read
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = Args.parse(args, List.of("epochs", "batch-size", "limit-train-batches", "root"));
        int epochs = Integer.parseInt(options.getOrDefault("epochs", "1"));
        int batchSize = Integer.parseInt(options.getOrDefault("batch-size", "32"));
        try (MnistDataset train = MnistDataset.builder().usage(Usage.TRAIN).build();
                MnistDataset test = MnistDataset.builder().usage(Usage.TEST).build()) {
            LitAutoEncoder autoencoder = LitAutoEncoder.create();
            DataLoader trainLoader = DataLoader.of(train).batchSize(batchSize).build();
            DataLoader testLoader = DataLoader.of(test).batchSize(256).build();

            Trainer trainer = trainer(epochs, options);
            double before = testMse(trainer, autoencoder, testLoader);
            trainer.fit(autoencoder, trainLoader);
            double after = testMse(trainer, autoencoder, testLoader);
            System.out.printf(Locale.ROOT, "Test MSE before training: %.5f%n", before);
            System.out.printf(Locale.ROOT, "Test MSE after %d epoch(s): %.5f%n", epochs, after);
            System.out.println("RESULT test_mse=" + after);

            embedFakeImages(autoencoder);
            autoencoder.close();
        }
    }

    private static double testMse(Trainer trainer, LitAutoEncoder autoencoder, DataLoader testLoader) {
        List<Map<String, Double>> results = trainer.test(autoencoder, testLoader);
        return results.get(0).get("test_loss");
    }

    /** The seed's "embed 4 fake images" step: the trained encoder maps images to 3-number codes. */
    private static void embedFakeImages(LitAutoEncoder autoencoder) {
        autoencoder.eval();
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray fakeImages = manager.randomUniform(0, 1, new Shape(4, 28 * 28));
            NDArray embeddings = autoencoder.forward(new NDList(fakeImages)).head();
            System.out.println("⚡".repeat(20) + "\nPredictions (4 image embeddings):\n" + embeddings + "\n"
                    + "⚡".repeat(20));
        }
    }

    private static Trainer trainer(int epochs, Map<String, String> options) {
        TrainerConfig.Builder<Trainer> builder = Trainer.builder().maxEpochs(epochs);
        if (options.containsKey("limit-train-batches")) {
            builder.limitTrainBatches(Integer.parseInt(options.get("limit-train-batches")));
        }
        if (options.containsKey("root")) {
            builder.defaultRootDir(options.get("root"));
        }
        return builder.build();
    }
}
