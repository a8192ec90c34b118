package io.github.djllightning.log;

import static io.github.djllightning.testing.TestTrainers.indexed;
import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.RecordingLogger;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code log(...)} through a real Trainer: Lightning's per-hook defaults and forbidden hooks, the step/epoch name
 * forks, what lands in callbackMetrics, loggedMetrics and progressBarMetrics, the epoch reductions (batch-size
 * weighted mean, sum, max, min), and the rows of the CSV file.
 */
class LoggingRulesTest extends EngineTest {


    @TempDir
    Path root;

    /** A module whose logging is scripted per hook; it logs nothing unless told to. */
    static class LogModule extends BoringModule {
        BiConsumer<LogModule, StepCall> onTrainingStep = (m, c) -> {};
        BiConsumer<LogModule, StepCall> onValidationStep = (m, c) -> {};
        BiConsumer<LogModule, StepCall> onPredictStep = (m, c) -> {};
        Consumer<LogModule> onTrainEpochEnd = m -> {};
        Consumer<LogModule> onFitStart = m -> {};
        Consumer<LogModule> onSetup = m -> {};
        Consumer<LogModule> onConfigureOptimizers = m -> {};

        /** The batch, its index and the loss the step computed. */
        record StepCall(Batch batch, int batchIdx, NDArray output, NDArray loss) {}

        private StepCall call(Batch batch, int batchIdx) {
            NDArray out = forward("layer", batch.getData().head());
            return new StepCall(batch, batchIdx, out, out.square().mean());
        }

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            StepCall call = call(batch, batchIdx);
            onTrainingStep.accept(this, call);
            return call.loss();
        }

        @Override
        public Object validationStep(Batch batch, int batchIdx) {
            onValidationStep.accept(this, call(batch, batchIdx));
            return null;
        }

        @Override
        public Object predictStep(Batch batch, int batchIdx, int dataloaderIdx) {
            StepCall call = call(batch, batchIdx);
            onPredictStep.accept(this, call);
            return call.output();
        }

        @Override
        public void onTrainEpochEnd() {
            onTrainEpochEnd.accept(this);
        }

        @Override
        public void onFitStart() {
            onFitStart.accept(this);
        }

