package io.github.djllightning.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.log.CsvLogger;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.ExponentialLR;
import io.github.djllightning.optim.OneCycleLR;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.ParamGroup;
import io.github.djllightning.optim.SchedulerConfig;
import io.github.djllightning.optim.Sgd;
import io.github.djllightning.optim.StepLR;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learning rates a user sees in {@code metrics.csv}: Lightning's names, at the steps where the rate was in use,
 * with the values the schedulers set. The model is a small autoencoder on 64 real MNIST images, 4 batches per epoch.
 */
class LearningRateMonitorTest extends EngineTest {

    @TempDir
    Path root;

    private static final Function<TinyAutoEncoder, OptimizerConfig> ADAM_STEP_LR = m -> {
        Adam adam = new Adam(m.parameters(), 0.01);
        return OptimizerConfig.of(adam, new StepLR(adam, 1, 0.5));
    };

    private Trainer trainer(Path dir, int maxEpochs, int logEveryNSteps, LearningRateMonitor monitor) {
        return TestTrainers.quiet(dir)
                .loggers(new CsvLogger(dir))
                .maxEpochs(maxEpochs)
                .logEveryNSteps(logEveryNSteps)
                .callbacks(monitor)
                .build();
    }

    private static MetricsCsv csv(Path dir) {
        return MetricsCsv.read(dir.resolve("lightning_logs/version_0/metrics.csv"));
    }

    private MetricsCsv fit(Function<TinyAutoEncoder, OptimizerConfig> optimizers, boolean automatic, int maxEpochs,
            int logEveryNSteps, LearningRateMonitor monitor) {
        try (TinyAutoEncoder module = new TinyAutoEncoder(optimizers, automatic)) {
            Trainer trainer = trainer(root, maxEpochs, logEveryNSteps, monitor);
            trainer.fit(module, TinyAutoEncoder.mnist(64));
            return csv(root);
        }
    }

    @Test
    void anEpochSchedulerIsLoggedAtEachEpochStartInARowOfItsOwn() {
        LearningRateMonitor monitor = new LearningRateMonitor();
        try (TinyAutoEncoder module = new TinyAutoEncoder(ADAM_STEP_LR)) {
            Trainer trainer = trainer(root, 3, 2, monitor);
            trainer.fit(module, TinyAutoEncoder.mnist(64));

            MetricsCsv csv = csv(root);
            assertThat(csv.header()).contains("lr-Adam");
            // the rate of each epoch, logged before its first batch: 4 optimizer steps per epoch
            assertThat(csv.stepsOf("lr-Adam")).containsExactly(0L, 4L, 8L);
            assertThat(csv.valuesOf("lr-Adam")).containsExactly(0.01, 0.005, 0.0025);
            for (Map<String, String> row : csv.rowsWith("lr-Adam")) {
                assertThat(row.get("epoch")).as("Lightning's monitor rows carry no epoch").isEmpty();
                assertThat(row.get("train_loss_step")).isEmpty();
            }
            // not at the step rows: the scheduler steps per epoch
            assertThat(csv.stepsOf("train_loss_step")).containsExactly(1L, 3L, 5L, 7L, 9L, 11L);
            assertThat(trainer.callbackMetrics()).containsEntry("lr-Adam", 0.0025);
            assertThat(monitor.lrs()).containsOnlyKeys("lr-Adam");
            assertThat(monitor.lrs().get("lr-Adam")).containsExactly(0.01, 0.005, 0.0025);
        }
    }

    /** torch's OneCycleLR with two cosine phases, written out: the rate after {@code step} scheduler steps. */
    private static double oneCycle(double maxLr, int totalSteps, int step, boolean momentum) {
        double initial = maxLr / 25;
        double min = initial / 1e4;
        double warmupEnd = 0.3 * totalSteps - 1;
        double start;
        double end;
        double pct;
        if (step <= warmupEnd) {
            start = momentum ? 0.95 : initial;
            end = momentum ? 0.85 : maxLr;
            pct = step / warmupEnd;
        } else {
            start = momentum ? 0.85 : maxLr;
            end = momentum ? 0.95 : min;
            pct = (step - warmupEnd) / (totalSteps - 1 - warmupEnd);
        }
        return end + (start - end) / 2 * (1 + Math.cos(Math.PI * pct));
    }

