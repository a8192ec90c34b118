package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.callbacks.StochasticWeightAveraging;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.guide.KeyStepsGuide.CustomLoopAutoEncoder;
import io.github.djllightning.examples.guide.KeyStepsGuide.LitAutoEncoder;
import io.github.djllightning.examples.guide.KeyStepsGuide.ManualAutoEncoder;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.trainer.GradientClipAlgorithm;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The samples of {@code docs/key-steps.md} on small MNIST slices: what the page promises each step does. */
class KeyStepsGuideTest {

    @TempDir
    Path root;

    @Test
    void theSeedsStepsTrainSaveLogAndEmbedFourImages() throws Exception {
        Engine.getInstance().setRandomSeed(11);
        try (MnistDataset all = KeyStepsGuide.trainingImages()) {
            assertThat(all.size()).isEqualTo(60_000);
            assertThat(all.images().getShape()).isEqualTo(new Shape(60_000, 1, 28, 28));
        }
        // 100 batches of 32: the seed's limitTrainBatches(100) reached exactly
        try (MnistDataset images = MnistDataset.builder().usage(Usage.TRAIN).limit(3200).build();
                LitAutoEncoder autoencoder = KeyStepsGuide.createAutoEncoder()) {
            DataLoader loader = KeyStepsGuide.trainLoader(images);
            assertThat(loader.numBatches()).isEqualTo(100);
            Trainer trainer = KeyStepsGuide.train(autoencoder, loader, root);
            assertThat(trainer.globalStep()).isEqualTo(100);
            assertThat(trainer.callbackMetrics()).containsKey("train_loss");
        }
        Path version = root.resolve("lightning_logs/version_0");
        assertThat(version.resolve("checkpoints/epoch=0-step=100.ckpt")).isRegularFile();
        // visualising: the default logger with lightning-loggers present writes TensorBoard's event file
        try (Stream<Path> files = Files.list(version)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .anyMatch(name -> name.startsWith("events.out.tfevents."));
        }

        String printed;
        PrintStream previous = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray embeddings = KeyStepsGuide.embedFourFakeImages(root, manager);
            assertThat(embeddings.getShape()).isEqualTo(new Shape(4, 3));
            for (float value : embeddings.toFloatArray()) {
                assertThat(value).isFinite();
            }
        } finally {
            System.setOut(previous);
            printed = out.toString(StandardCharsets.UTF_8);
        }
        assertThat(printed).contains("Predictions (4 image embeddings):").contains("⚡⚡⚡");
    }

    @Test
    void aGpuNeedsTheCudaNativesAndWhatIsNotAvailableIsRefused() {
        if (Engine.getInstance().getGpuCount() > 0) {
            assertThat(KeyStepsGuide.gpuTrainer().device()).isEqualTo(Device.gpu(0));
        } else {
            assertThatThrownBy(KeyStepsGuide::gpuTrainer)
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("no CUDA device")
                    .hasMessageContaining("pytorch-native-cpu");
        }
        assertThatThrownBy(() -> Trainer.builder().accelerator("gpu").devices(4).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("several devices");
        assertThatThrownBy(() -> Trainer.builder().accelerator("tpu").build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("not available");
        assertThatThrownBy(() -> Trainer.builder().precision("16-mixed").build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("32-true");
    }

    @Test
    void overfittingOneBatchForTenEpochsDrivesItsLossDown() throws Exception {
        Engine.getInstance().setRandomSeed(12);
        try (MnistDataset images = MnistDataset.builder().usage(Usage.TRAIN).limit(256).build();
                LitAutoEncoder autoencoder = KeyStepsGuide.createAutoEncoder();
                NDManager manager = NDManager.newBaseManager()) {
            NDArray firstBatch = images.images().get("0:32").reshape(-1, 28 * 28);
            Trainer trainer = KeyStepsGuide.overfitOneBatch(autoencoder, KeyStepsGuide.trainLoader(images), root);
            assertThat(trainer.currentEpoch()).isEqualTo(10);
            assertThat(trainer.globalStep()).isEqualTo(10);
            double trainedLoss = reconstructionLoss(autoencoder, firstBatch);
            try (LitAutoEncoder fresh = KeyStepsGuide.createAutoEncoder()) {
                assertThat(trainedLoss).isLessThan(reconstructionLoss(fresh, firstBatch) * 0.7);
            }
        }
    }

    @Test
    void weightAveragingAveragesTheLastTwoOfFiveEpochsAndMirroringCopiesTheCheckpoint() throws Exception {
        try (MnistDataset images = MnistDataset.builder().usage(Usage.TRAIN).limit(128).build();
                LitAutoEncoder averaged = KeyStepsGuide.createAutoEncoder();
                LitAutoEncoder mirrored = KeyStepsGuide.createAutoEncoder()) {
            DataLoader loader = KeyStepsGuide.trainLoader(images);
            StochasticWeightAveraging swa = KeyStepsGuide.averageWeights(averaged, loader, root.resolve("swa"));
            assertThat(swa.swaStart()).isEqualTo(3);
            assertThat(swa.nAveraged()).isEqualTo(2);

            Path backup = root.resolve("backup");
            KeyStepsGuide.mirrorCheckpoints(mirrored, loader, root.resolve("run"), backup);
            assertThat(root.resolve("run/lightning_logs/version_0/checkpoints/epoch=0-step=4.ckpt")).isRegularFile();
            assertThat(backup.resolve("lightning_logs/version_0/checkpoints/epoch=0-step=4.ckpt")).isRegularFile();
        }
    }

    @Test
    void theOverriddenHooksWarmUpTimeBackwardCountWindowsAndClipAfterTheWarmUp() throws Exception {
        Engine.getInstance().setRandomSeed(13);
        double clipLimit = 1e-3;
        List<Double> learningRates = new ArrayList<>();
        List<Double> clippedNorms = new ArrayList<>();
        Callback lrRecorder = new Callback() {
            @Override
            public void onTrainBatchEnd(
                    Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
                learningRates.add(trainer.optimizers().get(0).lr());
            }
        };
        try (MnistDataset images = MnistDataset.builder().usage(Usage.TRAIN).limit(256).build();
                CustomLoopAutoEncoder module = new CustomLoopAutoEncoder(
                        KeyStepsGuide.encoder(), KeyStepsGuide.decoder(), 4) {
                    @Override
                    public void configureGradientClipping(
                            Optimizer optimizer, Double gradientClipVal, GradientClipAlgorithm algorithm) {
                        super.configureGradientClipping(optimizer, gradientClipVal, algorithm);
                        clippedNorms.add(gradientNorm(optimizer));
                    }
                }) {
            Trainer trainer = quietTrainer().maxSteps(8).gradientClipVal(clipLimit).callbacks(lrRecorder).build();
            trainer.fit(module, KeyStepsGuide.trainLoader(images));

            assertThat(learningRates).hasSize(8);
            double[] expected = {2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3};
            for (int i = 0; i < expected.length; i++) {
                assertThat(learningRates.get(i)).as("lr of step %d", i + 1).isCloseTo(expected[i], within(1e-12));
            }
            assertThat(trainer.callbackMetrics()).containsKeys("lr", "backward_ms");
            assertThat(trainer.callbackMetrics().get("backward_ms")).isGreaterThanOrEqualTo(0.0);
            assertThat(module.gradientWindows()).isEqualTo(8);
            assertThat(clippedNorms).hasSize(8);
            assertThat(clippedNorms.subList(0, 4)).as("not clipped in the warm-up").anyMatch(n -> n > clipLimit * 2);
            assertThat(clippedNorms.subList(4, 8)).as("clipped after it").allMatch(n -> n <= clipLimit * 1.001);
        }

        try (MnistDataset images = MnistDataset.builder().usage(Usage.TRAIN).limit(256).build();
                CustomLoopAutoEncoder module = new CustomLoopAutoEncoder(
                        KeyStepsGuide.encoder(), KeyStepsGuide.decoder(), 4)) {
            Trainer trainer = quietTrainer().maxEpochs(1).accumulateGradBatches(2).build();
            trainer.fit(module, KeyStepsGuide.trainLoader(images));
            assertThat(trainer.globalStep()).isEqualTo(4);
            assertThat(module.gradientWindows()).as("one per accumulation window of 2 batches").isEqualTo(4);
        }
    }

    @Test
    void manualOptimizationStepsOnceEveryTwoBatchesAndLearns() throws Exception {
        Engine.getInstance().setRandomSeed(14);
        List<Double> losses = new ArrayList<>();
        Callback recorder = new Callback() {
            @Override
            public void onTrainBatchEnd(
                    Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
                losses.add((double) ((NDArray) outputs.get("loss")).getFloat());
            }
        };
        try (MnistDataset images = MnistDataset.builder().usage(Usage.TRAIN).limit(1024).build();
                ManualAutoEncoder module = new ManualAutoEncoder(KeyStepsGuide.encoder(), KeyStepsGuide.decoder())) {
            Trainer trainer = quietTrainer().maxEpochs(2).callbacks(recorder).build();
            trainer.fit(module, KeyStepsGuide.trainLoader(images));
            assertThat(losses).hasSize(64);
            assertThat(trainer.globalStep()).as("one optimizer step per two batches").isEqualTo(32);
            double first = losses.subList(0, 8).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            double last = losses.subList(56, 64).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            assertThat(last).isLessThan(first * 0.8);
        }
    }

    private TrainerConfig.Builder<Trainer> quietTrainer() {
        return Trainer.builder().defaultRootDir(root).logger(false).enableCheckpointing(false)
                .enableProgressBar(false).enableModelSummary(false);
    }

    private static double reconstructionLoss(LightningModule autoencoder, NDArray x) {
        try (NDScope scope = new NDScope()) {
            Block encoder = autoencoder.child("encoder");
            Block decoder = autoencoder.child("decoder");
            return autoencoder.forward(decoder, autoencoder.forward(encoder, x)).sub(x).square().mean().getFloat();
        }
    }

    private static double gradientNorm(Optimizer optimizer) {
        double sum = 0;
        try (NDScope scope = new NDScope()) {
            for (Parameter parameter : optimizer.parameters()) {
                for (float g : parameter.getArray().getGradient().toFloatArray()) {
                    sum += (double) g * g;
                }
            }
        }
        return Math.sqrt(sum);
    }
}
