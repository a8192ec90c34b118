package io.github.djllightning.examples.autoencoder;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.log.CsvLogger;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seed's autoencoder trained by the Trainer on a real MNIST slice: what a user checks after a first run. */
class AutoEncoderTrainingTest {

    @TempDir
    Path root;

    @Test
    void lossFallsOnRealMnistAndTheRunLeavesItsFiles() throws Exception {
        Engine.getInstance().setRandomSeed(7);
        List<Double> stepLosses = new ArrayList<>();
        Callback recorder = new Callback() {
            @Override
            public void onTrainBatchEnd(
                    Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
                stepLosses.add((double) ((NDArray) outputs.get("loss")).getFloat());
            }
        };
        try (MnistDataset train = MnistDataset.builder().usage(Usage.TRAIN).limit(2048).build();
                MnistDataset test = MnistDataset.builder().usage(Usage.TEST).limit(512).build();
                LitAutoEncoder autoencoder = LitAutoEncoder.create()) {
            Trainer trainer = Trainer.builder()
                    .maxEpochs(2)
                    .defaultRootDir(root)
                    .enableProgressBar(false)
                    .callbacks(recorder)
                    // metrics.csv is read below; the default logger is TensorBoard's with lightning-loggers present
                    .loggers(new CsvLogger(root))
                    .logEveryNSteps(10)
                    .build();
            DataLoader testLoader = DataLoader.of(test).batchSize(128).build();
            double before = trainer.test(autoencoder, testLoader).get(0).get("test_loss");

            trainer.fit(autoencoder, DataLoader.of(train).batchSize(32).shuffle(true).seed(3).build());

            double after = trainer.test(autoencoder, testLoader).get(0).get("test_loss");
            assertThat(trainer.globalStep()).isEqualTo(2 * 2048 / 32);
            assertThat(stepLosses).hasSize(2 * 2048 / 32);
            double firstTen = stepLosses.subList(0, 10).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            double lastTen = stepLosses.subList(stepLosses.size() - 10, stepLosses.size()).stream()
                    .mapToDouble(Double::doubleValue).average().orElseThrow();
            assertThat(lastTen).as("training loss of the last steps vs the first").isLessThan(firstTen * 0.8);
            assertThat(after).as("test MSE after vs before training").isLessThan(before * 0.8);
            assertThat(after).isLessThan(0.08);

            Path version = root.resolve("lightning_logs/version_0");
            List<String> lines = Files.readAllLines(version.resolve("metrics.csv"));
            assertThat(lines.get(0)).contains("train_loss").contains("test_loss").contains("step").contains("epoch");
            assertThat(lines).hasSizeGreaterThan(2 * 2048 / 32 / 10);
            try (Stream<Path> checkpoints = Files.list(version.resolve("checkpoints"))) {
                assertThat(checkpoints.map(p -> p.getFileName().toString()))
                        .containsExactly("epoch=1-step=128.ckpt");
            }

            autoencoder.eval();
            try (NDManager manager = NDManager.newBaseManager()) {
                NDArray codes = autoencoder.forward(new NDList(manager.randomUniform(0, 1, new Shape(4, 784)))).head();
                assertThat(codes.getShape()).isEqualTo(new Shape(4, 3));
            }
        }
    }
}