    @Test
    void aStepSchedulerIsLoggedWithItsMomentumAtTheBatchesThatSendStepMetrics() {
        LearningRateMonitor monitor = LearningRateMonitor.builder().logMomentum(true).build();
        MetricsCsv csv = fit(m -> {
            Sgd sgd = Sgd.builder().lr(0.1).momentum(0.9).build(m.parameters());
            OneCycleLR cycle = new OneCycleLR(sgd, 0.1, 8);
            return OptimizerConfig.of(sgd,
                    SchedulerConfig.builder(cycle).interval(SchedulerConfig.Interval.STEP).build());
        }, true, 2, 2, monitor);

        assertThat(csv.header()).contains("lr-SGD", "lr-SGD-momentum");
        // every second stepping batch, the same rows' steps as the module's step metrics
        assertThat(csv.stepsOf("lr-SGD")).containsExactly(1L, 3L, 5L, 7L)
                .isEqualTo(csv.stepsOf("train_loss_step"));
        List<Double> lrs = csv.valuesOf("lr-SGD");
        List<Double> momenta = csv.valuesOf("lr-SGD-momentum");
        int[] steps = {1, 3, 5, 7};
        for (int i = 0; i < steps.length; i++) {
            assertThat(lrs.get(i)).as("lr at step %d", steps[i])
                    .isCloseTo(oneCycle(0.1, 8, steps[i], false), within(1e-12));
            assertThat(momenta.get(i)).as("momentum at step %d", steps[i])
                    .isCloseTo(oneCycle(0.1, 8, steps[i], true), within(1e-12));
        }
        assertThat(csv.rowsWith("lr-SGD")).allSatisfy(row -> assertThat(row.get("epoch")).isEmpty());
        assertThat(monitor.lastMomentumValues().get("lr-SGD-momentum")).isEqualTo(momenta.get(3));
    }

    @Test
    void loggingIntervalStepLogsAnEpochSchedulerAtTheStepRowsAndEpochLogsAStepSchedulerAtEpochStarts() {
        MetricsCsv stepwise = fit(ADAM_STEP_LR, true, 2, 2, new LearningRateMonitor("step"));
        assertThat(stepwise.stepsOf("lr-Adam")).containsExactly(1L, 3L, 5L, 7L);
        assertThat(stepwise.valuesOf("lr-Adam")).containsExactly(0.01, 0.01, 0.005, 0.005);

        Path second = root.resolve("epochwise");
        try (TinyAutoEncoder module = new TinyAutoEncoder(m -> {
            Sgd sgd = new Sgd(m.parameters(), 0.1);
            return OptimizerConfig.of(sgd, SchedulerConfig.builder(new OneCycleLR(sgd, 0.1, 8))
                    .interval(SchedulerConfig.Interval.STEP).build());
        })) {
            trainer(second, 2, 2, new LearningRateMonitor("epoch")).fit(module, TinyAutoEncoder.mnist(64));
        }
        MetricsCsv epochwise = csv(second);
        assertThat(epochwise.stepsOf("lr-SGD")).containsExactly(0L, 4L);
        assertThat(epochwise.valuesOf("lr-SGD").get(1)).isCloseTo(oneCycle(0.1, 8, 4, false), within(1e-12));
    }

    @Test
    void severalOptimizersAndParamGroupsGetLightningsUniqueNames() {
        LearningRateMonitor monitor = LearningRateMonitor.builder()
                .loggingInterval("epoch").logMomentum(true).logWeightDecay(true).logKeyPrefix("optim/").build();
        MetricsCsv csv = fit(m -> {
            List<ai.djl.nn.Parameter> decoder = m.decoderParameters();
            Adam encoderAdam = new Adam(m.encoderParameters(), 0.01);
            Adam decoderAdam = Adam.builder().lr(0.02).build(decoder.subList(0, 2));
            Sgd sgd = Sgd.builder().lr(0.1).momentum(0.9).build(List.of(
                    new ParamGroup(List.of(decoder.get(2)), Map.of("name", "weights")),
                    new ParamGroup(List.of(decoder.get(3)), Map.of("lr", 0.05))));
            Adam lastAdam = Adam.builder().lr(0.003).weightDecay(1e-4).betas(0.8, 0.99).build(m.encoderParameters());
            return OptimizerConfig.of(List.of(encoderAdam, decoderAdam, sgd, lastAdam), List.of(
                    SchedulerConfig.of(new StepLR(encoderAdam, 1, 0.5)),
                    SchedulerConfig.builder(new ExponentialLR(decoderAdam, 0.9)).name("decoder_lr").build()));
        }, false, 2, 50, monitor);

        List<String> expected = new ArrayList<>();
        for (String name : List.of("optim/lr-Adam", "optim/decoder_lr", "optim/lr-SGD/weights", "optim/lr-SGD/pg2",
                "optim/lr-Adam-1")) {
            expected.add(name);
            expected.add(name + "-momentum");
            expected.add(name + "-weight_decay");
        }
        assertThat(csv.header()).containsAll(expected);
        assertThat(csv.header().stream().filter(c -> c.startsWith("optim/"))).hasSameSizeAs(expected);
        assertThat(csv.stepsOf("optim/lr-Adam")).containsExactly(0L, 4L);
        assertThat(csv.valuesOf("optim/lr-Adam")).containsExactly(0.01, 0.005);
        assertThat(csv.valuesOf("optim/decoder_lr").get(1)).isCloseTo(0.018, within(1e-12));
        assertThat(csv.valuesOf("optim/lr-SGD/weights")).containsExactly(0.1, 0.1);
        assertThat(csv.valuesOf("optim/lr-SGD/pg2")).containsExactly(0.05, 0.05);
        assertThat(csv.valuesOf("optim/lr-SGD/pg2-momentum")).containsExactly(0.9, 0.9);
        assertThat(csv.valuesOf("optim/lr-Adam-1")).containsExactly(0.003, 0.003);
        assertThat(csv.valuesOf("optim/lr-Adam-1-momentum")).containsExactly(0.8, 0.8);
        assertThat(csv.valuesOf("optim/lr-Adam-1-weight_decay")).containsExactly(1e-4, 1e-4);
        assertThat(csv.valuesOf("optim/lr-Adam-weight_decay")).containsExactly(0.0, 0.0);
    }

