package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The experiment-tracking page's runs leave the files and the logged columns the page describes. */
class ExperimentTrackingGuideTest {

    private static MnistDataset train;
    private static MnistDataset val;

    @TempDir
    Path root;

    @BeforeAll
    static void loadMnist() throws Exception {
        train = GuideData.train(20 * 64);
        val = GuideData.test(512);
    }

    @AfterAll
    static void closeMnist() {
        train.close();
        val.close();
    }

    private static List<String> files(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    private static String eventFileText(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            Path events = files.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents."))
                    .findFirst().orElseThrow();
            // TensorBoard's records hold each scalar's tag as plain text
            return new String(Files.readAllBytes(events), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void theDefaultLoggerWritesTensorBoardFilesAndTheHyperparametersUnderTheRootDir() throws Exception {
        Trainer trainer = ExperimentTrackingGuide.defaultLogger(root,
                DataLoader.of(train).batchSize(64).build());
        try (LightningModule module = trainer.lightningModule()) {
            Path run = root.resolve("lightning_logs/version_0");
            assertThat(trainer.logDir()).isEqualTo(run);
            assertThat(files(run)).contains("hparams.yaml", "checkpoints").doesNotContain("metrics.csv")
                    .anyMatch(name -> name.startsWith("events.out.tfevents."));
            assertThat(Files.readString(run.resolve("hparams.yaml"))).contains("hidden: 64", "lr: 0.001");
            // 20 steps: fewer than logEveryNSteps (50), so only the epoch values and the hparams' metric
            assertThat(eventFileText(run)).contains("train_acc_epoch", "hp_metric").doesNotContain("train_loss");
        }
    }

    @Test
    void twoLoggersShareTheVersionFolderAndTheCsvHasEveryLoggedColumn() throws Exception {
        Trainer trainer = ExperimentTrackingGuide.twoLoggers(root, DataLoader.of(train).batchSize(64).build(),
                DataLoader.of(val).batchSize(128).build());
        try (LightningModule module = trainer.lightningModule()) {
            Path run = root.resolve("lightning_logs/version_0");
            assertThat(trainer.loggers()).hasSize(2).allSatisfy(logger -> assertThat(logger.logDir()).isEqualTo(run));
            assertThat(files(run)).contains("hparams.yaml", "metrics.csv", "checkpoints")
                    .anyMatch(name -> name.startsWith("events.out.tfevents."));

            List<String> csv = Files.readAllLines(run.resolve("metrics.csv"));
            assertThat(Arrays.asList(csv.get(0).split(","))).containsExactlyInAnyOrder("epoch", "step", "train_loss",
                    "train_acc_step", "train_acc_epoch", "val_loss", "val_acc", "val_acc_worst_batch");
            long stepRows = csv.stream().skip(1).filter(row -> !cell(csv.get(0), row, "train_loss").isEmpty()).count();
            assertThat(stepRows).as("40 steps, logged every 10").isEqualTo(4);
            long validationRows = csv.stream().skip(1).filter(row -> !cell(csv.get(0), row, "val_acc").isEmpty())
                    .count();
            assertThat(validationRows).as("one row per validation run").isEqualTo(2);
            assertThat(eventFileText(run)).contains("train_loss", "train_acc_step", "val_acc_worst_batch");

            assertThat(trainer.progressBarMetrics()).containsKey("train_loss").doesNotContainKey("val_loss");
            double accuracy = trainer.callbackMetrics().get("val_acc");
            assertThat(accuracy).as("learned something in 40 steps").isGreaterThan(0.5);
            assertThat(trainer.callbackMetrics().get("val_acc_worst_batch")).isLessThanOrEqualTo(accuracy);
        }
    }

    private static String cell(String header, String row, String column) {
        List<String> names = Arrays.asList(header.split(",", -1));
        String[] cells = row.split(",", -1);
        return cells[names.indexOf(column)];
    }
}
