package io.github.djllightning.callback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCheckpointTest extends EngineTest {

    @TempDir
    Path root;

    private List<String> files(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private TrainerConfig.Builder<Trainer> trainer(ModelCheckpoint checkpoint) {
        return Trainer.builder()
                .defaultRootDir(root)
                .enableProgressBar(false)
                .enableModelSummary(false)
                .logger(false)
                .callbacks(checkpoint);
    }

    @Test
    void lastHoldsTheNewestStateEvenBetweenSavePoints() throws IOException {
        ModelCheckpoint checkpoint = ModelCheckpoint.builder().dirpath(root.resolve("ck")).saveLast(true)
                .everyNEpochs(5).build();
        try (BoringModule module = new BoringModule()) {
            trainer(checkpoint).maxEpochs(2).build().fit(module, BoringModule.data(manager, 3));
        }
        assertThat(files(root.resolve("ck"))).containsExactly("last.ckpt");
        try (ZipFile zip = new ZipFile(root.resolve("ck/last.ckpt").toFile())) {
            String json = new String(zip.getInputStream(zip.getEntry("checkpoint.json")).readAllBytes());
            assertThat(json).contains("\"global_step\": 6");
        }
    }

    @Test
    void nothingIsSavedBeforeTheFirstOptimizerStep() throws IOException {
        ModelCheckpoint checkpoint = ModelCheckpoint.builder().dirpath(root.resolve("ck")).everyNTrainSteps(1)
                .saveTopK(-1).build();
        try (BoringModule module = new BoringModule()) {
            trainer(checkpoint).maxEpochs(1).accumulateGradBatches(2).build().fit(module, BoringModule.data(manager, 4));
        }
        assertThat(files(root.resolve("ck"))).containsExactly("epoch=0-step=1.ckpt", "epoch=0-step=2.ckpt");
    }

    @Test
    void fileNamesFormatMetricsAndCollisionsGetVersions() throws IOException {
        ModelCheckpoint checkpoint = ModelCheckpoint.builder().dirpath(root.resolve("ck"))
                .filename("{epoch:02d}-{train_loss_epoch:.2f}").monitor("train_loss_epoch").build();
        Map<String, Number> metrics = Map.of("epoch", 3L, "train_loss_epoch", 0.123456);
        assertThat(checkpoint.formatName("{epoch:02d}-{train_loss_epoch:.2f}", metrics, null))
                .isEqualTo("epoch=03-train_loss_epoch=0.12.ckpt");
        assertThat(checkpoint.formatName(null, Map.of("epoch", 1L, "step", 10L), 2))
                .isEqualTo("epoch=1-step=10-v2.ckpt");
        assertThat(checkpoint.formatName("{missing}", Map.of(), null)).isEqualTo("missing=0.ckpt");

        Files.createDirectories(root.resolve("ck2"));
        Files.writeString(root.resolve("ck2/epoch=0-step=2.ckpt"), "an earlier run");
        ModelCheckpoint again = ModelCheckpoint.builder().dirpath(root.resolve("ck2")).build();
        try (BoringModule module = new BoringModule()) {
            trainer(again).maxEpochs(1).build().fit(module, BoringModule.data(manager, 2));
        }
        assertThat(files(root.resolve("ck2"))).containsExactly("epoch=0-step=2-v1.ckpt", "epoch=0-step=2.ckpt");
        assertThat(Files.readString(root.resolve("ck2/epoch=0-step=2.ckpt"))).isEqualTo("an earlier run");
    }

    @Test
    void topKKeepsTheBestByTheMonitoredMetricAndItsStateSaysWhich() throws IOException {
        ModelCheckpoint checkpoint = ModelCheckpoint.builder().dirpath(root.resolve("ck")).monitor("val_loss")
                .saveTopK(2).build();
        try (BoringModule module = new BoringModule().valLosses(List.of(0.5, 0.3, 0.9, 0.1))) {
            DataLoader data = BoringModule.data(manager, 2);
            trainer(checkpoint).maxEpochs(4).numSanityValSteps(0).build().fit(module, data, data);
        }
        assertThat(files(root.resolve("ck"))).containsExactly("epoch=1-step=4.ckpt", "epoch=3-step=8.ckpt");
        assertThat(checkpoint.bestModelPath()).endsWith("epoch=3-step=8.ckpt");
        assertThat(checkpoint.bestModelScore()).isCloseTo(0.1, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(checkpoint.stateDict()).containsKeys("best_k_models", "kth_best_model_path", "last_model_path");
    }

    @Test
    void invalidSettingsAreRejectedWithTheValue() {
        assertThatThrownBy(() -> ModelCheckpoint.builder().saveTopK(-2).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("-2");
        assertThatThrownBy(() -> ModelCheckpoint.builder().saveTopK(3).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("monitor");
        assertThatThrownBy(() -> ModelCheckpoint.builder().mode("lowest"))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("'lowest'");
        assertThatThrownBy(() -> ModelCheckpoint.builder().everyNEpochs(1).everyNTrainSteps(5).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("mutually exclusive");
    }

    @Test
    void trainTimeIntervalSavesWhenTheIntervalHasPassedAndIsExclusive() throws IOException {
        // a zero interval has always passed: a checkpoint after every batch, as in Lightning
        ModelCheckpoint checkpoint = ModelCheckpoint.builder().dirpath(root.resolve("ck"))
                .trainTimeInterval(Duration.ZERO).saveTopK(-1).build();
        assertThat(checkpoint.stateKey()).contains("'every_n_epochs': 0")
                .contains("'train_time_interval': datetime.timedelta(0)");
        try (BoringModule module = new BoringModule()) {
            trainer(checkpoint).maxEpochs(1).build().fit(module, BoringModule.data(manager, 3));
        }
        assertThat(files(root.resolve("ck")))
                .containsExactly("epoch=0-step=1.ckpt", "epoch=0-step=2.ckpt", "epoch=0-step=3.ckpt");
        // an hour never passes in this test: no time-based checkpoint, and no epoch ones either
        ModelCheckpoint hourly = ModelCheckpoint.builder().dirpath(root.resolve("hourly"))
                .trainTimeInterval(Duration.ofHours(1)).build();
        assertThat(hourly.stateKey()).contains("datetime.timedelta(seconds=3600)");
        try (BoringModule module = new BoringModule()) {
            trainer(hourly).maxEpochs(2).build().fit(module, BoringModule.data(manager, 3));
        }
        assertThat(Files.exists(root.resolve("hourly"))).isFalse();
        assertThatThrownBy(() -> ModelCheckpoint.builder().trainTimeInterval(Duration.ofMinutes(5))
                        .everyNTrainSteps(2).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("mutually exclusive");
        assertThatThrownBy(() -> ModelCheckpoint.builder().trainTimeInterval(Duration.ofSeconds(-1)))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("negative");
    }

    @Test
    void saveOnExceptionKeepsTheStateOfTheFailedRun() throws IOException {
        ModelCheckpoint checkpoint = ModelCheckpoint.builder().dirpath(root.resolve("ck")).saveOnException(true)
                .saveLast(true).build();
        BoringModule module = new BoringModule() {
            @Override
            public int onTrainBatchStart(ai.djl.training.dataset.Batch batch, int batchIdx) {
                if (getTrainer().globalStep() == 4) {
                    throw new IllegalStateException("data source went away");
                }
                return super.onTrainBatchStart(batch, batchIdx);
            }
        };
        try (module) {
            assertThatThrownBy(() -> trainer(checkpoint).maxEpochs(3).build().fit(module, BoringModule.data(manager, 3)))
                    .hasMessageContaining("data source went away");
        }
        // epoch 0's checkpoint stays; the failure at step 4 adds its own file (outside the top-k) and last.ckpt
        assertThat(files(root.resolve("ck")))
                .containsExactly("epoch=0-step=3.ckpt", "epoch=1-step=4.ckpt", "last.ckpt");
        assertThat(io.github.djllightning.checkpoint.CheckpointReader.readEntries(root.resolve("ck/last.ckpt")))
                .containsEntry("global_step", 4L);
        // without the option nothing is written on failure
        ModelCheckpoint plain = ModelCheckpoint.builder().dirpath(root.resolve("plain")).everyNEpochs(5).build();
        BoringModule failing = new BoringModule() {
            @Override
            public int onTrainBatchStart(ai.djl.training.dataset.Batch batch, int batchIdx) {
                throw new IllegalStateException("boom");
            }
        };
        try (failing) {
            assertThatThrownBy(() -> trainer(plain).maxEpochs(1).build().fit(failing, BoringModule.data(manager, 3)))
                    .hasMessageContaining("boom");
        }
        assertThat(Files.exists(root.resolve("plain"))).isFalse();
    }

    @Test
    void callbacksHearOfEveryCheckpointFileOnceItIsComplete() throws IOException {
        List<String> heard = new java.util.ArrayList<>();
        Callback listener = new Callback() {
            @Override
            public void onCheckpointSaved(Trainer trainer, io.github.djllightning.module.LightningModule module,
                    Path path) {
                // the file is complete when the hook fires: it reads as a checkpoint of the current step
                assertThat(io.github.djllightning.checkpoint.CheckpointReader.readEntries(path))
                        .containsEntry("global_step", trainer.globalStep());
                heard.add(root.relativize(path).toString());
            }
        };
        ModelCheckpoint checkpoint = ModelCheckpoint.builder().dirpath(root.resolve("ck")).saveLast(true).build();
        try (BoringModule module = new BoringModule()) {
            Trainer trainer = trainer(checkpoint).callbacks(listener).maxEpochs(2).build();
            trainer.fit(module, BoringModule.data(manager, 2));
            trainer.saveCheckpoint(root.resolve("manual.ckpt"), true);
        }
        assertThat(heard).containsExactly("ck/epoch=0-step=2.ckpt", "ck/last.ckpt", "ck/epoch=1-step=4.ckpt",
                "ck/last.ckpt", "manual.ckpt");
    }
}
