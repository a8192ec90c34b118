package io.github.djllightning.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The accumulation factor follows the schedule epoch by epoch, also across a resume inside an epoch. */
class GradientAccumulationSchedulerTest extends EngineTest {

    @TempDir
    Path root;

    /** Records the global step at every epoch end and the accumulation factor at every epoch start. */
    static final class StepRecorder implements Callback {
        final Map<Integer, Long> stepsAtEpochEnd = new TreeMap<>();
        final Map<Integer, Integer> factors = new TreeMap<>();

        @Override
        public void onTrainEpochStart(Trainer trainer, LightningModule module) {
            factors.put(trainer.currentEpoch(), trainer.accumulateGradBatches());
        }

        @Override
        public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
            stepsAtEpochEnd.put(trainer.currentEpoch(), trainer.globalStep());
        }
    }

    @Test
    void theGlobalStepOfEveryEpochFollowsTheSchedule() {
        // epoch 0 is not named: factor 1; then 2 from epoch 1 and 4 from epoch 3, over 8 batches per epoch
        GradientAccumulationScheduler scheduler = new GradientAccumulationScheduler(Map.of(1, 2, 3, 4));
        assertThat(scheduler.scheduling()).containsExactly(Map.entry(0, 1), Map.entry(1, 2), Map.entry(3, 4));
        StepRecorder recorder = new StepRecorder();
        try (BoringModule module = new BoringModule()) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(5).callbacks(scheduler, recorder).build();
            trainer.fit(module, BoringModule.data(manager, 8));
            assertThat(recorder.factors.values()).containsExactly(1, 2, 2, 4, 4);
            assertThat(recorder.stepsAtEpochEnd.values()).containsExactly(8L, 12L, 16L, 18L, 20L);
            // every optimizer step of the module happened at an accumulation boundary or at the epoch's last batch
            List<Integer> stepBatches = module.events().stream()
                    .filter(e -> e.event().equals("optimizer_step") && e.epoch() == 3)
                    .map(e -> e.batchIdx()).toList();
            assertThat(stepBatches).containsExactly(3, 7);
        }
    }

    @Test
    void theLastBatchOfAnEpochAlwaysSteps() {
        StepRecorder recorder = new StepRecorder();
        try (BoringModule module = new BoringModule()) {
            TestTrainers.quiet(root).maxEpochs(2)
                    .callbacks(new GradientAccumulationScheduler(Map.of(0, 4)), recorder).build()
                    .fit(module, BoringModule.data(manager, 6));
            // 6 batches with factor 4: a step after batch 4 and one after the last batch
            assertThat(recorder.stepsAtEpochEnd.values()).containsExactly(2L, 4L);
        }
    }

    private static Trainer resumable(Path dir, StepRecorder recorder) {
        return TestTrainers.quiet(dir).enableCheckpointing(true).maxEpochs(5).seed(3)
                .callbacks(new GradientAccumulationScheduler(Map.of(1, 2, 3, 4)), recorder,
                        ModelCheckpoint.builder().dirpath(dir.resolve("steps")).everyNTrainSteps(5).saveTopK(-1)
                                .build())
                .build();
    }

    @Test
    void aFitResumedInsideAnAccumulatingEpochKeepsItsFactor() {
        DataLoader data = BoringModule.data(manager, 8);
        Path full = root.resolve("full");
        StepRecorder fullRecorder = new StepRecorder();
        List<float[]> expected;
        try (BoringModule module = new BoringModule()) {
            resumable(full, fullRecorder).fit(module, data);
            expected = TestTrainers.weights(module);
        }
        // step 10: after batch 3 of epoch 1 (factor 2); step 15: after batch 5 of epoch 2 (factor 2)
        for (String checkpoint : List.of("epoch=1-step=10.ckpt", "epoch=2-step=15.ckpt")) {
            StepRecorder recorder = new StepRecorder();
            try (BoringModule module = new BoringModule()) {
                Trainer trainer = resumable(root.resolve(checkpoint), recorder);
                trainer.fit(module, data, full.resolve("steps").resolve(checkpoint).toString());
                assertThat(trainer.globalStep()).as("from %s", checkpoint).isEqualTo(20);
                recorder.stepsAtEpochEnd.forEach((epoch, step) ->
                        assertThat(step).as("step at the end of epoch %d from %s", epoch, checkpoint)
                                .isEqualTo(fullRecorder.stepsAtEpochEnd.get(epoch)));
                assertThat(TestTrainers.sameWeights(TestTrainers.weights(module), expected))
                        .as("weights from %s", checkpoint).isTrue();
            }
        }
    }

    @Test
    void badSchedulesAndConflictingSettingsAreRejected() {
        assertThatThrownBy(() -> new GradientAccumulationScheduler(Map.of()))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("schedule");
        assertThatThrownBy(() -> new GradientAccumulationScheduler(Map.of(-1, 2)))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("[-1]");
        assertThatThrownBy(() -> new GradientAccumulationScheduler(Map.of(2, 0)))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("[0]");
        Map<Integer, Integer> withNull = new HashMap<>();
        withNull.put(1, null);
        assertThatThrownBy(() -> new GradientAccumulationScheduler(withNull))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("[null]");

        try (BoringModule module = new BoringModule()) {
            Trainer both = TestTrainers.quiet(root).maxEpochs(1).accumulateGradBatches(2)
                    .callbacks(new GradientAccumulationScheduler(Map.of(0, 2))).build();
            assertThatThrownBy(() -> both.fit(module, BoringModule.data(manager, 2)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("accumulateGradBatches=2");
        }
        try (BoringModule module = new ManualModule()) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(1)
                    .callbacks(new GradientAccumulationScheduler(Map.of(0, 2))).build();
            assertThatThrownBy(() -> trainer.fit(module, BoringModule.data(manager, 2)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("manual optimization");
        }
    }

    /** A boring module that steps its optimizer itself. */
    static final class ManualModule extends BoringModule {
        ManualModule() {
            setAutomaticOptimization(false);
        }

        @Override
        public Object trainingStep(ai.djl.training.dataset.Batch batch, int batchIdx) {
            manualBackward(forward("layer", batch.getData().head()).square().mean());
            optimizer().step();
            optimizer().zeroGrad();
            return null;
        }
    }
}
