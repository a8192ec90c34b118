package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkpoints page's samples save, resume, stop and export as the page says, on MNIST slices. */
class CheckpointsGuideTest {

    private static MnistDataset train;
    private static MnistDataset val;

    @TempDir
    Path dir;

    @BeforeAll
    static void loadMnist() throws Exception {
        train = GuideData.train(100 * 32);
        val = GuideData.test(640);
    }

    @AfterAll
    static void closeMnist() {
        train.close();
        val.close();
    }

    /** {@code batches} batches of 32 training images, the same ones each time. */
    private static DataLoader trainLoader(int batches) {
        return DataLoader.of(GuideData.subset(train, batches * 32)).batchSize(32).build();
    }

    private static DataLoader valLoader() {
        return DataLoader.of(val).batchSize(64).build();
    }

    private static List<String> files(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void theConfiguredCallbackKeepsTheThreeBestByValLossAndLast() throws Exception {
        Trainer trainer = CheckpointsGuide.configuredCheckpoints(dir);
        try (LitAutoEncoder autoencoder = LitAutoEncoder.create()) {
            trainer.fit(autoencoder, trainLoader(100), valLoader());
        }
        ModelCheckpoint checkpoint = trainer.checkpointCallback();
        Map<String, Double> best = checkpoint.bestKModels();
        assertThat(trainer.globalStep()).isEqualTo(400);
        assertThat(best).hasSize(3);
        assertThat(files(dir)).hasSize(4).contains("last.ckpt");
        for (Map.Entry<String, Double> kept : best.entrySet()) {
            String name = Path.of(kept.getKey()).getFileName().toString();
            assertThat(files(dir)).contains(name);
            assertThat(name).matches("epoch=[0-3]-val_loss=\\d\\.\\d\\d(-v\\d)?\\.ckpt")
                    .contains(String.format(Locale.ROOT, "val_loss=%.2f", kept.getValue()));
        }
        assertThat(checkpoint.bestModelScore()).isEqualTo(Collections.min(best.values()));
    }

    @Test
    void aSecondRunContinuesFromLastInsteadOfStartingOver() throws Exception {
        try (CountingAutoEncoder first = new CountingAutoEncoder();
                CountingAutoEncoder second = new CountingAutoEncoder()) {
            CheckpointsGuide.trainOrResume(first, trainLoader(10), valLoader(), dir, 1);
            assertThat(first.trainingSteps()).isEqualTo(10);
            assertThat(dir.resolve("last.ckpt")).isRegularFile();

            Trainer trainer = CheckpointsGuide.trainOrResume(second, trainLoader(10), valLoader(), dir, 2);
            assertThat(second.trainingSteps()).as("only the second epoch is trained").isEqualTo(10);
            assertThat(trainer.globalStep()).isEqualTo(20);
            assertThat(trainer.currentEpoch()).isEqualTo(2);
        }
    }

    @Test
    void anInterruptedFitReturnsTheSignalsExitCodeAndTheNextRunFinishesIt() throws Exception {
        try (CountingAutoEncoder stopped = new CountingAutoEncoder().interruptAfter(15);
                CountingAutoEncoder resumed = new CountingAutoEncoder()) {
            int code = CheckpointsGuide.fitUntilDoneOrStopped(stopped, trainLoader(10), valLoader(), dir);
            assertThat(code).isEqualTo(143);
            assertThat(stopped.trainingSteps()).isEqualTo(15);
            assertThat(dir.resolve("last.ckpt")).isRegularFile();

            code = CheckpointsGuide.fitUntilDoneOrStopped(resumed, trainLoader(10), valLoader(), dir);
            assertThat(code).isZero();
            assertThat(resumed.trainingSteps()).as("10 epochs of 10 batches, 15 done before").isEqualTo(85);
            assertThat(resumed.globalStep()).isEqualTo(100);
        }
    }

    @Test
    void aFailedFitLeavesACheckpointThatTheNextFitResumesAndDeletes() throws Exception {
        try (CountingAutoEncoder failing = new CountingAutoEncoder().failAfter(13);
                CountingAutoEncoder resumed = new CountingAutoEncoder()) {
            assertThatThrownBy(() -> CheckpointsGuide.fitKeepingAFailedRun(failing, trainLoader(10), dir))
                    .hasStackTraceContaining("a failure at global step 13");
            assertThat(dir.resolve("on_exception.ckpt")).isRegularFile();

            Trainer trainer = CheckpointsGuide.fitKeepingAFailedRun(resumed, trainLoader(10), dir);
            assertThat(trainer.globalStep()).isEqualTo(20);
            assertThat(resumed.trainingSteps()).as("from the batch that failed to the end").isEqualTo(7);
            assertThat(dir.resolve("on_exception.ckpt")).doesNotExist();
        }
    }

    @Test
    void everyCheckpointIsCopiedToTheBackupFolder() throws Exception {
        Trainer trainer = CheckpointsGuide.mirrored(dir);
        try (LitAutoEncoder autoencoder = LitAutoEncoder.create()) {
            trainer.fit(autoencoder, trainLoader(5));
        }
        Path original = Path.of(trainer.checkpointCallback().bestModelPath());
        Path copy = dir.resolve(trainer.defaultRootDir().toAbsolutePath().relativize(original));
        assertThat(copy.toString()).endsWith("checkpoints/epoch=0-step=5.ckpt");
        assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(original));
    }

    @Test
    void theExportedEncoderLoadsWithDjlAndEncodesAsTheTrainedModule() throws Exception {
        try (CountingAutoEncoder autoencoder = new CountingAutoEncoder();
                NDManager manager = NDManager.newBaseManager()) {
            CheckpointsGuide.trainOrResume(autoencoder, trainLoader(10), valLoader(), dir.resolve("ck"), 1);
            Path params = CheckpointsGuide.exportEncoder(dir.resolve("ck/last.ckpt"), dir.resolve("model"));
            assertThat(params).isEqualTo(dir.resolve("model/encoder-0000.params"));

            NDArray images = GuideData.testImages(manager, 4);
            float[] expected = autoencoder.forward(autoencoder.child("encoder"), images).toFloatArray();
            Criteria<NDList, NDList> criteria = Criteria.builder().setTypes(NDList.class, NDList.class)
                    .optModelPath(dir.resolve("model")).optModelName("encoder").optBlock(LitAutoEncoder.encoder())
                    .build();
            try (ZooModel<NDList, NDList> model = criteria.loadModel();
                    Predictor<NDList, NDList> predictor = model.newPredictor()) {
                NDArray codes = predictor.predict(new NDList(images)).singletonOrThrow();
                assertThat(codes.getShape().getShape()).containsExactly(4, 3);
                assertThat(codes.toFloatArray()).containsExactly(expected);
            }
        }
    }
}
