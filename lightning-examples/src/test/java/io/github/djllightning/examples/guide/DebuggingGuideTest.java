package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.github.djllightning.callback.ModelSummary;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.examples.classifier.LitClassifier;
import io.github.djllightning.log.DummyLogger;
import io.github.djllightning.trainer.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The debugging page's Trainers run what they say: a few batches, part of an epoch, profiles, statistics. */
class DebuggingGuideTest {

    private static MnistDataset train;
    private static MnistDataset val;

    @BeforeAll
    static void loadMnist() throws Exception {
        train = GuideData.train(100 * 32);
        val = GuideData.test(100 * 32);
    }

    @AfterAll
    static void closeMnist() {
        train.close();
        val.close();
    }

    private static void fit(Trainer trainer, int trainBatches, int valBatches) {
        try (LitAutoEncoder autoencoder = LitAutoEncoder.create()) {
            trainer.fit(autoencoder, DataLoader.of(GuideData.subset(train, trainBatches * 32)).batchSize(32).build(),
                    DataLoader.of(GuideData.subset(val, valBatches * 32)).batchSize(32).build());
        }
    }

    private static String printed(Runnable action) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setOut(previous);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void fastDevRunTrainsAndValidatesOneOrSevenBatchesWithoutLoggers() {
        List<Trainer> trainers = DebuggingGuide.quickRuns();
        fit(trainers.get(0), 100, 100);
        fit(trainers.get(1), 100, 100);
        assertThat(trainers.get(0).globalStep()).isEqualTo(1);
        assertThat(trainers.get(0).numValBatches()).containsExactly(1L);
        assertThat(trainers.get(1).globalStep()).isEqualTo(7);
        assertThat(trainers.get(1).numValBatches()).containsExactly(7L);
        // the loggers are replaced by one that writes nothing
        assertThat(trainers).allSatisfy(t -> assertThat(t.loggers()).allMatch(l -> l instanceof DummyLogger));
        assertThat(trainers).allSatisfy(t -> assertThat(t.isFastDevRun()).isTrue());
    }

    @Test
    void limitsShortenTheEpochsBySharesOrCounts() {
        List<Trainer> trainers = DebuggingGuide.shorterEpochs();
        fit(trainers.get(0), 100, 100);
        fit(trainers.get(1), 100, 100);
        assertThat(trainers.get(0).numTrainingBatches()).isEqualTo(10);
        assertThat(trainers.get(0).numValBatches()).containsExactly(1L);
        assertThat(trainers.get(1).numTrainingBatches()).isEqualTo(10);
        assertThat(trainers.get(1).numValBatches()).containsExactly(5L);
        assertThat(trainers).allSatisfy(t -> assertThat(t.globalStep()).isEqualTo(10));
    }

    @Test
    void theSummaryWithoutFitListsEveryLayerAndCountsAllParameters() {
        try (LitClassifier classifier = LitClassifier.create(); NDManager manager = NDManager.newBaseManager()) {
            ModelSummary.Summary[] summary = new ModelSummary.Summary[1];
            String printed = printed(() -> summary[0] = DebuggingGuide.summaryWithoutFit(classifier, manager));
            assertThat(summary[0].isComplete()).isTrue();
            // 784 * 256 + 256 + 256 * 10 + 10
            assertThat(summary[0].totalParams()).isEqualTo(203_530);
            assertThat(printed).contains("model.0", "model.3", "203 K     Total params")
                    .doesNotContain("not created yet");
        }
    }

    @Test
    void theProfilersReportAndTheDeviceStatisticsReachTheLogger() throws Exception {
        FileTime start = FileTime.from(Instant.now().minusSeconds(1));
        List<Trainer> trainers = DebuggingGuide.bottlenecks();
        String simple = printed(() -> fit(trainers.get(0), 10, 5));
        assertThat(simple).contains("FIT Profiler Report", "run_training_batch");
        String advanced = printed(() -> fit(trainers.get(1), 10, 5));
        assertThat(advanced).contains("FIT Advanced Profiler Report");

        fit(trainers.get(2), 10, 5);
        Path report = Path.of("fit-perf_logs.txt");
        assertThat(Files.getLastModifiedTime(report)).isGreaterThan(start);
        assertThat(Files.getLastModifiedTime(Path.of("fit-perf_logs.jfr"))).isGreaterThan(start);
        assertThat(Files.readString(report)).contains("FIT Advanced Profiler Report");

        Trainer deviceStats = trainers.get(3);
        // the statistics go to the loggers with the step metrics: every 50th training batch by default
        fit(deviceStats, 50, 5);
        try (Stream<Path> files = Files.list(deviceStats.logDir())) {
            Path events = files.filter(f -> f.getFileName().toString().startsWith("events.out")).findFirst()
                    .orElseThrow();
            // TensorBoard's records hold each scalar's tag as plain text
            assertThat(new String(Files.readAllBytes(events), StandardCharsets.ISO_8859_1))
                    .contains("DeviceStatsMonitor.on_train_batch_start/cpu_percent");
        }
    }
}
