package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.data.BatchIterator;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.guide.ValidationTestGuide.LitAutoEncoder;
import io.github.djllightning.trainer.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The samples of {@code docs/validation-and-test.md} on small MNIST slices. */
class ValidationTestGuideTest {

    @TempDir
    Path root;

    @Test
    void theTestStepGivesTheTestSetsMeanLossAndPrintsItsTable() throws Exception {
        MnistDataset[] splits = ValidationTestGuide.loadMnist();
        try (MnistDataset trainSet = splits[0]; MnistDataset testSet = splits[1]) {
            assertThat(trainSet.size()).isEqualTo(60_000);
            assertThat(testSet.size()).isEqualTo(10_000);
            assertThat(testSet.usage()).isEqualTo(Usage.TEST);
        }
        Engine.getInstance().setRandomSeed(31);
        try (MnistDataset testSet = MnistDataset.builder().usage(Usage.TEST).limit(600).build();
                LitAutoEncoder autoencoder = newModule()) {
            String printed;
            double testLoss;
            PrintStream previous = System.out;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                testLoss = ValidationTestGuide.test(autoencoder, testSet, root);
            } finally {
                System.setOut(previous);
                printed = out.toString(StandardCharsets.UTF_8);
            }
            // batches of 256, 256 and 88 images, weighted by their sizes: the mean over all 600 images
            assertThat(testLoss).isCloseTo(reconstructionLoss(autoencoder, testSet.images()), within(1e-6));
            assertThat(printed).contains("Test metric").contains("DataLoader 0").contains("test_loss")
                    .contains(String.valueOf(testLoss).substring(0, 6));
        }
    }

    @Test
    void theSeededSplitIsEightyTwentyDisjointAndTheSameEveryTime() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            ArrayDataset numbered = new ArrayDataset.Builder()
                    .setData(manager.arange(1000f))
                    .optLabels(manager.arange(1000f))
                    .setSampling(1, false)
                    .build();
            RandomAccessDataset[] parts = ValidationTestGuide.split(numbered);
            List<Float> train = values(parts[0], manager);
            List<Float> valid = values(parts[1], manager);
            assertThat(train).hasSize(800);
            assertThat(valid).hasSize(200);
            Set<Float> all = new HashSet<>(train);
            all.addAll(valid);
            assertThat(all).hasSize(1000);
            assertThat(values(ValidationTestGuide.split(numbered)[1], manager)).containsExactlyElementsOf(valid);
            assertThat(valid).isNotEqualTo(new ArrayList<>(valid).stream().sorted().toList());
        }
        try (MnistDataset trainSet = MnistDataset.builder().usage(Usage.TRAIN).build()) {
            RandomAccessDataset[] parts = ValidationTestGuide.split(trainSet);
            assertThat(parts[0].size()).isEqualTo(48_000);
            assertThat(parts[1].size()).isEqualTo(12_000);
        }
    }

    @Test
    void fitValidatesOnTheValidationPartAndValidateReportsItsMeanLoss() throws Exception {
        Engine.getInstance().setRandomSeed(32);
        try (MnistDataset trainSet = MnistDataset.builder().usage(Usage.TRAIN).limit(1280).build();
                LitAutoEncoder autoencoder = newModule()) {
            RandomAccessDataset[] parts = ValidationTestGuide.split(trainSet);
            double valLoss = ValidationTestGuide.fitAndValidate(autoencoder, parts[0], parts[1], root);
            NDArray validImages;
            try (NDManager manager = NDManager.newBaseManager();
                    BatchIterator batches = DataLoader.of(parts[1]).batchSize(256).build().iterator(manager, 0);
                    Batch batch = batches.next()) {
                validImages = batch.getData().head();
                assertThat(validImages.getShape().get(0)).isEqualTo(256);
                assertThat(valLoss).isCloseTo(reconstructionLoss(autoencoder, validImages), within(1e-6));
            }
            assertThat(root.resolve("lightning_logs/version_0/checkpoints/epoch=0-step=32.ckpt")).isRegularFile();
        }
    }

    @Test
    void validationRunsTwiceInEverySecondEpochOnTwoBatchesAfterASanityCheckOfOne() throws Exception {
        List<String> runs = new ArrayList<>();
        int[] batchesInRun = new int[1];
        try (MnistDataset trainSet = MnistDataset.builder().usage(Usage.TRAIN).limit(256).build();
                MnistDataset valSet = MnistDataset.builder().usage(Usage.TEST).limit(160).build();
                LitAutoEncoder autoencoder = new LitAutoEncoder(KeyStepsGuide.encoder(), KeyStepsGuide.decoder()) {
                    @Override
                    public void onValidationBatchStart(Batch batch, int batchIdx, int dataloaderIdx) {
                        batchesInRun[0]++;
                    }

                    @Override
                    public void onValidationEnd() {
                        runs.add((getTrainer().isSanityChecking() ? "sanity" : "step " + globalStep())
                                + " x" + batchesInRun[0]);
                        batchesInRun[0] = 0;
                    }
                }) {
            Trainer trainer = ValidationTestGuide.scheduledValidation(root);
            trainer.fit(autoencoder, DataLoader.of(trainSet).batchSize(32).build(),
                    DataLoader.of(valSet).batchSize(32).build());
            assertThat(runs).containsExactly("sanity x1", "step 12 x2", "step 16 x2", "step 28 x2", "step 32 x2");
        }
    }

    private static LitAutoEncoder newModule() {
        return new LitAutoEncoder(KeyStepsGuide.encoder(), KeyStepsGuide.decoder());
    }

    private static double reconstructionLoss(LitAutoEncoder autoencoder, NDArray images) {
        try (NDScope scope = new NDScope()) {
            NDArray x = images.reshape(-1, 28 * 28);
            return autoencoder.forward("decoder", autoencoder.forward("encoder", x)).sub(x).square().mean().getFloat();
        }
    }

    private static List<Float> values(RandomAccessDataset dataset, NDManager manager) {
        List<Float> values = new ArrayList<>();
        try (NDManager scratch = manager.newSubManager();
                BatchIterator batches = DataLoader.of(dataset).batchSize(100).build().iterator(scratch, 0)) {
            while (batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    for (float value : batch.getData().head().toFloatArray()) {
                        values.add(value);
                    }
                }
            }
        }
        return values;
    }
}
