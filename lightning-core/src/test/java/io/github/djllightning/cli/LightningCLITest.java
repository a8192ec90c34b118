package io.github.djllightning.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.djllightning.cli.CliModules.Data;
import io.github.djllightning.cli.CliModules.Mode;
import io.github.djllightning.cli.CliModules.Model;
import io.github.djllightning.cli.CliModules.NoDefaults;
import io.github.djllightning.trainer.BatchLimit;
import io.github.djllightning.trainer.GradientClipAlgorithm;
import io.github.djllightning.trainer.TrainerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LightningCLITest {

    @TempDir
    Path tmp;

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    private LightningCLI cli() {
        return LightningCLI.builder(Model.class).datamodule(Data.class)
                .out(new PrintStream(printed, true, StandardCharsets.UTF_8)).programName("prog").build();
    }

    private String[] quiet(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--trainer.default_root_dir=" + tmp, "--trainer.enable_progress_bar=false",
                "--trainer.enable_model_summary", "false"));
        return all.toArray(new String[0]);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Map<String, Object> config, String name) {
        return (Map<String, Object>) config.get(name);
    }

    @Test
    void everyKindOfTrainerFlagIsParsedAndReachesTheTrainerConfig() {
        Map<String, Object> config = cli().parseConfig("fit",
                "--trainer.max_epochs=5", "--trainer.max_steps", "100", "--trainer.max_time", "01:02:03:04",
                "--trainer.limit_train_batches=0.25", "--trainer.limit_val_batches", "3",
                "--trainer.gradient_clip_val=0.5", "--trainer.gradient_clip_algorithm", "VALUE",
                "--trainer.accelerator=CPU", "--trainer.precision", "32", "--trainer.deterministic",
                "--trainer.enable_progress_bar=false", "--trainer.fast_dev_run", "3", "--trainer.seed=7",
                "--trainer.check_val_every_n_epoch=null", "--trainer.val_check_interval=10",
                "--trainer.default_root_dir", tmp.toString(), "--ckpt_path=last");

        Map<String, Object> trainer = section(config, "trainer");
        assertThat(trainer).containsEntry("max_epochs", 5).containsEntry("max_steps", 100L)
                .containsEntry("max_time", "01:02:03:04").containsEntry("limit_train_batches", 0.25)
                .containsEntry("limit_val_batches", 3).containsEntry("gradient_clip_val", 0.5)
                .containsEntry("gradient_clip_algorithm", "value").containsEntry("accelerator", "cpu")
                .containsEntry("precision", "32").containsEntry("deterministic", true)
                .containsEntry("enable_progress_bar", false).containsEntry("fast_dev_run", 3)
                .containsEntry("seed", 7L).containsEntry("check_val_every_n_epoch", null);
        assertThat(config).containsEntry("ckpt_path", "last");

        TrainerConfig built = TrainerOptions.build(TrainerConfig.defaults(), trainer);
        assertThat(built.stopping().maxEpochs()).isEqualTo(5);
        assertThat(built.stopping().maxSteps()).isEqualTo(100);
        assertThat(built.stopping().maxTime()).isEqualTo(Duration.ofDays(1).plusHours(2).plusMinutes(3).plusSeconds(4));
        assertThat(built.batches().limitTrain()).isEqualTo(BatchLimit.fraction(0.25));
        assertThat(built.batches().limitVal()).isEqualTo(BatchLimit.count(3));
        assertThat(built.validation().valCheckInterval()).isEqualTo(BatchLimit.count(10));
        assertThat(built.validation().checkValEveryNEpoch()).isNull();
        assertThat(built.optimization().gradientClipVal()).isEqualTo(0.5);
        assertThat(built.optimization().gradientClipAlgorithm()).isEqualTo(GradientClipAlgorithm.VALUE);
        assertThat(built.hardware().accelerator()).isEqualTo("cpu");
        assertThat(built.hardware().deterministic()).isTrue();
        assertThat(built.hardware().seed()).isEqualTo(7L);
        assertThat(built.output().enableProgressBar()).isFalse();
        assertThat(built.output().defaultRootDir()).isEqualTo(tmp);
        assertThat(built.fastDevRun()).isEqualTo(3);
    }

    @Test
    void everyValueSetterOfTheTrainerBuilderHasAnOptionAndTheDefaultsRebuildTheDefaultConfig() {
        Set<String> setters = new TreeSet<>();
        for (Method m : TrainerConfig.Builder.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && !TrainerOptions.NOT_OPTIONS.contains(m.getName())) {
                setters.add(m.getName());
            }
        }
        Set<String> covered = TrainerOptions.ENTRIES.stream().map(TrainerOptions.Entry::builderMethod)
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(covered).isEqualTo(setters);

        Map<String, Object> defaults = section(cli().parseConfig(), "trainer");
        assertThat(TrainerOptions.build(TrainerConfig.defaults(), defaults)).isEqualTo(TrainerConfig.defaults());
        for (String accelerator : TrainerOptions.ACCELERATORS) {
            TrainerConfig.builder().accelerator(accelerator).build();
        }
        for (String precision : TrainerOptions.PRECISIONS) {
            TrainerConfig.builder().precision(precision).build();
        }
    }

    @Test
    void modelAndDataFlagsAreConvertedToTheRecordComponentTypes() {
        try (CliResult result = cli().run(quiet("validate", "--model.hidden", "8", "--model.lr=0.5",
                "--model.dropout", "0.1", "--model.bias=false", "--model.name", "no", "--model.mode=careful",
                "--model.layers", "[4, 2]", "--model.seed", "11", "--data.batch_size=2", "--data.rows", "4",
                "--trainer.logger=false"))) {
            assertThat(result.ran()).isTrue();
            assertThat(((Model) result.model()).hp()).isEqualTo(
                    new Model.HParams(8, 0.5, 0.1f, false, "no", Mode.CAREFUL, List.of(4, 2), 11L));
            assertThat(((Data) result.datamodule()).hp()).isEqualTo(new Data.HParams(2, 4));
            assertThat(result.model().hparams()).containsEntry("hidden", 8).containsEntry("mode", Mode.CAREFUL);
            @SuppressWarnings("unchecked")
            List<Map<String, Double>> metrics = (List<Map<String, Double>>) result.results();
            assertThat(metrics.get(0)).containsKey("val_loss");
        }
        Map<String, Object> model = section(cli().parseConfig("fit", "--model.layers=3,5,7"), "model");
        assertThat(model).containsEntry("layers", List.of(3, 5, 7)).containsEntry("seed", null);
    }

    @Test
    void laterConfigFilesOverrideEarlierOnesAndFlagsOverrideAllFiles() throws IOException {
        Path a = Files.writeString(tmp.resolve("a.yaml"),
                "trainer:\n  max_epochs: 3\n  max_steps: 10\nmodel:\n  hidden: 5\n  lr: 0.01\n");
        Path b = Files.writeString(tmp.resolve("b.yaml"), "trainer:\n  max_epochs: 4\nmodel:\n  lr: 0.02\n");

        Map<String, Object> config = cli().parseConfig("--trainer.max_steps=20", "-c", a.toString(), "fit",
                "--config=" + b, "--model.lr", "0.03");

        assertThat(section(config, "trainer")).containsEntry("max_epochs", 4).containsEntry("max_steps", 20L);
        assertThat(section(config, "model")).containsEntry("hidden", 5).containsEntry("lr", 0.03);
        assertThat(section(config, "data")).containsEntry("batch_size", 4);
    }

    @Test
    void printConfigPrintsTheResolvedYamlWhichReadsBackToTheSameConfig() throws IOException {
        String[] args = {"fit", "--print_config", "--trainer.max_time=01:00:00:00", "--trainer.precision=32",
            "--trainer.limit_train_batches=0.5", "--model.name=yes", "--model.layers=[1,2]", "--data.rows=9"};
        CliResult result = cli().run(args);

        assertThat(result.ran()).isFalse();
        assertThat(result.output()).isEqualTo(printed.toString(StandardCharsets.UTF_8));
        assertThat(result.output()).startsWith("trainer:\n  max_epochs: null\n").contains("\nmodel:\n  hidden: 16\n")
                .contains("\ndata:\n  batch_size: 4\n  rows: 9\n").contains("ckpt_path: null");
        Path saved = Files.writeString(tmp.resolve("printed.yaml"), result.output());
        assertThat(cli().parseConfig("fit", "--config", saved.toString())).isEqualTo(result.config());
        assertThat(section(result.config(), "trainer")).containsEntry("max_time", "01:00:00:00")
                .containsEntry("precision", "32");
        assertThat(section(result.config(), "model")).containsEntry("name", "yes");
    }

    @Test
    void fitTrainsWithTheResolvedValuesAndSavesTheConfigNextToTheMetrics() throws IOException {
        try (CliResult result = cli().run(quiet("fit", "--trainer.max_epochs=2", "--trainer.limit_train_batches=3",
                "--model.hidden=6", "--model.lr", "0.05", "--data.batch_size=2"))) {
            assertThat(result.trainer().currentEpoch()).isEqualTo(2);
            assertThat(result.trainer().globalStep()).isEqualTo(6);
            Path logDir = result.trainer().logDir();
            assertThat(logDir).isEqualTo(tmp.resolve("lightning_logs").resolve("version_0"));
            assertThat(logDir.resolve("metrics.csv")).isRegularFile();
            assertThat(logDir.resolve("hparams.yaml")).content().contains("hidden: 6");
            assertThat(logDir.resolve("checkpoints").resolve("epoch=1-step=6.ckpt")).isRegularFile();
            Path saved = logDir.resolve(SaveConfigCallback.FILE_NAME);
            assertThat(cli().parseConfig("fit", "--config", saved.toString())).isEqualTo(result.config());
            assertThat(section(result.config(), "model")).containsEntry("hidden", 6);
        }
    }

    @Test
    void anExistingConfigYamlIsNotOverwrittenUnlessAllowed() throws IOException {
        String[] args = quiet("fit", "--trainer.logger=false", "--trainer.max_steps=1",
                "--trainer.enable_checkpointing=false");
        try (CliResult first = cli().run(args)) {
            assertThat(first.trainer().logDir()).isEqualTo(tmp);
        }
        Path file = tmp.resolve("config.yaml");
        String before = Files.readString(file);
        Files.writeString(file, before + "# edited\n");

        assertThatThrownBy(() -> cli().run(args)).isInstanceOf(CliException.class)
                .hasMessageContaining(file.toAbsolutePath().toString()).hasMessageContaining("overwriteConfig(true)")
                .satisfies(e -> assertThat(((CliException) e).exitCode()).isEqualTo(1));
        assertThat(Files.readString(file)).endsWith("# edited\n");

        LightningCLI overwriting = LightningCLI.builder(Model.class).datamodule(Data.class).overwriteConfig(true)
                .build();
        try (CliResult again = overwriting.run(args)) {
            assertThat(Files.readString(file)).isEqualTo(before);
        }
    }

    @Test
    void helpListsTheSubcommandsAndEveryOptionWithItsTypeAndDefault() {
        LightningCLI cli = cli();
        CliResult result = cli.run("--help");
        String help = result.output();

        assertThat(result.ran()).isFalse();
        assertThat(help).startsWith("usage: prog {fit,validate,test,predict}").contains("  fit ", "  predict ")
                .contains("--config FILE", "--print_config", "--ckpt_path str | null");
        for (TrainerOptions.Entry entry : TrainerOptions.ENTRIES) {
            assertThat(help).contains("--trainer." + entry.name() + " " + entry.type().describe());
        }
        assertThat(help).containsPattern("--trainer.max_epochs int \\| null\\s+stop after .*\\(default: null\\)")
                .containsPattern("--trainer.log_every_n_steps int\\s+.*\\(default: 50\\)")
                .containsPattern("--trainer.limit_train_batches int \\| fraction\\s+.*\\(default: 1.0\\)")
                .containsPattern("--trainer.accelerator \\{auto,cpu,gpu,cuda,mps,tpu\\}\\s+.*\\(default: auto\\)")
                .containsPattern("--model.hidden int\\s+HParams.hidden \\(default: 16\\)")
                .containsPattern("--model.mode \\{FAST,CAREFUL\\} \\| null\\s+.*\\(default: FAST\\)")
                .containsPattern("--model.layers list\\[int\\] \\| null\\s+.*\\(default: \\[8, 4\\]\\)")
                .containsPattern("--data.batch_size int\\s+HParams.batchSize \\(default: 4\\)");
        assertThat(cli.run("fit", "--help").output()).startsWith("usage: prog fit ");
    }

    @Test
    void unknownOptionsNameTheFlagTheClosestNameAndTheValidChoices() {
        assertThatThrownBy(() -> cli().run("fit", "--trainer.max_epoch=3")).isInstanceOf(CliException.class)
                .hasMessageContaining("unknown option --trainer.max_epoch.")
                .hasMessageContaining("Did you mean --trainer.max_epochs?")
                .hasMessageContaining("Valid trainer options: --trainer.max_epochs, --trainer.min_epochs")
                .satisfies(e -> assertThat(((CliException) e).exitCode()).isEqualTo(2));
        assertThatThrownBy(() -> cli().run("fit", "--model.hiden", "3"))
                .hasMessageContaining("Did you mean --model.hidden?")
                .hasMessageContaining("Valid model options: --model.hidden, --model.lr");
        assertThatThrownBy(() -> cli().run("fit", "--trainr.max_epochs=1"))
                .hasMessageContaining("Did you mean --trainer.max_epochs?")
                .hasMessageContaining("--trainer.*, --model.*, --data.*");
        assertThatThrownBy(() -> cli().run("fitt")).hasMessageContaining("unknown subcommand 'fitt'")
                .hasMessageContaining("Did you mean fit?");
        assertThatThrownBy(() -> cli().run("--trainer.max_epochs=1"))
                .hasMessageContaining("a subcommand is required: one of [fit, validate, test, predict]");
        assertThatThrownBy(() -> LightningCLI.builder(Model.class).build().run("fit", "--data.batch_size=2"))
                .hasMessageContaining("unknown option --data.batch_size");
    }

    @Test
    void illTypedValuesNameTheFlagTheValueAndWhatItTakes() throws IOException {
        assertThatThrownBy(() -> cli().run("fit", "--trainer.max_epochs=five"))
                .hasMessageContaining("--trainer.max_epochs: expected an int, got 'five'")
                .hasMessageContaining("takes int | null (default: null)");
        assertThatThrownBy(() -> cli().run("fit", "--trainer.accelerator", "tpuu"))
                .hasMessageContaining("--trainer.accelerator: expected one of [auto, cpu, gpu, cuda, mps, tpu],"
                        + " got 'tpuu'");
        assertThatThrownBy(() -> cli().run("fit", "--model.mode=slow"))
                .hasMessageContaining("--model.mode: expected one of [FAST, CAREFUL], got 'slow'");
        assertThatThrownBy(() -> cli().run("fit", "--trainer.max_time=12h"))
                .hasMessageContaining("--trainer.max_time: expected \"DD:HH:MM:SS\"");
        assertThatThrownBy(() -> cli().run("fit", "--trainer.limit_train_batches=all"))
                .hasMessageContaining("--trainer.limit_train_batches: expected a number of batches (int) or a"
                        + " fraction");
        assertThatThrownBy(() -> cli().run("fit", "--model.layers=[1,x]"))
                .hasMessageContaining("--model.layers: item 1: expected an int, got 'x'");
        assertThatThrownBy(() -> cli().run(quiet("fit", "--trainer.max_epochs=-5")))
                .hasMessageContaining("--trainer.max_epochs must be -1 (no limit) or at least 0, got -5");
        assertThatThrownBy(() -> cli().run("fit", "--trainer.max_epochs"))
                .hasMessageContaining("--trainer.max_epochs needs a value (int | null)");

        Path bad = Files.writeString(tmp.resolve("bad.yaml"), "trainer:\n  max_epochs: many\n");
        assertThatThrownBy(() -> cli().run("fit", "-c", bad.toString()))
                .hasMessageContaining("--config " + bad + ": trainer.max_epochs: expected an int, got 'many'");
        Path typo = Files.writeString(tmp.resolve("typo.yaml"), "model:\n  hiddn: 3\n");
        assertThatThrownBy(() -> cli().run("fit", "-c", typo.toString()))
                .hasMessageContaining("unknown model option 'hiddn'. Did you mean hidden?");
        Path top = Files.writeString(tmp.resolve("top.yaml"), "trainr:\n  max_epochs: 3\n");
        assertThatThrownBy(() -> cli().run("fit", "-c", top.toString()))
                .hasMessageContaining("unknown key 'trainr'. Did you mean trainer?");
        assertThatThrownBy(() -> cli().run("fit", "-c", tmp.resolve("missing.yaml").toString()))
                .hasMessageContaining("missing.yaml: no such file");
    }

    @Test
    void aComponentWithoutDefaultIsRequiredAndExecuteReportsErrorsWithAnExitCode() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        LightningCLI cli = LightningCLI.builder(NoDefaults.class).programName("prog")
                .out(new PrintStream(printed, true, StandardCharsets.UTF_8))
                .err(new PrintStream(err, true, StandardCharsets.UTF_8)).build();

        assertThat(cli.help()).contains("--model.width int", "(required)");
        int code = cli.execute(quiet("fit", "--trainer.max_steps=1"));

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("prog: error: --model.width (int) is required: HParams.width has no default.")
                .contains("Run 'prog --help' for the options.");
        assertThat(cli.execute("--help")).isZero();
    }
}
