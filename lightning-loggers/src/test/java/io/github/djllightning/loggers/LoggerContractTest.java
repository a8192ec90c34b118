package io.github.djllightning.loggers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import ai.djl.ndarray.NDManager;
import io.github.djllightning.log.CsvLogger;
import io.github.djllightning.log.Logger;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.RecordingLogger;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.yaml.snakeyaml.Yaml;

/** What every file-writing logger promises, checked on each of them by reading its files back. */
class LoggerContractTest {

    @TempDir
    Path root;

    /** A logger implementation under test and how to read back what it wrote. */
    interface Kind {
        /** A logger under {@code saveDir/name}, at the next free version (version null) or the given one. */
        Logger create(Path saveDir, String name, Integer version);

        /** Every scalar written in a run folder, as (tag, step, float value), sorted. */
        List<EventFileReader.Scalar> read(Path logDir) throws IOException;
    }

    static Stream<Kind> kinds() {
        Kind csv = new Kind() {
            @Override
            public Logger create(Path saveDir, String name, Integer version) {
                CsvLogger.Builder builder = CsvLogger.builder(saveDir).name(name);
                return (version == null ? builder : builder.version(version)).build();
            }

            @Override
            public List<EventFileReader.Scalar> read(Path logDir) throws IOException {
                List<EventFileReader.Scalar> out = new ArrayList<>();
                try (Reader reader = Files.newBufferedReader(logDir.resolve(CsvLogger.METRICS_FILE));
                        CSVParser parser = CSVParser.parse(reader,
                                CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get())) {
                    for (CSVRecord record : parser) {
                        long step = (long) Double.parseDouble(record.get("step"));
                        for (String column : parser.getHeaderNames()) {
                            if (!column.equals("step") && !record.get(column).isEmpty()) {
                                out.add(new EventFileReader.Scalar(column, step,
                                        (float) Double.parseDouble(record.get(column))));
                            }
                        }
                    }
                }
                return sorted(out);
            }

            @Override
            public String toString() {
                return "CsvLogger";
            }
        };
        Kind tensorBoard = new Kind() {
            @Override
            public Logger create(Path saveDir, String name, Integer version) {
                TensorBoardLogger.Builder builder = TensorBoardLogger.builder(saveDir).name(name)
                        .defaultHpMetric(false);
                return (version == null ? builder : builder.version(version)).build();
            }

            @Override
            public List<EventFileReader.Scalar> read(Path logDir) throws IOException {
                return sorted(EventFileReader.scalars(EventFileReader.files(logDir)));
            }

            @Override
            public String toString() {
                return "TensorBoardLogger";
            }
        };
        return Stream.of(csv, tensorBoard);
    }

    private static List<EventFileReader.Scalar> sorted(List<EventFileReader.Scalar> scalars) {
        List<EventFileReader.Scalar> out = new ArrayList<>(scalars);
        out.sort(Comparator.comparingLong(EventFileReader.Scalar::step).thenComparing(EventFileReader.Scalar::tag)
                .thenComparing(s -> s.value()));
        return out;
    }

    private static EventFileReader.Scalar scalar(String tag, long step, double value) {
        return new EventFileReader.Scalar(tag, step, (float) value);
    }