    @Test
    void theRowsMatchLightningsMeasuredCsv() {
        // the measured run: SGD lr 0.1 with a tenfold decay per epoch, 5 batches, logEveryNSteps 2
        BoringModule module = new BoringModule() {
            @Override
            public OptimizerConfig configureOptimizers() {
                Sgd sgd = new Sgd(parameters(), 0.1);
                return OptimizerConfig.of(sgd, new StepLR(sgd, 1, 0.1));
            }
        };
        DataLoader train = BoringModule.data(manager, 5);
        DataLoader val = BoringModule.data(manager, 2);
        try (module) {
            TestTrainers.quiet(root).loggers(new CsvLogger(root)).maxEpochs(2).logEveryNSteps(2)
                    .callbacks(new LearningRateMonitor()).build().fit(module, train, val);
        }
        MetricsCsv csv = csv(root);
        List<Map<String, String>> lrRows = csv.rowsWith("lr-SGD");
        assertThat(lrRows).extracting(r -> r.get("epoch") + "|" + r.get("step") + "|" + r.get("lr-SGD"))
                .containsExactly("|0|0.1", "|5|0.010000000000000002");
        // the second epoch's rate comes after the first epoch's end rows and before its first step row
        List<Map<String, String>> rows = csv.rows();
        int second = rows.indexOf(lrRows.get(1));
        assertThat(rows.get(second - 1).get("train_loss_epoch")).isNotEmpty();
        assertThat(rows.get(second + 1).get("train_loss_step")).isNotEmpty();
        assertThat(rows.get(second + 1).get("step")).isEqualTo("5");
    }

    @Test
    void aResumedFitLogsTheRatesTheUninterruptedFitLogs() {
        Path whole = root.resolve("whole");
        try (TinyAutoEncoder module = new TinyAutoEncoder(ADAM_STEP_LR)) {
            trainer(whole, 3, 2, new LearningRateMonitor()).fit(module, TinyAutoEncoder.mnist(64));
        }
        Path first = root.resolve("first");
        Path ckpt = root.resolve("after-epoch-0.ckpt");
        try (TinyAutoEncoder module = new TinyAutoEncoder(ADAM_STEP_LR)) {
            Trainer trainer = trainer(first, 1, 2, new LearningRateMonitor());
            trainer.fit(module, TinyAutoEncoder.mnist(64));
            trainer.saveCheckpoint(ckpt);
        }
        Path resumed = root.resolve("resumed");
        try (TinyAutoEncoder module = new TinyAutoEncoder(ADAM_STEP_LR)) {
            trainer(resumed, 3, 2, new LearningRateMonitor()).fit(module, TinyAutoEncoder.mnist(64), ckpt.toString());
        }
        assertThat(csv(resumed).stepsOf("lr-Adam")).containsExactly(4L, 8L);
        assertThat(csv(resumed).valuesOf("lr-Adam")).containsExactly(0.005, 0.0025);
        MetricsCsv uninterrupted = csv(whole);
        assertThat(uninterrupted.valuesOf("lr-Adam").subList(1, 3)).isEqualTo(csv(resumed).valuesOf("lr-Adam"));
    }

    @Test
    void fitWithoutALoggerFailsNamingTheFix() {
        try (TinyAutoEncoder module = new TinyAutoEncoder(ADAM_STEP_LR)) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(1).callbacks(new LearningRateMonitor()).build();
            assertThatThrownBy(() -> trainer.fit(module, TinyAutoEncoder.mnist(16)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("LearningRateMonitor")
                    .hasMessageContaining("no logger")
                    .hasMessageContaining("loggers(");
        }
    }

    @Test
    void badArgumentsAreRefusedNamingTheValue() {
        assertThatThrownBy(() -> new LearningRateMonitor("batch"))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("\"batch\"")
                .hasMessageContaining("\"step\", \"epoch\" or null");
        try (TinyAutoEncoder module = new TinyAutoEncoder(m -> OptimizerConfig.of(Sgd.builder().lr(0.1).build(List.of(
                new ParamGroup(m.encoderParameters(), Map.of("name", "body")),
                new ParamGroup(m.decoderParameters(), Map.of("name", "body"))))))) {
            Trainer trainer = trainer(root, 1, 50, new LearningRateMonitor());
            assertThatThrownBy(() -> trainer.fit(module, TinyAutoEncoder.mnist(16)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("lr-SGD")
                    .hasMessageContaining("[body]");
        }
    }
}
