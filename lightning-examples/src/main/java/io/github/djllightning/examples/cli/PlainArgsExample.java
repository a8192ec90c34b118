package io.github.djllightning.examples.cli;

import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.Datasets;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.Args;
import io.github.djllightning.examples.classifier.LitClassifier;
import io.github.djllightning.trainer.Trainer;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The seed's hand-made command line, argparse style: a few named arguments, each with a type and a default, some for
 * the Trainer and some for the model.
 *
 * <pre>
 * scripts/run-example.sh plain-args --layer_1_dim 64 --devices 1
 * </pre>
 *
 * <p>Arguments: {@code --layer_1_dim} (int, 128: the hidden units), {@code --devices} (int, 1), {@code --max_epochs}
 * (int, 1), {@code --limit_train_batches} (int, 100), {@code --root} (where {@code lightning_logs} goes).
 */
public final class PlainArgsExample {

    private PlainArgsExample() {}

    /**
     * Trains the classifier with the parsed arguments and prints its validation accuracy.
     *
     * @param args the arguments above
     * @throws Exception when MNIST cannot be read
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = Args.parse(args,
                List.of("layer_1_dim", "devices", "max_epochs", "limit_train_batches", "root"));
        // Trainer arguments
        int devices = Args.intValue(options, "devices", 1);
        int maxEpochs = Args.intValue(options, "max_epochs", 1);
        int limitTrainBatches = Args.intValue(options, "limit_train_batches", 100);
        // Hyperparameters for the model
        int layer1Dim = Args.intValue(options, "layer_1_dim", 128);

        var builder = Trainer.builder().devices(devices).maxEpochs(maxEpochs).limitTrainBatches(limitTrainBatches)
                .enableProgressBar(false);
        if (options.containsKey("root")) {
            builder.defaultRootDir(options.get("root"));
        }
        Trainer trainer = builder.build();
        try (MnistDataset all = MnistDataset.builder().usage(Usage.TRAIN).limit(12_000).build();
                LitClassifier model = new LitClassifier(new LitClassifier.HParams(layer1Dim, 0.2f, 1e-3))) {
            RandomAccessDataset[] split = Datasets.randomSplit(all, new long[] {10_000, 2_000}, 42);
            trainer.fit(model, DataLoader.of(split[0]).batchSize(64).shuffle(true).build(),
                    DataLoader.of(split[1]).batchSize(500).build());
            double accuracy = trainer.callbackMetrics().get("val_accuracy");
            System.out.printf(Locale.ROOT, "layer_1_dim=%d devices=%d: val_accuracy %.4f%n", layer1Dim, devices,
                    accuracy);
            System.out.println("RESULT val_accuracy=" + accuracy);
        }
    }
}
