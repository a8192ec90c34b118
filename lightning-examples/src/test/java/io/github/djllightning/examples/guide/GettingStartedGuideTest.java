package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The README's and the getting-started page's samples train the autoencoder as they say. */
class GettingStartedGuideTest {

    @Test
    void theReadmeSampleTrainsOneHundredBatchesAndLearnsToReconstruct() throws Exception {
        try (MnistDataset train = GuideData.train(100 * 32); NDManager manager = NDManager.newBaseManager()) {
            Trainer trainer = GettingStartedGuide.readme(LitAutoEncoder.encoder(), LitAutoEncoder.decoder(), train);
            try (LightningModule module = trainer.lightningModule()) {
                assertThat(trainer.globalStep()).isEqualTo(100);
                assertThat(trainer.callbackMetrics()).containsKey("train_loss");
                NDArray images = GuideData.testImages(manager, 256);
                assertThat(GuideData.reconstructionMse(module, images))
                        .as("test MSE after 100 steps vs a model that outputs zeros")
                        .isLessThan(0.8 * GuideData.zeroOutputMse(images));
            }
        }
    }

    @Test
    void theGettingStartedSampleTrainsAWholeEpochAndSavesItsCheckpoint() throws Exception {
        try (LitAutoEncoder autoencoder = GettingStartedGuide.trainOneEpoch();
                NDManager manager = NDManager.newBaseManager()) {
            Trainer trainer = autoencoder.getTrainer();
            assertThat(trainer.globalStep()).isEqualTo(60_000 / 32);
            Path logDir = trainer.logDir();
            assertThat(logDir.resolve("checkpoints/epoch=0-step=1875.ckpt")).isRegularFile();
            try (Stream<Path> files = Files.list(logDir)) {
                assertThat(files.map(f -> f.getFileName().toString())).anyMatch(n -> n.startsWith("events.out"));
            }
            NDArray images = GuideData.testImages(manager, 256);
            assertThat(GuideData.reconstructionMse(autoencoder, images)).isLessThan(0.06);
        }
    }
}
