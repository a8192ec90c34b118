package io.github.djllightning.examples.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.callbacks.OnExceptionCheckpoint;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link MirrorCheckpoints}: every checkpoint of a run, byte for byte, also in the mirror folder. */
class MirrorCheckpointsTest {

    @TempDir
    Path root;

    @TempDir
    Path elsewhere;

    private static List<String> tree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void everyCheckpointOfTheAutoencodersRunIsCopiedUnderTheSameRelativePath() throws IOException {
        Path mirror = elsewhere.resolve("mirror");
        try (MnistDataset train = MnistDataset.builder().usage(Usage.TRAIN).limit(64).build();
                LitAutoEncoder autoencoder = LitAutoEncoder.create()) {
            Trainer trainer = Trainer.builder()
                    .maxEpochs(2)
                    .defaultRootDir(root)
                    .enableProgressBar(false)
                    .enableModelSummary(false)
                    .callbacks(new MirrorCheckpoints(mirror),
                            ModelCheckpoint.builder().saveLast(true).build())
                    .build();
            trainer.fit(autoencoder, DataLoader.of(train).batchSize(32).build());
            trainer.saveCheckpoint(elsewhere.resolve("final.ckpt"));
        }
        Path checkpoints = root.resolve("lightning_logs/version_0/checkpoints");
        String mirrored = "lightning_logs/version_0/checkpoints/";
        // the run keeps only its newest top-1 checkpoint; the mirror keeps every copy it was given
        assertThat(tree(checkpoints)).containsExactly("epoch=1-step=4.ckpt", "last.ckpt");
        assertThat(tree(mirror)).containsExactly("final.ckpt", mirrored + "epoch=0-step=2.ckpt",
                mirrored + "epoch=1-step=4.ckpt", mirrored + "last.ckpt");
        for (String name : tree(checkpoints)) {
            assertThat(Files.readAllBytes(mirror.resolve(mirrored + name))).as(name)
                    .isEqualTo(Files.readAllBytes(checkpoints.resolve(name)));
        }
        assertThat(Files.readAllBytes(mirror.resolve("final.ckpt")))
                .isEqualTo(Files.readAllBytes(elsewhere.resolve("final.ckpt")));
        assertThat(CheckpointReader.readEntries(mirror.resolve(mirrored + "epoch=0-step=2.ckpt")))
                .containsEntry("global_step", 2L);
        assertThat(CheckpointReader.readEntries(mirror.resolve(mirrored + "last.ckpt")))
                .containsEntry("global_step", 4L);
    }

    @Test
    void theCheckpointOfAFailedFitIsMirroredToo() {
        Path mirror = elsewhere.resolve("mirror");
        BoringModule failing = new BoringModule() {
            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                if (getTrainer().globalStep() == 2) {
                    throw new IllegalStateException("node lost");
                }
                return super.trainingStep(batch, batchIdx);
            }
        };
        try (NDManager manager = NDManager.newBaseManager(); failing) {
            Trainer trainer = Trainer.builder()
                    .maxEpochs(1)
                    .defaultRootDir(root)
                    .enableProgressBar(false)
                    .enableModelSummary(false)
                    .enableCheckpointing(false)
                    .logger(false)
                    .callbacks(new OnExceptionCheckpoint(root.resolve("crash")), new MirrorCheckpoints(mirror))
                    .build();
            assertThatThrownBy(() -> trainer.fit(failing, BoringModule.data(manager, 4)))
                    .hasMessageContaining("node lost");
        }
        assertThat(CheckpointReader.readEntries(mirror.resolve("crash/on_exception.ckpt")))
                .containsEntry("global_step", 2L);
        assertThatThrownBy(() -> new MirrorCheckpoints(null))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("got null");
    }
}
