package io.github.djllightning.callbacks;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.RunningStage;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Timer}: its duration formats, stopping fit on time, and a training time that spans resumes. */
class TimerTest extends EngineTest {

    @TempDir
    Path root;

    /** BoringModule taking 20 ms per training batch, so training time is measurable. */
    static class SlowModule extends BoringModule {
        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return super.trainingStep(batch, batchIdx);
        }
    }

    @Test
    void durationsAreReadFromLightningsFormats() {
        assertThat(new Timer("01:02:03:04").duration())
                .isEqualTo(Duration.ofDays(1).plusHours(2).plusMinutes(3).plusSeconds(4));
        assertThat(new Timer(" 00:12:00:00 ").duration()).isEqualTo(Duration.ofHours(12));
        assertThat(new Timer("100:00:00:00").duration()).isEqualTo(Duration.ofDays(100));
        assertThat(new Timer(Duration.ofMinutes(5)).duration()).isEqualTo(Duration.ofMinutes(5));
        assertThat(new Timer(Map.of("weeks", 1, "days", 2)).duration()).isEqualTo(Duration.ofDays(9));
        assertThat(new Timer(Map.of("hours", 1.5)).duration()).isEqualTo(Duration.ofMinutes(90));
        assertThat(new Timer(Map.of("milliseconds", 1, "microseconds", 500)).duration())
                .isEqualTo(Duration.ofNanos(1_500_000));
        Timer defaults = new Timer("00:00:01:00");
        assertThat(defaults.interval()).isEqualTo(Timer.Interval.STEP);
        assertThat(Timer.builder().interval("epoch").build().interval()).isEqualTo(Timer.Interval.EPOCH);
        Timer measuring = Timer.builder().build();
        assertThat(measuring.duration()).isNull();
        assertThat(measuring.timeRemaining()).isNull();
        assertThat(measuring.timeElapsed()).isZero();
        assertThat(measuring.startTime()).isNull();
    }

    @Test
    void invalidDurationsAndIntervalsAreRejectedNamingTheValueAndTheFormat() {
        for (String bad : new String[] {"1:2:3", "00:1:00:00", "aa:00:00:00", "", "00:00:00:00:00", "12h"}) {
            assertThatThrownBy(() -> new Timer(bad))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageStartingWith("Timer(duration='" + bad + "') is not a valid duration. Expected a string"
                            + " in the format DD:HH:MM:SS");
        }
        assertThatThrownBy(() -> new Timer((String) null)).hasMessageStartingWith("Timer(duration=null) is not");
        assertThatThrownBy(() -> new Timer("99999999999999999999:00:00:00")).hasMessageContaining("not a valid");
        assertThatThrownBy(() -> new Timer(Map.of("hour", 1)))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("an unknown unit 'hour'")
                .hasMessageContaining("units are weeks, days, hours, minutes, seconds, milliseconds, microseconds");
        assertThatThrownBy(() -> new Timer(Map.of("seconds", Double.NaN))).hasMessageContaining("finite numbers");
        assertThatThrownBy(() -> new Timer(Map.of("seconds", -5))).hasMessageContaining("must be zero or more");
        assertThatThrownBy(() -> new Timer(Duration.ofSeconds(-1)))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("must be zero or more, got PT-1S");
        assertThatThrownBy(() -> Timer.builder().interval("steps"))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessage("Timer interval must be 'step' or 'epoch', got 'steps'");
    }

    @Test
    void aTinyDurationStopsTrainingAfterTheFirstBatchOrEpoch() {
        Timer timer = new Timer(Duration.ofNanos(1));
        try (BoringModule module = new BoringModule()) {
            Trainer trainer = quiet(root).maxEpochs(3).callbacks(timer).build();
            trainer.fit(module, BoringModule.data(manager, 4));
            assertThat(trainer.globalStep()).isEqualTo(1);
            assertThat(trainer.stopReason()).startsWith("Timer: time limit of 0:00:00 reached");
        }
        assertThat(timer.timeElapsed()).isPositive();
        assertThat(timer.timeRemaining()).isNegative();
        assertThat(timer.endTime()).isAfterOrEqualTo(timer.startTime());

        Timer perEpoch = Timer.builder().duration(Duration.ofNanos(1)).interval("epoch").verbose(false).build();
        try (BoringModule module = new BoringModule()) {
            Trainer trainer = quiet(root).maxEpochs(3).callbacks(perEpoch).build();
            trainer.fit(module, BoringModule.data(manager, 4));
            assertThat(trainer.globalStep()).isEqualTo(4);
            assertThat(trainer.currentEpoch()).isEqualTo(1);
        }
    }

    @Test
    void withTheTrainersMaxTimeTheFirstLimitReachedStopsTrainingOnce() {
        List<String> stopReasons = new ArrayList<>();
        Callback stops = new Callback() {
            @Override
            public void onTrainEnd(Trainer trainer, LightningModule module) {
                stopReasons.add(trainer.stopReason());
            }
        };
        try (BoringModule module = new BoringModule()) {
            Trainer trainer = quiet(root).maxEpochs(3).maxTime(Duration.ofNanos(1))
                    .callbacks(new Timer("01:00:00:00"), stops).build();
            trainer.fit(module, BoringModule.data(manager, 4));
            assertThat(trainer.globalStep()).isEqualTo(1);
            trainer = quiet(root).maxEpochs(3).maxTime(Duration.ofNanos(1))
                    .callbacks(new Timer(Duration.ofNanos(1)), stops).build();
            trainer.fit(module, BoringModule.data(manager, 4));
            assertThat(trainer.globalStep()).isEqualTo(1);
        }
        assertThat(stopReasons).hasSize(2);
        assertThat(stopReasons.get(0)).startsWith("maxTime=");
        assertThat(stopReasons.get(1)).startsWith("Timer: ");
    }

    @Test
    void aResumedRunContinuesTheTrainingTimeSoTheLimitSpansResumes() {
        Path checkpoint = root.resolve("after-epoch-0.ckpt");
        Timer first = Timer.builder().build();
        try (SlowModule module = new SlowModule()) {
            Trainer trainer = quiet(root).maxEpochs(1).callbacks(first).build();
            trainer.fit(module, BoringModule.data(manager, 4));
            trainer.validate(module, BoringModule.data(manager, 2));
            trainer.saveCheckpoint(checkpoint);
        }
        Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) CheckpointReader.readEntries(checkpoint).get("callbacks"))
                .get("Timer");
        Map<?, ?> elapsed = (Map<?, ?>) state.get("time_elapsed");
        assertThat(elapsed.keySet().stream().map(Object::toString).toList())
                .containsExactly("train", "sanity_check", "validate", "test", "predict");
        double savedTrain = ((Number) elapsed.get("train")).doubleValue();
        assertThat(savedTrain).isGreaterThanOrEqualTo(0.08).isEqualTo(first.timeElapsed().toNanos() / 1e9);
        assertThat(((Number) elapsed.get("validate")).doubleValue()).isPositive();

        // a new Trainer and Timer: the restored training time is the starting point; other stages start at zero
        Timer resumed = Timer.builder().build();
        Map<String, Duration> atFitStart = new LinkedHashMap<>();
        Callback probe = new Callback() {
            @Override
            public void onFitStart(Trainer trainer, LightningModule module) {
                atFitStart.put("train", resumed.timeElapsed());
                atFitStart.put("validate", resumed.timeElapsed(RunningStage.VALIDATE));
            }
        };
        try (SlowModule module = new SlowModule()) {
            Trainer trainer = quiet(root).maxEpochs(2).callbacks(resumed, probe).build();
            trainer.fit(module, BoringModule.data(manager, 4), checkpoint.toString());
            assertThat(trainer.globalStep()).isEqualTo(8);
        }
        assertThat(atFitStart.get("train").toNanos() / 1e9).isCloseTo(savedTrain, offset(1e-6));
        assertThat(atFitStart.get("validate")).isZero();
        assertThat(resumed.timeElapsed().toNanos() / 1e9).isGreaterThanOrEqualTo(savedTrain + 0.08);

        // a limit the checkpoint's training time already passed stops the resumed fit before any batch
        Timer limited = Timer.builder().duration(Duration.ofNanos((long) (savedTrain * 1e9 / 2))).build();
        try (SlowModule module = new SlowModule()) {
            Trainer trainer = quiet(root).maxEpochs(2).callbacks(limited).build();
            trainer.fit(module, BoringModule.data(manager, 4), checkpoint.toString());
            assertThat(trainer.globalStep()).isEqualTo(4);
            assertThat(trainer.stopReason()).startsWith("Timer: ");
        }
        assertThat(limited.timeRemaining()).isNegative();
    }
}
