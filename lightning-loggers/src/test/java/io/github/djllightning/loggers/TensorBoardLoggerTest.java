package io.github.djllightning.loggers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.checkpoint.ParameterNames;
import io.github.djllightning.log.CsvLogger;
import io.github.djllightning.log.DefaultLoggerProvider;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.PythonEnv;
import io.github.djllightning.testing.RecordingLogger;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

class TensorBoardLoggerTest {

    @TempDir
    Path root;

    /** A histogram the test expects: the weights of one parameter at a step. */
    record ExpectedHistogram(String tag, long step, float[] values) {}

    /** What one training run sent to the loggers. */
    record Run(TensorBoardLogger logger, RecordingLogger recorder, List<ExpectedHistogram> histograms, Path logDir) {}

    private static Map<String, Object> hparams() {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("lr", 0.1);
        params.put("hidden", 2);
        params.put("optimizer", "sgd");
        params.put("nesterov", false);
        params.put("schedule", Map.of("gamma", 0.5));
        params.put("layers", List.of(32, 2));
        return params;
    }

    /** The hyperparameters as TensorBoard gets them: flattened, numbers as doubles, the rest as text. */
    private static Map<String, Object> flatHparams() {
        Map<String, Object> flat = new LinkedHashMap<>();
        flat.put("lr", 0.1);
        flat.put("hidden", 2.0);
        flat.put("optimizer", "sgd");
        flat.put("nesterov", false);
        flat.put("schedule/gamma", 0.5);
        flat.put("layers", "[32, 2]");
        return flat;
    }

