package io.github.djllightning.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.djllightning.cli.CliResult;
import io.github.djllightning.examples.Args;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The classifier through LightningCLI and through the plain argparse-style command line, on small MNIST slices. */
class ClassifierCliTest {

    @TempDir
    Path root;

    @Test
    void fitThroughTheCliTrainsWithTheGivenValuesAndTestRerunsFromTheSavedConfigAndCheckpoint() throws Exception {
        Path logDir;
        try (CliResult fit = ClassifierCli.cli().run("fit", "--trainer.max_epochs=1",
                "--trainer.limit_train_batches=5", "--model.hidden=32", "--data.batch_size=16", "--model.lr=0.01",
                "--trainer.seed=7", "--data.limit=1000",
                "--data.val_size", "200", "--trainer.default_root_dir=" + root,
                "--trainer.enable_progress_bar=false")) {
            assertThat(fit.model().hparams()).containsEntry("hidden", 32).containsEntry("dropout", 0.2f)
                    .containsEntry("lr", 0.01);
            assertThat(((MnistDataModule) fit.datamodule()).hp()).isEqualTo(
                    new MnistDataModule.HParams(16, 1000, 200, 42));
            assertThat(fit.trainer().globalStep()).isEqualTo(5);
            logDir = fit.trainer().logDir();
        }
        assertThat(logDir).isEqualTo(root.resolve("lightning_logs/version_0"));
        // lightning-loggers is on the examples' class path, so the default logger writes TensorBoard event files
        try (java.util.stream.Stream<Path> files = Files.list(logDir)) {
            assertThat(files.map(f -> f.getFileName().toString()))
                    .anyMatch(name -> name.startsWith("events.out.tfevents."));
        }
        assertThat(Files.readString(logDir.resolve("hparams.yaml"))).contains("hidden: 32");
        Path checkpoint = logDir.resolve("checkpoints/epoch=0-step=5.ckpt");
        assertThat(checkpoint).isRegularFile();
        String config = Files.readString(logDir.resolve("config.yaml"));
        assertThat(config).contains("  limit_train_batches: 5\n", "  hidden: 32\n", "  batch_size: 16\n");

        try (CliResult test = ClassifierCli.cli().run("test", "--config", logDir.resolve("config.yaml").toString(),
                "--ckpt_path", checkpoint.toString())) {
            @SuppressWarnings("unchecked")
            List<Map<String, Double>> metrics = (List<Map<String, Double>>) test.results();
            assertThat(test.model().hparams()).containsEntry("hidden", 32);
            assertThat(metrics.get(0).get("test_accuracy")).as("better than chance after 5 steps").isGreaterThan(0.2);
            assertThat(test.trainer().logDir()).isEqualTo(root.resolve("lightning_logs/version_1"));
        }
    }

    @Test
    void helpShowsTheClassifierAndDataDefaults() {
        String help = ClassifierCli.cli().help();
        assertThat(help).startsWith("usage: run-example.sh cli {fit,validate,test,predict}")
                .containsPattern("--model.hidden int\\s+HParams.hidden \\(default: 256\\)")
                .containsPattern("--model.dropout float\\s+HParams.dropout \\(default: 0.2\\)")
                .containsPattern("--data.batch_size int\\s+HParams.batchSize \\(default: 64\\)");
    }

    @Test
    void thePlainArgumentsReachTheModelAndTheTrainer() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            PlainArgsExample.main(new String[] {"--layer_1_dim", "16", "--devices=1",
                "--root", root.toString()});
        } finally {
            System.setOut(previous);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        Matcher result = Pattern.compile("layer_1_dim=16 devices=1: val_accuracy ([0-9.]+)").matcher(printed);
        assertThat(result.find()).as(printed).isTrue();
        assertThat(Double.parseDouble(result.group(1))).isGreaterThan(0.6);
        assertThat(Files.readString(root.resolve("lightning_logs/version_0/hparams.yaml"))).contains("hidden: 16");

        assertThatThrownBy(() -> PlainArgsExample.main(new String[] {"--layer_1_dims", "16"}))
                .hasMessageContaining("Unknown option --layer_1_dims").hasMessageContaining("--layer_1_dim");
        assertThatThrownBy(() -> Args.intValue(Map.of("devices", "two"), "devices", 1))
                .hasMessageContaining("Option --devices takes an integer, got 'two'");
    }
}
