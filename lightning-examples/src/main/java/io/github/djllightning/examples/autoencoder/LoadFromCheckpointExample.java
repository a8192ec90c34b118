package io.github.djllightning.examples.autoencoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.Args;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The seed's "use the model" step, in Java: load the trained autoencoder from its checkpoint, passing the encoder and
 * decoder it was built with, and embed 4 fake images with its encoder.
 *
 * <pre>{@code
 * LitAutoEncoder autoencoder = LitAutoEncoder.loadFromCheckpoint(
 *         LitAutoEncoder.class, checkpoint, Map.of(), LitAutoEncoder.encoder(), LitAutoEncoder.decoder());
 * NDArray embeddings = autoencoder.forward("encoder", manager.randomUniform(0, 1, new Shape(4, 28 * 28)));
 * }</pre>
 *
 * <p>Arguments (all optional): {@code --checkpoint FILE} (the checkpoint to load; by default the newest one under
 * {@code ROOT/lightning_logs}, and when there is none the autoencoder is first trained as in the seed, 100 batches
 * of one epoch), {@code --root DIR} (where {@code lightning_logs} is; the working directory), {@code
 * --limit-train-batches N} (the batches of that training run; 100).
 */
public final class LoadFromCheckpointExample {

    private LoadFromCheckpointExample() {}

    /**
     * Runs the example.
     *
     * @param args the arguments above
     * @throws Exception when MNIST or the checkpoint cannot be read
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = Args.parse(args, List.of("checkpoint", "root", "limit-train-batches"));
        Path root = Path.of(options.getOrDefault("root", "."));
        Path checkpoint;
        if (options.containsKey("checkpoint")) {
            checkpoint = Path.of(options.get("checkpoint"));
        } else {
            checkpoint = newestCheckpoint(root);
            if (checkpoint == null) {
                int batches = Integer.parseInt(options.getOrDefault("limit-train-batches", "100"));
                System.out.println("No checkpoint under " + root.toAbsolutePath().normalize().resolve(
                        "lightning_logs") + "; training the autoencoder first (" + batches + " batches).");
                checkpoint = train(root, batches);
            }
        }

        // the encoder and decoder are layers, not hyperparameters: they are passed again, as in the seed's
        // LitAutoEncoder.load_from_checkpoint(checkpoint, encoder=encoder, decoder=decoder)
        try (LitAutoEncoder autoencoder = LitAutoEncoder.loadFromCheckpoint(
                        LitAutoEncoder.class, checkpoint, Map.of(), LitAutoEncoder.encoder(), LitAutoEncoder.decoder());
                NDManager manager = NDManager.newBaseManager()) {
            System.out.println("Loaded " + checkpoint.toAbsolutePath().normalize() + " ("
                    + autoencoder.parameters().size() + " parameter arrays, evaluation mode: "
                    + !autoencoder.isTraining() + ")");
            NDArray embeddings = embedFakeImages(autoencoder, manager);
            System.out.println("⚡".repeat(20) + "\nPredictions (4 image embeddings):\n" + embeddings + "\n"
                    + "⚡".repeat(20));
            System.out.println("RESULT embeddings_shape=" + embeddings.getShape());
        }
    }

    /**
     * The seed's "embed 4 fake images": the loaded encoder applied to 4 random flattened images.
     *
     * @param autoencoder the loaded autoencoder
     * @param manager owns the images and the embeddings
     * @return the 4 x 3 embeddings
     */
    public static NDArray embedFakeImages(LitAutoEncoder autoencoder, NDManager manager) {
        NDArray fakeImageBatch = manager.randomUniform(0, 1, new Shape(4, 28 * 28));
        return autoencoder.forward("encoder", fakeImageBatch);
    }

    /**
     * The newest {@code .ckpt} file in the runs under {@code root/lightning_logs}.
     *
     * @param root the folder holding {@code lightning_logs}
     * @return the file, or null when there is none
     * @throws IOException when the folders cannot be listed
     */
    public static Path newestCheckpoint(Path root) throws IOException {
        Path logs = root.resolve("lightning_logs");
        if (!Files.isDirectory(logs)) {
            return null;
        }
        try (Stream<Path> files = Files.walk(logs, 3)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".ckpt") && Files.isRegularFile(p)
                            && p.getParent().getFileName().toString().equals("checkpoints"))
                    .max(Comparator.comparing(LoadFromCheckpointExample::modified))
                    .orElse(null);
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return Long.MIN_VALUE;
        }
    }

    /**
     * Trains the seed's autoencoder for one epoch of at most {@code batches} batches of 32 and returns the checkpoint
     * the Trainer saved, as the seed's {@code Trainer(limit_train_batches=100, max_epochs=1)}.
     *
     * @param root where {@code lightning_logs} goes
     * @param batches the number of training batches
     * @return the checkpoint file
     * @throws IOException when MNIST cannot be read
     */
    public static Path train(Path root, int batches) throws IOException {
        try (MnistDataset mnist = MnistDataset.builder().usage(Usage.TRAIN).build();
                LitAutoEncoder autoencoder = LitAutoEncoder.create()) {
            Trainer trainer = Trainer.builder()
                    .maxEpochs(1)
                    .limitTrainBatches(batches)
                    .defaultRootDir(root)
                    .build();
            trainer.fit(autoencoder, DataLoader.of(mnist).batchSize(32).build());
            ModelCheckpoint saved = trainer.checkpointCallback();
            if (saved == null || saved.bestModelPath() == null || saved.bestModelPath().isEmpty()) {
                throw new IllegalStateException("the training run saved no checkpoint");
            }
            return Path.of(saved.bestModelPath());
        }
    }
}
