package io.github.djllightning.trainer;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.RecordingCallback;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Trainer flags: every invalid value is rejected when the configuration is built, naming the flag and echoing the
 * value; defaults are Lightning's; int and fraction limits keep Lightning's distinction; values Lightning knows but
 * this engine cannot run fail when the Trainer is created.
 */
class TrainerConfigTest extends EngineTest {


    @TempDir
    Path root;

    private record Invalid(String flag, String echoed, Consumer<TrainerConfig.Builder<?>> set) {
        @Override
        public String toString() {
            return flag + "=" + echoed;
        }
    }

    static Stream<Arguments> invalidFlags() {
        return Stream.of(
                new Invalid("maxEpochs", "-2", b -> b.maxEpochs(-2)),
                new Invalid("minEpochs", "-1", b -> b.minEpochs(-1)),
                new Invalid("maxSteps", "-2", b -> b.maxSteps(-2)),
                new Invalid("minSteps", "-5", b -> b.minSteps(-5)),
                new Invalid("limitTrainBatches", "1.5", b -> b.limitTrainBatches(1.5)),
                new Invalid("limitValBatches", "2.25", b -> b.limitValBatches(2.25)),
                new Invalid("limitTestBatches", "-0.5", b -> b.limitTestBatches(-0.5)),
                new Invalid("limitPredictBatches", "1.01", b -> b.limitPredictBatches(1.01)),
                new Invalid("overfitBatches", "3.5", b -> b.overfitBatches(3.5)),
                new Invalid("limitTrainBatches", "-1", b -> b.limitTrainBatches(-1)),
                new Invalid("limitValBatches", "-3", b -> b.limitValBatches(-3)),
                new Invalid("limitTestBatches", "-2", b -> b.limitTestBatches(-2)),
                new Invalid("limitPredictBatches", "-4", b -> b.limitPredictBatches(-4)),
                new Invalid("overfitBatches", "-1", b -> b.overfitBatches(-1)),
                new Invalid("valCheckInterval", "0", b -> b.valCheckInterval(0)),
                new Invalid("valCheckInterval", "1.5", b -> b.valCheckInterval(1.5)),
                new Invalid("valCheckInterval", "0.0", b -> b.valCheckInterval(0.0)),
                new Invalid("checkValEveryNEpoch", "0", b -> b.checkValEveryNEpoch(0)),
                new Invalid("numSanityValSteps", "-2", b -> b.numSanityValSteps(-2)),
                new Invalid("accumulateGradBatches", "0", b -> b.accumulateGradBatches(0)),
                new Invalid("gradientClipVal", "-1", b -> b.gradientClipVal(-1)),
                new Invalid("gradientClipAlgorithm", "foo", b -> b.gradientClipAlgorithm("foo")),
                new Invalid("logEveryNSteps", "-1", b -> b.logEveryNSteps(-1)),
                new Invalid("accelerator", "tpx", b -> b.accelerator("tpx")),
                new Invalid("devices", "0", b -> b.devices(0)),
                new Invalid("devices", "-3", b -> b.devices(-3)),
                new Invalid("precision", "8-bit", b -> b.precision("8-bit")),
                new Invalid("numThreads", "0", b -> b.numThreads(0)),
                new Invalid("fastDevRun", "-1", b -> b.fastDevRun(-1)),
                new Invalid("maxTime", "1:2", b -> b.maxTime("1:2")),
                new Invalid("maxTime", "00:aa:00:00", b -> b.maxTime("00:aa:00:00")),
                new Invalid("maxTime", "PT-1S", b -> b.maxTime(Duration.ofSeconds(-1))))
                .map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidFlags")
    void invalidFlagIsRejectedAtBuildNamingTheFlagAndTheValue(Invalid invalid) {
        TrainerConfig.Builder<TrainerConfig> builder = TrainerConfig.builder();
        invalid.set().accept(builder);
        assertThatThrownBy(builder::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(invalid.flag())
                .hasMessageContaining(invalid.echoed());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidFlags")
    void trainerBuilderRejectsTheSameValuesBeforeCreatingATrainer(Invalid invalid) {
        TrainerConfig.Builder<Trainer> builder = Trainer.builder().enableProgressBar(false);
        invalid.set().accept(builder);
        assertThatThrownBy(builder::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(invalid.flag())
                .hasMessageContaining(invalid.echoed());
    }

    @Test
    void severalInvalidFlagsAreReportedTogether() {
        assertThatThrownBy(() -> TrainerConfig.builder()
                        .maxEpochs(-2)
                        .devices(0)
                        .precision("8-bit")
                        .limitTrainBatches(1.5)
                        .gradientClipAlgorithm("foo")
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxEpochs")
                .hasMessageContaining("devices")
                .hasMessageContaining("8-bit")
                .hasMessageContaining("limitTrainBatches")
                .hasMessageContaining("'foo'");
    }

    @Test
    void minEpochsAboveMaxEpochsIsRejected() {
        assertThatThrownBy(() -> TrainerConfig.builder().maxEpochs(2).minEpochs(3).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("minEpochs (3)")
                .hasMessageContaining("maxEpochs (2)");
    }

    @Test
    void defaultsAreLightnings() {
        TrainerConfig config = TrainerConfig.defaults();
        assertThat(config.stopping().maxEpochs()).isNull();
        assertThat(config.resolvedMaxEpochs()).isEqualTo(1000);
        assertThat(config.stopping().minEpochs()).isNull();
        assertThat(config.resolvedMinEpochs()).isZero();
        assertThat(config.stopping().maxSteps()).isEqualTo(-1);
        assertThat(config.resolvedMaxSteps()).isEqualTo(-1);
        assertThat(config.stopping().minSteps()).isNull();
        assertThat(config.resolvedMinSteps()).isZero();
        assertThat(config.stopping().maxTime()).isNull();
        assertThat(config.batches().limitTrain()).isEqualTo(BatchLimit.ALL);
        assertThat(config.batches().limitVal()).isEqualTo(BatchLimit.ALL);
        assertThat(config.batches().limitTest()).isEqualTo(BatchLimit.ALL);
        assertThat(config.batches().limitPredict()).isEqualTo(BatchLimit.ALL);
        assertThat(config.batches().overfitBatches().isZero()).isTrue();
        assertThat(config.validation().valCheckInterval()).isEqualTo(BatchLimit.fraction(1.0));
        assertThat(config.validation().checkValEveryNEpoch()).isEqualTo(1);
        assertThat(config.validation().numSanityValSteps()).isEqualTo(2);
        assertThat(config.optimization().accumulateGradBatches()).isEqualTo(1);
        assertThat(config.optimization().gradientClipVal()).isNull();
        assertThat(config.optimization().gradientClipAlgorithm()).isEqualTo(GradientClipAlgorithm.NORM);
        assertThat(config.output().logger()).isTrue();
        assertThat(config.output().loggers()).isEmpty();
        assertThat(config.output().logEveryNSteps()).isEqualTo(50);
        assertThat(config.output().enableProgressBar()).isTrue();
        assertThat(config.output().enableModelSummary()).isTrue();
        assertThat(config.output().enableCheckpointing()).isTrue();
        assertThat(config.output().defaultRootDir()).isEqualTo(Paths.get("").toAbsolutePath());
        assertThat(config.hardware().accelerator()).isEqualTo("auto");
        assertThat(config.hardware().precision()).isEqualTo("32-true");
        assertThat(config.hardware().deterministic()).isFalse();
        assertThat(config.hardware().seed()).isNull();
        assertThat(config.fastDevRun()).isZero();
        assertThat(config.callbacks()).isEmpty();
        assertThat(config.effectiveNumSanityValSteps()).isEqualTo(2);
    }

    @Test
    void maxEpochsDefaultsToUnlimitedWhenMaxStepsOrMaxTimeIsSet() {
        assertThat(TrainerConfig.builder().maxSteps(10).build().resolvedMaxEpochs()).isEqualTo(-1);
        assertThat(TrainerConfig.builder().maxTime("00:00:01:00").build().resolvedMaxEpochs()).isEqualTo(-1);
        assertThat(TrainerConfig.builder().maxSteps(10).maxEpochs(3).build().resolvedMaxEpochs()).isEqualTo(3);
        // minSteps alone makes at least one epoch
        assertThat(TrainerConfig.builder().minSteps(5).build().resolvedMinEpochs()).isEqualTo(1);
    }

    @Test
    void maxTimeParsesLightningsDaysHoursMinutesSeconds() {
        assertThat(TrainerConfig.builder().maxTime("01:02:03:04").build().stopping().maxTime())
                .isEqualTo(Duration.ofDays(1).plusHours(2).plusMinutes(3).plusSeconds(4));
    }

    @Test
    void toBuilderRoundTripsEveryFlag() {
        RecordingCallback callback = new RecordingCallback();
        TrainerConfig config = TrainerConfig.builder()
                .maxEpochs(7)
                .minEpochs(2)
                .maxSteps(100)
                .minSteps(3)
                .maxTime("00:01:00:00")
                .limitTrainBatches(0.25)
                .limitValBatches(3)
                .limitTestBatches(0.5)
                .limitPredictBatches(4)
                .overfitBatches(2)
                .valCheckInterval(0.5)
                .checkValEveryNEpoch(2)
                .numSanityValSteps(-1)
                .accumulateGradBatches(4)
                .gradientClipVal(0.5)
                .gradientClipAlgorithm("value")
                .defaultRootDir(root)
                .logger(false)
                .logEveryNSteps(5)
                .enableProgressBar(false)
                .enableModelSummary(false)
                .enableCheckpointing(false)
                .accelerator("cpu")
                .devices(1)
                .precision("32")
                .numThreads(2)
                .deterministic(true)
                .seed(42)
                .fastDevRun(3)
                .callbacks(callback)
                .build();
        TrainerConfig copy = config.toBuilder().build();
        assertThat(copy).isEqualTo(config);
        assertThat(copy.callbacks()).containsExactly(callback);
        // and the builder derives a variant without touching the original
        TrainerConfig variant = config.toBuilder().maxEpochs(9).build();
        assertThat(variant.stopping().maxEpochs()).isEqualTo(9);
        assertThat(config.stopping().maxEpochs()).isEqualTo(7);
        assertThat(variant.validation()).isEqualTo(config.validation());
    }

    @Test
    void intLimitsAreCountsAndDoubleLimitsAreFractions() {
        TrainerConfig one = TrainerConfig.builder().limitTrainBatches(1).build();
        assertThat(one.batches().limitTrain().isFraction()).isFalse();
        assertThat(one.batches().limitTrain().resolve(8, "limitTrainBatches")).isEqualTo(1);
        TrainerConfig all = TrainerConfig.builder().limitTrainBatches(1.0).build();
        assertThat(all.batches().limitTrain().isFraction()).isTrue();
        assertThat(all.batches().limitTrain().resolve(8, "limitTrainBatches")).isEqualTo(8);
        TrainerConfig five = TrainerConfig.builder().limitTrainBatches(5.0).build();
        assertThat(five.batches().limitTrain().isFraction()).isFalse();
        assertThat(five.batches().limitTrain().resolve(8, "limitTrainBatches")).isEqualTo(5);
        assertThat(TrainerConfig.builder().valCheckInterval(3.0).build().validation().valCheckInterval())
                .isEqualTo(BatchLimit.count(3));
    }

    @Test
    void intAndFractionLimitsDecideHowManyBatchesFitTrainsOn() {
        int[] steps = new int[3];
        Trainer one = quiet(root).maxEpochs(1).limitTrainBatches(1).build();
        Trainer all = quiet(root).maxEpochs(1).limitTrainBatches(1.0).build();
        Trainer five = quiet(root).maxEpochs(1).limitTrainBatches(5.0).build();
        Trainer[] trainers = {one, all, five};
        for (int i = 0; i < trainers.length; i++) {
            try (BoringModule module = new BoringModule()) {
                trainers[i].fit(module, BoringModule.data(manager, 8));
                steps[i] = (int) trainers[i].globalStep();
                assertThat(trainers[i].numTrainingBatches()).isEqualTo(steps[i]);
            }
        }
        assertThat(steps).containsExactly(1, 8, 5);
    }

    @Test
    void aFractionBelowOneBatchIsRejectedWithTheMinimum() {
        Trainer trainer = quiet(root).maxEpochs(1).limitTrainBatches(0.1).build();
        try (BoringModule module = new BoringModule()) {
            assertThatThrownBy(() -> trainer.fit(module, BoringModule.data(manager, 4)))
                    .hasMessageContaining("limitTrainBatches=0.1")
                    .hasMessageContaining("0.25");
        }
    }

    @Test
    void knownButUnsupportedValuesFailWhenTheTrainerIsCreated() {
        // valid Lightning values: the configuration builds ...
        TrainerConfig tpu = TrainerConfig.builder().accelerator("tpu").build();
        TrainerConfig mixed = TrainerConfig.builder().precision("16-mixed").build();
        TrainerConfig twoDevices = TrainerConfig.builder().devices(2).build();
        // ... but this engine cannot run them, and says so before anything runs
        assertThatThrownBy(() -> new Trainer(tpu))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("'tpu'")
                .hasMessageContaining("cpu");
        assertThatThrownBy(() -> new Trainer(mixed))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("'16-mixed'")
                .hasMessageContaining("32-true");
        assertThatThrownBy(() -> new Trainer(twoDevices))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("devices(2)");
        assertThatThrownBy(() -> Trainer.builder().accelerator("mps").build())
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("'mps'");
    }

    @Test
    void acceleratorNamesAreCaseInsensitive() {
        assertThat(TrainerConfig.builder().accelerator("CPU").build().hardware().accelerator()).isEqualTo("cpu");
    }
}