    private static Map<String, Double> metrics(Object... keyValues) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            out.put((String) keyValues[i], ((Number) keyValues[i + 1]).doubleValue());
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void metricsLoggedAtStepsAreOnDiskAfterSave(Kind kind) throws IOException {
        Logger logger = kind.create(root, "lightning_logs", null);
        logger.logMetrics(metrics("a", 1.5, "b", 0.25), 0);
        logger.logMetrics(metrics("a", 0.75), 5);
        logger.save();
        assertThat(kind.read(logger.logDir())).containsExactly(
                scalar("a", 0, 1.5), scalar("b", 0, 0.25), scalar("a", 5, 0.75));
        logger.finish("success");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void versionsCountUpAndAnExplicitVersionOrNameIsKept(Kind kind) throws IOException {
        Logger first = kind.create(root, "lightning_logs", null);
        assertThat(first.version()).isEqualTo("0");
        assertThat(first.name()).isEqualTo("lightning_logs");
        assertThat(first.saveDir()).isEqualTo(root);
        assertThat(first.logDir()).isEqualTo(root.resolve("lightning_logs/version_0"));
        first.logMetrics(metrics("a", 1), 0);
        first.finish("success");

        assertThat(kind.create(root, "lightning_logs", null).logDir())
                .isEqualTo(root.resolve("lightning_logs/version_1"));
        assertThat(kind.create(root, "lightning_logs", 7).logDir()).isEqualTo(root.resolve("lightning_logs/version_7"));
        assertThat(kind.create(root, "", null).logDir()).isEqualTo(root.resolve("version_0"));
        assertThat(kind.create(root, "other", null).logDir()).isEqualTo(root.resolve("other/version_0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void hyperparametersAreMergedIntoHparamsYaml(Kind kind) throws IOException {
        Logger logger = kind.create(root, "lightning_logs", null);
        logger.logHyperparams(Map.of("lr", 0.1, "layers", List.of(32, 2)));
        logger.logHyperparams(Map.of("batch_size", 4, "net", Map.of("hidden", 64)));
        logger.save();
        logger.finish("success");
        Map<String, Object> yaml = new Yaml().load(Files.readString(logger.logDir().resolve("hparams.yaml")));
        assertThat(yaml).containsOnlyKeys("lr", "layers", "batch_size", "net").containsEntry("lr", 0.1)
                .containsEntry("layers", List.of(32, 2)).containsEntry("batch_size", 4)
                .containsEntry("net", Map.of("hidden", 64));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void finishWritesEverythingAndMayBeCalledAgain(Kind kind) throws IOException {
        Logger logger = kind.create(root, "lightning_logs", null);
        logger.logMetrics(metrics("loss", 2.0), 1);
        logger.finish("success");
        assertThatCode(() -> logger.finish("success")).doesNotThrowAnyException();
        assertThat(kind.read(logger.logDir())).containsExactly(scalar("loss", 1, 2.0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void aResumedRunAppendsToTheSameVersion(Kind kind) throws IOException {
        Logger first = kind.create(root, "lightning_logs", null);
        first.logMetrics(metrics("loss", 3.0), 0);
        first.logMetrics(metrics("loss", 2.0), 1);
        first.finish("failed");

        Logger resumed = kind.create(root, "lightning_logs", 0);
        resumed.logMetrics(metrics("loss", 1.0, "acc", 0.5), 2);
        resumed.finish("success");

        assertThat(resumed.logDir()).isEqualTo(first.logDir());
        assertThat(kind.read(first.logDir())).containsExactly(
                scalar("loss", 0, 3.0), scalar("loss", 1, 2.0), scalar("acc", 2, 0.5), scalar("loss", 2, 1.0));
    }

    @Test
    void severalLoggersInOneTrainerGetTheSameMetrics() throws IOException {
        Kind csvKind = kinds().toList().get(0);
        Kind tbKind = kinds().toList().get(1);
        Logger csv = csvKind.create(root, "csv", null);
        Logger tb = tbKind.create(root, "tb", null);
        RecordingLogger recorder = new RecordingLogger();
        try (NDManager manager = NDManager.newBaseManager(); BoringModule module = new BoringModule()) {
            module.saveHyperparameters(Map.of("lr", 0.1));
            Trainer trainer = TestTrainers.quiet(root).loggers(csv, tb, recorder).maxEpochs(2).logEveryNSteps(2)
                    .build();
            trainer.fit(module, BoringModule.data(manager, 4), BoringModule.data(manager, 2));
            assertThat(trainer.logger()).isSameAs(csv);
            assertThat(trainer.logDir()).isEqualTo(root.resolve("csv/version_0"));
        }
        List<EventFileReader.Scalar> sent = new ArrayList<>();
        for (RecordingLogger.Call call : recorder.metrics) {
            call.metrics().forEach((tag, value) -> sent.add(scalar(tag, call.step(), value)));
        }
        assertThat(sent).extracting(EventFileReader.Scalar::tag).contains("train_loss_step", "val_loss");
        assertThat(csvKind.read(csv.logDir())).isEqualTo(sorted(sent));
        assertThat(tbKind.read(tb.logDir())).isEqualTo(sorted(sent));
        assertThat(recorder.finished).containsExactly("success");
        assertThat(Files.readString(csv.logDir().resolve("hparams.yaml"), StandardCharsets.UTF_8))
                .isEqualTo(Files.readString(tb.logDir().resolve("hparams.yaml"), StandardCharsets.UTF_8));
    }
}
