package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.checkpoint.ParameterNames;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.guide.TrainingGuide.Decoder;
import io.github.djllightning.examples.guide.TrainingGuide.Encoder;
import io.github.djllightning.examples.guide.TrainingGuide.LitAutoEncoder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The samples of {@code docs/training.md}: the blocks, the module, the Trainer and the loop it replaces. */
class TrainingGuideTest {

    @TempDir
    Path root;

    @Test
    void theBlocksHavePyTorchsNamesAndInitialization() {
        try (LitAutoEncoder autoencoder = new LitAutoEncoder(new Encoder(), new Decoder());
                NDManager manager = NDManager.newBaseManager()) {
            // the first input creates the parameters (outside an NDScope, which would close them)
            NDArray code = autoencoder.forward(autoencoder.child("encoder"), manager.zeros(new Shape(1, 28 * 28)));
            autoencoder.forward(autoencoder.child("decoder"), code);
            Map<String, Parameter> parameters = ParameterNames.of(autoencoder);
            assertThat(parameters.keySet()).containsExactly(
                    "encoder.l1.0.weight", "encoder.l1.0.bias", "encoder.l1.2.weight", "encoder.l1.2.bias",
                    "decoder.l1.0.weight", "decoder.l1.0.bias", "decoder.l1.2.weight", "decoder.l1.2.bias");
            NDArray firstWeight = parameters.get("encoder.l1.0.weight").getArray();
            assertThat(firstWeight.getShape()).isEqualTo(new Shape(64, 28 * 28));
            // nn.Linear(784, 64) draws from [-1/sqrt(784), 1/sqrt(784)] = [-0.0357, 0.0357]
            float bound = (float) (1 / Math.sqrt(28 * 28));
            for (float w : firstWeight.toFloatArray()) {
                assertThat(Math.abs(w)).isLessThanOrEqualTo(bound);
            }
            assertThat(parameters.get("decoder.l1.2.weight").getArray().getShape()).isEqualTo(new Shape(784, 64));
        }
    }

    @Test
    void theTrainerAndTheHandWrittenLoopTrainTheSameModel() throws Exception {
        try (MnistDataset all = TrainingGuide.trainingImages()) {
            assertThat(all.size()).isEqualTo(60_000);
        }
        try (MnistDataset images = MnistDataset.builder().usage(Usage.TRAIN).limit(640).build();
                NDManager manager = NDManager.newBaseManager()) {
            DataLoader loader = TrainingGuide.trainLoader(images);
            assertThat(loader.numBatches()).isEqualTo(20);
            NDArray x = images.images().reshape(-1, 28 * 28);

            Engine.getInstance().setRandomSeed(21);
            double untrained;
            try (LitAutoEncoder fresh = new LitAutoEncoder(new Encoder(), new Decoder())) {
                untrained = reconstructionLoss(fresh, x);
            }
            Engine.getInstance().setRandomSeed(22);
            try (LitAutoEncoder byTrainer = TrainingGuide.trainWithTrainer(loader, root)) {
                Engine.getInstance().setRandomSeed(22);
                try (LitAutoEncoder byHand = TrainingGuide.trainByHand(loader)) {
                    double trainerLoss = reconstructionLoss(byTrainer, x);
                    double handLoss = reconstructionLoss(byHand, x);
                    assertThat(trainerLoss).isLessThan(untrained * 0.8);
                    assertThat(handLoss).isCloseTo(trainerLoss, within(1e-4));

                    Map<String, Parameter> trained = ParameterNames.of(byTrainer);
                    Map<String, Parameter> handTrained = ParameterNames.of(byHand);
                    for (String name : List.copyOf(trained.keySet())) {
                        float[] a = trained.get(name).getArray().toFloatArray();
                        float[] b = handTrained.get(name).getArray().toFloatArray();
                        double maxDiff = 0;
                        for (int i = 0; i < a.length; i++) {
                            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                        }
                        assertThat(maxDiff).as(name).isLessThan(1e-4);
                    }
                }
            }
            assertThat(root.resolve("lightning_logs/version_0/checkpoints/epoch=0-step=20.ckpt")).isRegularFile();
        }
    }

    private static double reconstructionLoss(LitAutoEncoder autoencoder, NDArray x) {
        try (NDScope scope = new NDScope()) {
            NDArray xHat = autoencoder.forward(autoencoder.child("decoder"),
                    autoencoder.forward(autoencoder.child("encoder"), x));
            return xHat.sub(x).square().mean().getFloat();
        }
    }
}