        @Override
        public void setup(TrainerFn stage) {
            onSetup.accept(this);
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            onConfigureOptimizers.accept(this);
            return super.configureOptimizers();
        }
    }

    private Trainer trainer(int epochs) {
        return quiet(root).maxEpochs(epochs).numSanityValSteps(0).build();
    }

    @Test
    void aStepValueSurvivesTheArrayBeingClosedOrChangedInTheStep() {
        LogModule module = new LogModule();
        List<Double> logged = new ArrayList<>();
        module.onTrainingStep = (m, c) -> {
            try (NDArray value = c.loss().mul(2)) {
                m.log("double_loss", value);
                logged.add((double) value.getFloat());
                value.addi(1000); // a later change is not what was logged
            }
        };
        List<Double> seen = new ArrayList<>();
        Callback reader = new Callback() {
            @Override
            public void onTrainBatchEnd(
                    Trainer trainer, LightningModule m, Map<String, Object> outputs, Batch batch, int batchIdx) {
                seen.add(trainer.callbackMetrics().get("double_loss"));
            }
        };
        Trainer trainer = quiet(root).maxEpochs(1).callbacks(reader).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 3));
        }
        assertThat(seen).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(seen.get(i)).isCloseTo(logged.get(i), within(1e-6));
        }
        assertThat(trainer.callbackMetrics().get("double_loss")).isCloseTo(logged.get(2), within(1e-6));
    }

    @Test
    void stepValuesAreSavedAtOnceThenAtMostOnceASecondAndEverythingAtTheEnd() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> m.log("idx", (double) c.batchIdx());
        RecordingLogger logger = new RecordingLogger();
        Callback pause = new Callback() {
            @Override
            public void onTrainBatchEnd(
                    Trainer trainer, LightningModule m, Map<String, Object> outputs, Batch batch, int batchIdx) {
                if (batchIdx == 4) {
                    try {
                        Thread.sleep(MetricsConnector.SAVE_INTERVAL_NANOS / 1_000_000 + 100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        Trainer trainer = quiet(root).maxEpochs(1).logEveryNSteps(1).loggers(logger).callbacks(pause).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 10));
        }
        // every step reaches the logger; its file is written for the first step, then once the interval has passed
        // (step 4 comes after a pause longer than it), and at the end of the run
        assertThat(logger.metrics).extracting(c -> c.metrics().get("idx"))
                .containsExactly(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0);
        assertThat(logger.events.subList(0, 12)).containsExactly("log", "save", "log", "log", "log", "log", "save",
                "log", "log", "log", "log", "log");
        assertThat(logger.events.get(logger.events.size() - 1)).isEqualTo("finish");
    }

    // ------------------------------------------------------------------ per-hook defaults

    @Test
    void trainingStepLogsPerStepByDefault() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> m.log("idx", (double) c.batchIdx());
        Trainer trainer = trainer(1);
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 4));
        }
        // the last step's value, not the epoch mean (1.5), and no forked names
        assertThat(trainer.loggedMetrics()).containsEntry("idx", 3.0).doesNotContainKeys("idx_step", "idx_epoch");
        assertThat(trainer.callbackMetrics()).containsEntry("idx", 3.0);
    }

    @Test
    void validationStepLogsPerEpochByDefault() {
        LogModule module = new LogModule();
        module.onValidationStep = (m, c) -> m.log("v", (double) c.batchIdx());
        Trainer trainer = trainer(1);
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 2), BoringModule.data(manager, 4));
        }
        // the mean over the four batches (0, 1, 2, 3), not the last value
        assertThat(trainer.loggedMetrics()).containsEntry("v", 1.5).doesNotContainKeys("v_step", "v_epoch");
        assertThat(trainer.callbackMetrics()).containsEntry("v", 1.5);
    }

    @Test
    void onTrainEpochEndLogsPerEpoch() {
        LogModule module = new LogModule();
        List<Double> perEpoch = List.of(5.0, 7.0);
        module.onTrainEpochEnd = m -> m.log("e", perEpoch.get(m.currentEpoch()));
        Trainer trainer = quiet(root).maxEpochs(2).logger(true).numSanityValSteps(0).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 2));
        }
        assertThat(trainer.loggedMetrics()).containsEntry("e", 7.0);
        List<Map<String, String>> rows = csvRows(root);
        assertThat(rows).filteredOn(r -> !r.get("e").isEmpty())
                .extracting(r -> r.get("e") + "@" + r.get("epoch"))
                .containsExactly("5.0@0", "7.0@1");
    }

    // ------------------------------------------------------------------ forbidden and invalid calls

    @Test
    void loggingInOnFitStartIsRejectedNamingTheHook() {
        LogModule module = new LogModule();
        module.onFitStart = m -> m.log("x", 1.0);
        try (module) {
            assertThatThrownBy(() -> trainer(1).fit(module, BoringModule.data(manager, 1)))
                    .hasMessageContaining("on_fit_start")
                    .hasMessageContaining("'x'");
        }
    }

    @Test
    void loggingInSetupOrConfigureOptimizersIsRejectedNamingTheHook() {
        LogModule inSetup = new LogModule();
        inSetup.onSetup = m -> m.log("x", 1.0);
        try (inSetup) {
            assertThatThrownBy(() -> trainer(1).fit(inSetup, BoringModule.data(manager, 1)))
                    .hasMessageContaining("setup");
        }
        LogModule inConfigure = new LogModule();
        inConfigure.onConfigureOptimizers = m -> m.log("x", 1.0);
        try (inConfigure) {
            assertThatThrownBy(() -> trainer(1).fit(inConfigure, BoringModule.data(manager, 1)))
                    .hasMessageContaining("configure_optimizers");
        }
    }

    @Test
    void loggingInPredictStepIsRejectedNamingTheHook() {
        LogModule module = new LogModule();
        module.onPredictStep = (m, c) -> m.log("p", c.loss());
        try (module) {
            assertThatThrownBy(() -> trainer(1).predict(module, BoringModule.data(manager, 1)))
                    .hasMessageContaining("predict_step")
                    .hasMessageContaining("'p'");
        }
    }

    @Test
    void onStepInOnTrainEpochEndIsRejected() {
        LogModule module = new LogModule();
        module.onTrainEpochEnd = m -> m.log("e", 1.0, LogOptions.defaults().onStep(true));
        try (module) {
            assertThatThrownBy(() -> trainer(1).fit(module, BoringModule.data(manager, 1)))
                    .hasMessageContaining("on_train_epoch_end")
                    .hasMessageContaining("onStep=true");
        }
    }

    @Test
    void neitherStepNorEpochIsRejected() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> m.log("n", c.loss(), LogOptions.defaults().onStep(false).onEpoch(false));
        try (module) {
            assertThatThrownBy(() -> trainer(1).fit(module, BoringModule.data(manager, 1)))
                    .hasMessageContaining("'n'")
                    .hasMessageContaining("onStep=false and onEpoch=false");
        }
    }

    @Test
    void theSameNameTwiceInOneHookWithDifferentOptionsIsRejected() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> {
            m.log("dup", c.loss());
            m.log("dup", c.loss(), LogOptions.defaults().progBar(true));
        };
        try (module) {
            assertThatThrownBy(() -> trainer(1).fit(module, BoringModule.data(manager, 1)))
                    .hasMessageContaining("'dup'")
                    .hasMessageContaining("training_step");
        }
    }

    @Test
    void theSameNameTwiceWithTheSameOptionsKeepsTheLastValue() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> {
            m.log("twice", 1.0);
            m.log("twice", 2.0);
        };
        Trainer trainer = trainer(1);
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 1));
        }
        assertThat(trainer.loggedMetrics()).containsEntry("twice", 2.0);
    }

    @Test
    void aNonScalarValueIsRejectedWithItsShape() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> m.log("outputs", c.output());
        try (module) {
            assertThatThrownBy(() -> trainer(1).fit(module, BoringModule.data(manager, 1)))
                    .hasMessageContaining("'outputs'")
                    .hasMessageContaining("(4, 2)")
                    .hasMessageContaining("mean()");
        }
    }

    // ------------------------------------------------------------------ names and metric maps

    @Test
    void loggingPerStepAndPerEpochForksTheName() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> m.log("m", (double) c.batchIdx(),
                LogOptions.defaults().onStep(true).onEpoch(true));
        Trainer trainer = trainer(1);
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 4));
        }
        assertThat(trainer.loggedMetrics())
                .containsEntry("m_step", 3.0)
                .containsEntry("m_epoch", 1.5)
                .doesNotContainKey("m");
        // callback metrics also hold the plain name, with the epoch value once the epoch ended
        assertThat(trainer.callbackMetrics())
                .containsEntry("m", 1.5)
                .containsEntry("m_step", 3.0)
                .containsEntry("m_epoch", 1.5);
    }

    @Test
    void metricMapsAfterFitMatchLightningsMeasuredExample() {
        LogModule module = new LogModule();
        LogOptions stepEpochBar = LogOptions.defaults().onStep(true).onEpoch(true).progBar(true);
        module.onTrainingStep = (m, c) -> {
            m.log("train_loss", c.loss(), stepEpochBar);
            m.log("plain", c.loss());
        };
        module.onValidationStep = (m, c) -> m.log("val_loss", c.loss());
        Trainer trainer = trainer(1);
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 3), BoringModule.data(manager, 2));
        }
        Map<String, Double> callback = trainer.callbackMetrics();
        assertThat(callback.keySet()).containsExactlyInAnyOrder(
                "train_loss", "train_loss_step", "train_loss_epoch", "plain", "val_loss");
        assertThat(trainer.loggedMetrics().keySet()).containsExactlyInAnyOrder(
                "train_loss_step", "train_loss_epoch", "plain", "val_loss");
        assertThat(trainer.progressBarMetrics().keySet()).containsExactlyInAnyOrder(
                "train_loss_step", "train_loss_epoch");
        // in training, the plain name holds the epoch value at the end; the step-only metric its last step
        assertThat(callback.get("train_loss")).isEqualTo(callback.get("train_loss_epoch"));
        assertThat(callback.get("plain")).isEqualTo(callback.get("train_loss_step"));
        assertThat(callback.get("train_loss_epoch")).isNotEqualTo(callback.get("train_loss_step"));
    }

    @Test
    void loggerFalseKeepsAMetricOutOfLoggedMetricsOnly() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> {
            m.log("hidden", 4.0, LogOptions.defaults().logger(false));
            m.log("shown", 5.0);
        };
        Trainer trainer = quiet(root).maxEpochs(1).logger(true).logEveryNSteps(1).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 2));
        }
        assertThat(trainer.callbackMetrics()).containsEntry("hidden", 4.0).containsEntry("shown", 5.0);
        assertThat(trainer.loggedMetrics()).containsEntry("shown", 5.0).doesNotContainKey("hidden");
        assertThat(csvHeader(root)).contains("shown").doesNotContain("hidden");
    }

    @Test
    void callbacksReadingMetricsInOnTrainBatchEndSeeThisBatchsValues() {
        List<Double> seen = new ArrayList<>();
        List<Double> returned = new ArrayList<>();
        Callback reader = new Callback() {
            @Override
            public void onTrainBatchEnd(
                    Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
                seen.add(trainer.callbackMetrics().get("train_loss"));
                returned.add((double) ((NDArray) outputs.get("loss")).getFloat());
            }
        };
        Trainer trainer = quiet(root).maxEpochs(1).callbacks(reader).build();
        try (BoringModule module = new BoringModule()) {
            trainer.fit(module, BoringModule.data(manager, 3));
        }
        assertThat(seen).hasSize(3).doesNotContainNull();
        for (int i = 0; i < 3; i++) {
            assertThat(seen.get(i)).isCloseTo(returned.get(i), within(1e-6));
        }
    }

    @Test
    void theSanityCheckLeavesNoMetricsBehind() {
        List<Map<String, Double>> atTrainStart = new ArrayList<>();
        Callback probe = new Callback() {
            @Override
            public void onTrainStart(Trainer trainer, LightningModule module) {
                atTrainStart.add(trainer.callbackMetrics());
                atTrainStart.add(trainer.loggedMetrics());
                atTrainStart.add(trainer.progressBarMetrics());
            }
        };
        LogModule module = new LogModule();
        module.onValidationStep = (m, c) -> m.log("val_loss", c.loss(), LogOptions.defaults().progBar(true));
        Trainer trainer = quiet(root).maxEpochs(1).numSanityValSteps(2).logger(true).callbacks(probe).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 2));
        }
        assertThat(atTrainStart).hasSize(3).allMatch(Map::isEmpty);
        // the one real validation run is the only val row
        assertThat(csvRows(root)).filteredOn(r -> !r.get("val_loss").isEmpty()).hasSize(1);
    }

    @Test
    void logDictLogsEveryEntryAndRejectsValuesThatAreNotNumbers() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> m.logDict(Map.of("a", 1.5, "b", c.loss(), "c", 2));
        Trainer trainer = trainer(1);
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 1));
        }
        assertThat(trainer.loggedMetrics()).containsKeys("a", "b", "c").containsEntry("a", 1.5).containsEntry("c", 2.0);

        LogModule bad = new LogModule();
        bad.onTrainingStep = (m, c) -> m.logDict(Map.of("label", "cat"));
        try (bad) {
            assertThatThrownBy(() -> trainer(1).fit(bad, BoringModule.data(manager, 1)))
                    .hasMessageContaining("'label'")
                    .hasMessageContaining("java.lang.String");
        }
    }

    @Test
    void integerArraysAreRecordedAsFloats() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> m.log("count", c.batch().getManager().create(c.batchIdx() + 3));
        Trainer trainer = trainer(1);
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 2));
        }
        assertThat(trainer.loggedMetrics()).containsEntry("count", 4.0);
    }

    // ------------------------------------------------------------------ reductions

    /** Validates on 10 rows in batches of 4: sizes 4, 4, 2; logs the 1-based batch number in several ways. */
    private Map<String, Double> validateOnUnevenBatches(BiConsumer<LogModule, LogModule.StepCall> logging) {
        LogModule module = new LogModule();
        module.onValidationStep = logging;
        DataLoader uneven = indexed(manager, 10, 4, false);
        assertThat(uneven.dropLast()).isFalse();
        try (module) {
            List<Map<String, Double>> results = trainer(1).validate(module, uneven);
            assertThat(results).hasSize(1);
            return results.get(0);
        }
    }

    @Test
    void meanIsWeightedByBatchSize() {
        Map<String, Double> r = validateOnUnevenBatches((m, c) -> {
            double k = c.batchIdx() + 1;
            m.log("number", k);
            m.log("array", m.getTrainer().scalar(k));
        });
        // (1*4 + 2*4 + 3*2) / 10, not the unweighted 2.0
        assertThat(r.get("number")).isCloseTo(1.8, within(1e-12));
        assertThat(r.get("array")).isCloseTo(1.8, within(1e-6));
    }

    @Test
    void anExplicitBatchSizeOverridesTheInferredOne() {
        Map<String, Double> r = validateOnUnevenBatches(
                (m, c) -> m.log("unweighted", c.batchIdx() + 1.0, LogOptions.defaults().batchSize(1)));
        assertThat(r.get("unweighted")).isCloseTo(2.0, within(1e-12));
    }

    @Test
    void sumMaxAndMinIgnoreBatchSize() {
        Map<String, Double> r = validateOnUnevenBatches((m, c) -> {
            double k = c.batchIdx() + 1;
            m.log("sum", k, LogOptions.defaults().reduce(Reduce.SUM));
            m.log("max", k, LogOptions.defaults().reduce(Reduce.MAX));
            m.log("min", k, LogOptions.defaults().reduce(Reduce.MIN));
            m.log("sum_array", m.getTrainer().scalar(k), LogOptions.defaults().reduce(Reduce.SUM));
            m.log("max_array", m.getTrainer().scalar(-k), LogOptions.defaults().reduce(Reduce.MAX));
            m.log("min_array", m.getTrainer().scalar(-k), LogOptions.defaults().reduce(Reduce.MIN));
        });
        assertThat(r.get("sum")).isEqualTo(6.0);
        assertThat(r.get("max")).isEqualTo(3.0);
        assertThat(r.get("min")).isEqualTo(1.0);
        assertThat(r.get("sum_array")).isEqualTo(6.0);
        assertThat(r.get("max_array")).isEqualTo(-1.0);
        assertThat(r.get("min_array")).isEqualTo(-3.0);
    }

    @Test
    void trainingEpochMeansAreWeightedByBatchSizeToo() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> m.log("k", c.batchIdx() + 1.0, LogOptions.defaults().onEpoch(true).onStep(false));
        Trainer trainer = trainer(1);
        try (module) {
            trainer.fit(module, indexed(manager, 10, 4, false));
        }
        assertThat(trainer.loggedMetrics().get("k")).isCloseTo(1.8, within(1e-12));
    }

    @Test
    void numbersAreKeptAsDoubles() {
        Map<String, Double> r = validateOnUnevenBatches((m, c) -> {
            m.log("precise", 0.1, LogOptions.defaults().reduce(Reduce.MAX));
            m.log("tiny", 1e-300, LogOptions.defaults().reduce(Reduce.MIN));
        });
        // no float32 round trip: 0.1 stays 0.1, not 0.10000000149011612, and 1e-300 does not underflow
        assertThat(r.get("precise")).isEqualTo(0.1);
        assertThat(r.get("tiny")).isEqualTo(1e-300);
    }

    // ------------------------------------------------------------------ CSV

    private static Path metricsCsv(Path root) {
        return root.resolve("lightning_logs").resolve("version_0").resolve("metrics.csv");
    }

    private static List<String> csvHeader(Path root) {
        try (Reader reader = Files.newBufferedReader(metricsCsv(root));
                CSVParser parser = CSVFormat.DEFAULT.builder().setHeader().get().parse(reader)) {
            return parser.getHeaderNames();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static List<Map<String, String>> csvRows(Path root) {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(metricsCsv(root));
                CSVParser parser = CSVFormat.DEFAULT.builder().setHeader().get().parse(reader)) {
            for (CSVRecord record : parser) {
                rows.add(new LinkedHashMap<>(record.toMap()));
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return rows;
    }

    /** Which metric columns a row fills, plus its epoch and step: {@code "0@1:train_loss_step"}. */
    private static String describe(Map<String, String> row) {
        StringBuilder filled = new StringBuilder();
        for (Map.Entry<String, String> cell : row.entrySet()) {
            if (!cell.getValue().isEmpty() && !cell.getKey().equals("epoch") && !cell.getKey().equals("step")) {
                filled.append(filled.length() == 0 ? "" : ",").append(cell.getKey());
            }
        }
        return row.get("epoch") + "@" + row.get("step") + ":" + filled;
    }

    @Test
    void csvGetsStepRowsEveryNStepsThenValidationAndEpochRows() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> m.log("train_loss", c.loss(), LogOptions.defaults().onStep(true).onEpoch(true));
        module.onValidationStep = (m, c) -> m.log("val_loss", c.loss());
        // the sanity check runs (2 batches) but must log nothing
        Trainer trainer = quiet(root).maxEpochs(2).logger(true).logEveryNSteps(2).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 4), BoringModule.data(manager, 2));
        }
        assertThat(csvHeader(root)).containsExactly("epoch", "step", "train_loss_epoch", "train_loss_step", "val_loss");
        assertThat(csvRows(root)).extracting(LoggingRulesTest::describe).containsExactly(
                "0@1:train_loss_step",
                "0@3:train_loss_step",
                "0@3:val_loss",
                "0@3:train_loss_epoch",
                "1@5:train_loss_step",
                "1@7:train_loss_step",
                "1@7:val_loss",
                "1@7:train_loss_epoch");
    }

    @Test
    void csvStepRowsCountOptimizerStepsWhenAccumulating() {
        LogModule module = new LogModule();
        module.onTrainingStep = (m, c) -> m.log("loss", c.loss());
        Trainer trainer = quiet(root).maxEpochs(1).logger(true).logEveryNSteps(1).accumulateGradBatches(2).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 6));
        }
        // 6 batches, 3 optimizer steps: one row per step, at steps 0, 1, 2
        assertThat(csvRows(root)).extracting(LoggingRulesTest::describe)
                .containsExactly("0@0:loss", "0@1:loss", "0@2:loss");
        assertThat(trainer.globalStep()).isEqualTo(3);
    }
}