    /** Trains BoringModule for 2 epochs of 4 batches with validation, logging every step and weights each epoch. */
    private Run train(TensorBoardLogger logger) {
        RecordingLogger recorder = new RecordingLogger();
        List<ExpectedHistogram> histograms = new ArrayList<>();
        Callback weights = new Callback() {
            @Override
            public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
                logger.logHistograms(module, trainer.globalStep());
                ParameterNames.of(module).forEach((name, parameter) -> histograms.add(new ExpectedHistogram(
                        name, trainer.globalStep(), parameter.getArray().toFloatArray())));
            }
        };
        try (NDManager manager = NDManager.newBaseManager(); BoringModule module = new BoringModule()) {
            module.saveHyperparameters(hparams());
            Trainer trainer = TestTrainers.quiet(root).loggers(logger, recorder).callbacks(weights).maxEpochs(2)
                    .logEveryNSteps(1).build();
            trainer.fit(module, BoringModule.data(manager, 4), BoringModule.data(manager, 2));
            assertThat(trainer.logDir()).isEqualTo(logger.logDir());
        }
        return new Run(logger, recorder, histograms, logger.logDir());
    }

    /** Every scalar the Trainer sent, in order, as TensorBoard stores it (a float), plus the default hp_metric. */
    private static List<EventFileReader.Scalar> expectedScalars(RecordingLogger recorder) {
        List<EventFileReader.Scalar> expected = new ArrayList<>();
        expected.add(new EventFileReader.Scalar(TensorBoardLogger.HP_METRIC, 0, -1f));
        for (RecordingLogger.Call call : recorder.metrics) {
            call.metrics().forEach((tag, value) ->
                    expected.add(new EventFileReader.Scalar(tag, call.step(), value.floatValue())));
        }
        return expected;
    }

    @Test
    void trainingWritesEveryMetricTheHyperparametersAndHistogramsReadableFromTheFile() throws IOException {
        Run run = train(new TensorBoardLogger(root));

        assertThat(run.logDir()).isEqualTo(root.resolve("lightning_logs/version_0"));
        List<Path> files = EventFileReader.files(run.logDir());
        assertThat(files).hasSize(1).isEqualTo(run.logger().eventFiles());
        assertThat(files.get(0).getFileName().toString())
                .matches("events\\.out\\.tfevents\\.\\d+\\.[A-Za-z0-9._-]+\\." + ProcessHandle.current().pid()
                        + "\\.\\d+");
        List<EventFileReader.Event> events = EventFileReader.read(files.get(0));
        assertThat(events.get(0).fileVersion()).isEqualTo("brain.Event:2");
        assertThat(events).allSatisfy(e -> assertThat(e.wallTime()).isCloseTo(
                System.currentTimeMillis() / 1000.0, within(600.0)));

        // every scalar, with its step and value, in the order it was logged
        assertThat(run.recorder().metrics).isNotEmpty();
        assertThat(run.recorder().metrics.stream().flatMap(c -> c.metrics().keySet().stream()))
                .contains("train_loss_step", "train_loss_epoch", "val_loss", "epoch");
        assertThat(EventFileReader.scalars(files)).containsExactlyElementsOf(expectedScalars(run.recorder()));

        // the hparams plugin records
        Map<String, EventFileReader.Value> plugin = new LinkedHashMap<>();
        for (EventFileReader.Event event : events) {
            for (EventFileReader.Value value : event.values()) {
                if (EventProtos.HPARAMS_PLUGIN.equals(value.pluginName())) {
                    assertThat(value.hasTensor()).isTrue();
                    assertThat(event.step()).isZero();
                    plugin.put(value.tag(), value);
                }
            }
        }
        assertThat(plugin).containsOnlyKeys(EventProtos.EXPERIMENT_TAG, EventProtos.SESSION_START_TAG,
                EventProtos.SESSION_END_TAG);
        assertThat(EventFileReader.sessionStartHparams(plugin.get(EventProtos.SESSION_START_TAG).pluginContent()))
                .containsExactlyEntriesOf(flatHparams());
        assertThat(EventFileReader.sessionEndStatus(plugin.get(EventProtos.SESSION_END_TAG).pluginContent()))
                .isEqualTo(EventProtos.STATUS_SUCCESS);
        byte[] experiment = EventFileReader.fields(plugin.get(EventProtos.EXPERIMENT_TAG).pluginContent()).get(2);
        List<String> hparamNames = new ArrayList<>();
        for (byte[] info : EventFileReader.repeated(experiment, 4)) {
            hparamNames.add(new String(EventFileReader.fields(info).get(1), StandardCharsets.UTF_8));
        }
        assertThat(hparamNames).containsExactlyElementsOf(flatHparams().keySet());
        List<byte[]> metricInfos = EventFileReader.repeated(experiment, 5);
        assertThat(metricInfos).hasSize(1);
        byte[] metricName = EventFileReader.fields(metricInfos.get(0)).get(1);
        assertThat(new String(EventFileReader.fields(metricName).get(2), StandardCharsets.UTF_8))
                .isEqualTo(TensorBoardLogger.HP_METRIC);

        // the weight histograms at the end of each epoch
        List<ExpectedHistogram> written = new ArrayList<>();
        for (EventFileReader.Event event : events) {
            for (EventFileReader.Value value : event.values()) {
                if (value.histo() != null) {
                    EventFileReader.Histo histo = value.histo();
                    ExpectedHistogram expected = run.histograms().get(written.size());
                    assertThat(value.tag()).isEqualTo(expected.tag());
                    assertThat(event.step()).isEqualTo(expected.step());
                    assertThat(histo.num()).isEqualTo(expected.values().length);
                    assertThat(histo.min()).isEqualTo(min(expected.values()));
                    assertThat(histo.max()).isEqualTo(max(expected.values()));
                    assertThat(histo.counts().stream().mapToDouble(Double::doubleValue).sum())
                            .isEqualTo(expected.values().length);
                    assertThat(histo.limits()).hasSameSizeAs(histo.counts());
                    written.add(expected);
                }
            }
        }
        assertThat(written).hasSize(4).isEqualTo(run.histograms());
        assertThat(written.stream().map(ExpectedHistogram::tag)).containsExactly(
                "layer.weight", "layer.bias", "layer.weight", "layer.bias");
        assertThat(written.stream().map(ExpectedHistogram::step)).containsExactly(4L, 4L, 8L, 8L);

        Map<String, Object> yaml = new Yaml().load(Files.readString(run.logDir().resolve("hparams.yaml")));
        assertThat(yaml).containsEntry("lr", 0.1).containsEntry("optimizer", "sgd")
                .containsEntry("schedule", Map.of("gamma", 0.5)).containsEntry("layers", List.of(32, 2));
    }

    @Test
    void tensorBoardItselfReadsTheRun() throws Exception {
        Path python = PythonEnv.pythonWith("from tensorboard.backend.event_processing import event_accumulator",
                List.of("tensorboard"), "the TensorBoard reading test");
        Run run = train(new TensorBoardLogger(root));
        Path script = root.resolve("read_tfevents.py");
        try (InputStream in = getClass().getResourceAsStream("/read_tfevents.py")) {
            Files.copy(in, script);
        }
        PythonEnv.Result result = PythonEnv.run(
                List.of(python.toString(), script.toString(), run.logDir().toString()), null, null, 180);
        assertThat(result.ok()).as("TensorBoard's EventAccumulator (%s): %s", result.describe(), result.errors())
                .isTrue();
        JsonObject read = JsonParser.parseString(result.output().strip()).getAsJsonObject();

        Map<String, List<List<Double>>> expected = new TreeMap<>();
        for (EventFileReader.Scalar scalar : expectedScalars(run.recorder())) {
            expected.computeIfAbsent(scalar.tag(), t -> new ArrayList<>())
                    .add(List.of((double) scalar.step(), (double) scalar.value()));
        }
        Map<String, List<List<Double>>> scalars = new TreeMap<>();
        for (Map.Entry<String, JsonElement> tag : read.getAsJsonObject("scalars").entrySet()) {
            List<List<Double>> points = new ArrayList<>();
            for (JsonElement point : tag.getValue().getAsJsonArray()) {
                JsonArray pair = point.getAsJsonArray();
                points.add(List.of(pair.get(0).getAsDouble(), (double) pair.get(1).getAsFloat()));
            }
            scalars.put(tag.getKey(), points);
        }
        assertThat(scalars).isEqualTo(expected);

        JsonObject hparams = read.getAsJsonObject("hparams");
        Map<String, Object> start = new LinkedHashMap<>();
        hparams.getAsJsonObject("session_start_info").entrySet().forEach(e -> start.put(e.getKey(),
                e.getValue().getAsJsonPrimitive().isNumber() ? e.getValue().getAsDouble()
                        : e.getValue().getAsJsonPrimitive().isBoolean() ? (Object) e.getValue().getAsBoolean()
                        : e.getValue().getAsString()));
        assertThat(start).isEqualTo(flatHparams());
        JsonObject experiment = hparams.getAsJsonObject("experiment");
        assertThat(experiment.getAsJsonArray("metrics").get(0).getAsString()).isEqualTo("hp_metric");
        assertThat(experiment.getAsJsonObject("hparams").get("lr").getAsString()).isEqualTo("DATA_TYPE_FLOAT64");
        assertThat(experiment.getAsJsonObject("hparams").get("optimizer").getAsString())
                .isEqualTo("DATA_TYPE_STRING");
        assertThat(experiment.getAsJsonObject("hparams").get("nesterov").getAsString()).isEqualTo("DATA_TYPE_BOOL");
        assertThat(hparams.get("session_end_info").getAsString()).isEqualTo("STATUS_SUCCESS");
        JsonObject tensors = read.getAsJsonObject("tensors");
        for (String tag : List.of(EventProtos.EXPERIMENT_TAG, EventProtos.SESSION_START_TAG,
                EventProtos.SESSION_END_TAG)) {
            assertThat(tensors.get(tag).getAsInt()).as(tag).isEqualTo(1);
        }

        JsonObject histograms = read.getAsJsonObject("histograms");
        assertThat(histograms.keySet()).containsExactlyInAnyOrder("layer.weight", "layer.bias");
        for (ExpectedHistogram expectedHistogram : run.histograms()) {
            JsonObject point = null;
            for (JsonElement element : histograms.getAsJsonArray(expectedHistogram.tag())) {
                if (element.getAsJsonObject().get("step").getAsLong() == expectedHistogram.step()) {
                    point = element.getAsJsonObject();
                }
            }
            assertThat(point).as("histogram %s at step %d", expectedHistogram.tag(), expectedHistogram.step())
                    .isNotNull();
            float[] values = expectedHistogram.values();
            assertThat(point.get("num").getAsDouble()).isEqualTo(values.length);
            assertThat(point.get("buckets").getAsDouble()).isEqualTo(values.length);
            assertThat(point.get("min").getAsDouble()).isEqualTo(min(values));
            assertThat(point.get("max").getAsDouble()).isEqualTo(max(values));
            double sum = 0;
            for (float v : values) {
                sum += v;
            }
            assertThat(point.get("sum").getAsDouble()).isCloseTo(sum, within(1e-9));
        }
    }

    @Test
    void isTheDefaultLoggerWhenThisModuleIsOnTheClassPath() {
        List<DefaultLoggerProvider> providers = new ArrayList<>();
        ServiceLoader.load(DefaultLoggerProvider.class).forEach(providers::add);
        assertThat(providers).anySatisfy(p -> {
            assertThat(p).isInstanceOf(TensorBoardLoggerProvider.class);
            assertThat(p.priority()).isPositive();
        });

        Trainer byDefault = Trainer.builder().defaultRootDir(root).enableProgressBar(false).build();
        assertThat(byDefault.logger()).isInstanceOf(TensorBoardLogger.class);
        assertThat(byDefault.logDir()).isEqualTo(root.resolve("lightning_logs/version_0"));

        // the CSV logger stays one call away, alone or next to TensorBoard
        Trainer csv = Trainer.builder().defaultRootDir(root).loggers(new CsvLogger(root)).build();
        assertThat(csv.loggers()).singleElement().isInstanceOf(CsvLogger.class);
        Trainer none = Trainer.builder().defaultRootDir(root).logger(false).build();
        assertThat(none.loggers()).isEmpty();
    }

    @Test
    void aResumedRunAddsAnEventFileToTheSameVersionAndKeepsTheOldOne() throws IOException {
        Run first = train(new TensorBoardLogger(root));
        Path oldFile = EventFileReader.files(first.logDir()).get(0);
        byte[] oldBytes = Files.readAllBytes(oldFile);

        Run second = train(TensorBoardLogger.builder(root).version(0).build());

        assertThat(second.logDir()).isEqualTo(first.logDir());
        List<Path> files = EventFileReader.files(first.logDir());
        assertThat(files).hasSize(2).startsWith(oldFile);
        assertThat(Files.readAllBytes(oldFile)).isEqualTo(oldBytes);
        List<EventFileReader.Scalar> expected = new ArrayList<>(expectedScalars(first.recorder()));
        expected.addAll(expectedScalars(second.recorder()));
        assertThat(EventFileReader.scalars(files)).containsExactlyElementsOf(expected);
        assertThat(new TensorBoardLogger(root).version()).isEqualTo("1");
    }

    @Test
    void loggingAfterFinishStartsANewFileAndAFailedRunEndsItsSessionAsFailed() throws IOException {
        TensorBoardLogger logger = TensorBoardLogger.builder(root).name("exp").version("run-a").prefix("p").build();
        logger.logHyperparams(Map.of("lr", 0.5));
        logger.logMetrics(Map.of("loss", 1.5), 3);
        logger.save();
        Path first = logger.eventFiles().get(0);
        assertThat(EventFileReader.scalars(List.of(first))).containsExactly(
                new EventFileReader.Scalar("p-hp_metric", 0, -1f), new EventFileReader.Scalar("p-loss", 3, 1.5f));
        logger.finish("failed");
        EventFileReader.Value end = EventFileReader.read(first).stream().flatMap(e -> e.values().stream())
                .filter(v -> EventProtos.SESSION_END_TAG.equals(v.tag())).findFirst().orElseThrow();
        assertThat(EventFileReader.sessionEndStatus(end.pluginContent())).isEqualTo(EventProtos.STATUS_FAILURE);

        logger.logMetrics(Map.of("loss", 0.25), 4);
        logger.finish("success");
        assertThat(logger.eventFiles()).hasSize(2);
        assertThat(logger.logDir()).isEqualTo(root.resolve("exp/run-a"));
        assertThat(EventFileReader.files(logger.logDir())).isEqualTo(logger.eventFiles());
        assertThat(EventFileReader.scalars(logger.eventFiles().subList(1, 2)))
                .containsExactly(new EventFileReader.Scalar("p-loss", 4, 0.25f));
    }

    @Test
    void recordsAreFramedWithTensorFlowsMaskedCrc32c() {
        byte[] digits = "123456789".getBytes(StandardCharsets.US_ASCII);
        // values computed with TensorBoard's own masked_crc32c
        assertThat(TfRecords.maskedCrc32c(digits, 0, digits.length)).isEqualTo(0xc78ab0e5);
        assertThat(TfRecords.maskedCrc32c(new byte[0], 0, 0)).isEqualTo(0xa282ead8);
        // Event(wall_time=1.5, file_version="brain.Event:2") as TensorBoard's protobuf classes encode it
        assertThat(EventProtos.fileVersionEvent(1.5)).isEqualTo(
                java.util.HexFormat.of().parseHex("09000000000000f83f1a0d627261696e2e4576656e743a32"));
    }

    @Test
    void histogramBucketsCoverTheFiniteValues() {
        Histogram h = Histogram.of(new float[] {0f, 1f, 2f, 3f, Float.NaN, 3f});
        assertThat(h.count()).isEqualTo(5);
        assertThat(h.min()).isZero();
        assertThat(h.max()).isEqualTo(3);
        assertThat(h.sum()).isEqualTo(9);
        assertThat(h.sumSquares()).isEqualTo(23);
        assertThat(h.bucketLimits()).hasSize(Histogram.BUCKETS).endsWith(3.0);
        assertThat(h.bucketCounts()[0]).isEqualTo(1);
        assertThat(h.bucketCounts()[Histogram.BUCKETS - 1]).isEqualTo(2);
        assertThat(java.util.Arrays.stream(h.bucketCounts()).sum()).isEqualTo(5);
        Histogram constant = Histogram.of(new float[] {0.5f, 0.5f});
        assertThat(constant.bucketLimits()).containsExactly(0.5);
        assertThat(constant.bucketCounts()).containsExactly(2.0);
    }

    private static double min(float[] values) {
        double m = Double.POSITIVE_INFINITY;
        for (float v : values) {
            m = Math.min(m, v);
        }
        return m;
    }

    private static double max(float[] values) {
        double m = Double.NEGATIVE_INFINITY;
        for (float v : values) {
            m = Math.max(m, v);
        }
        return m;
    }
}
