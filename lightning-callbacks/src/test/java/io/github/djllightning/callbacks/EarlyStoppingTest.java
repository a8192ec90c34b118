package io.github.djllightning.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * EarlyStopping on real fits of a {@link BoringModule} whose validation loss is scripted per validation run, with one
 * training and one validation batch per epoch unless a test needs more.
 */
class EarlyStoppingTest extends EngineTest {

    private static final double NAN = Double.NaN;

    @TempDir
    Path root;

    /** Fits a module with scripted validation losses and returns the Trainer. */
    private Trainer fit(EarlyStopping es, List<Double> valLosses, int trainBatches, int maxEpochs,
            UnaryOperator<TrainerConfig.Builder<Trainer>> flags) {
        Trainer trainer = flags.apply(TestTrainers.quiet(root).maxEpochs(maxEpochs).callbacks(es)).build();
        try (BoringModule module = new BoringModule().valLosses(valLosses)) {
            trainer.fit(module, BoringModule.data(manager, trainBatches), BoringModule.data(manager, 1));
        }
        return trainer;
    }

    private Trainer fit(EarlyStopping es, List<Double> valLosses, int maxEpochs) {
        return fit(es, valLosses, 1, maxEpochs, b -> b);
    }

    private static int occurrences(String text, String part) {
        int count = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
            count++;
        }
        return count;
    }

    /** Counts its checks, and when they ran. */
    private static class CountingEarlyStopping extends EarlyStopping {
        final List<Long> checkedAtStep = new ArrayList<>();

        CountingEarlyStopping(Builder b) {
            super(b);
        }

        @Override
        protected void runEarlyStoppingCheck(Trainer trainer) {
            checkedAtStep.add(trainer.globalStep());
            super.runEarlyStoppingCheck(trainer);
        }
    }

    // ------------------------------------------------------------------ mode, minDelta, patience

    @Test
    void minModeStopsWhenPatienceChecksInARowDoNotBeatTheBest() {
        EarlyStopping es = EarlyStopping.builder("val_loss").patience(3).build();
        // 0.85 beats the previous value but not the best (0.8), so it does not reset the count
        Trainer trainer = fit(es, List.of(1.0, 0.8, 0.9, 0.85, 0.95, 0.1), 20);

        assertThat(trainer.currentEpoch()).isEqualTo(5);
        assertThat(es.stoppedEpoch()).isEqualTo(4);
        assertThat(es.bestScore()).isCloseTo(0.8, within(1e-6));
        assertThat(es.waitCount()).isEqualTo(3);
        assertThat(es.stoppingReason()).isEqualTo(EarlyStopping.Reason.PATIENCE_EXHAUSTED);
        assertThat(es.stoppingReasonMessage())
                .isEqualTo("Monitored metric val_loss did not improve in the last 3 records. Best score: 0.800."
                        + " Signaling Trainer to stop.");
        assertThat(trainer.stopReason()).isEqualTo(es.stoppingReasonMessage());
    }

    @Test
    void maxModeTreatsHigherValuesAsBetter() {
        List<Double> losses = List.of(0.25, 0.5, 0.375, 0.4375, 0.125);
        EarlyStopping max = EarlyStopping.builder("val_loss").mode("max").patience(2).build();
        Trainer maxTrainer = fit(max, losses, 20);
        EarlyStopping min = EarlyStopping.builder("val_loss").mode("min").patience(2).build();
        Trainer minTrainer = fit(min, losses, 20);

        assertThat(max.mode()).isEqualTo("max");
        assertThat(max.bestScore()).isEqualTo(0.5);
        assertThat(max.stoppedEpoch()).isEqualTo(3);
        assertThat(maxTrainer.currentEpoch()).isEqualTo(4);
        assertThat(min.bestScore()).isEqualTo(0.25);
        assertThat(min.stoppedEpoch()).isEqualTo(2);
        assertThat(minTrainer.currentEpoch()).isEqualTo(3);
    }

    @Test
    void anImprovementMustBeLargerThanMinDelta() {
        EarlyStopping es = EarlyStopping.builder("val_loss").minDelta(0.25).patience(2).verbose(true).build();
        // 0.75 improves by exactly minDelta: not enough; 0.5 improves by 0.5; 0.25 ties again, twice
        String log = TestTrainers.capturingStderr(() -> fit(es, List.of(1.0, 0.75, 0.5, 0.25), 20));

        assertThat(es.bestScore()).isEqualTo(0.5);
        assertThat(es.stoppedEpoch()).isEqualTo(4);
        assertThat(log).contains("Metric val_loss improved by 0.500 >= min_delta = 0.25. New best score: 0.500");

        EarlyStopping plain = EarlyStopping.builder("val_loss").patience(2).build();
        fit(plain, List.of(1.0, 0.75, 0.5, 0.25), 6);
        assertThat(plain.stoppingReason()).isEqualTo(EarlyStopping.Reason.PATIENCE_EXHAUSTED);
        assertThat(plain.bestScore()).isEqualTo(0.25);
        assertThat(plain.stoppedEpoch()).isEqualTo(5);
    }

    @Test
    void patienceCountsValidationChecksNotEpochs() {
        // the note of Lightning's docs: checkValEveryNEpoch=10 and patience=3 train at least 40 epochs
        CountingEarlyStopping es = new CountingEarlyStopping(EarlyStopping.builder("val_loss").patience(3));
        Trainer trainer = fit(es, List.of(1.0), 1, 1000, b -> b.checkValEveryNEpoch(10));

        assertThat(trainer.currentEpoch()).isEqualTo(40);
        assertThat(es.stoppedEpoch()).isEqualTo(39);
        assertThat(es.checkedAtStep).containsExactly(10L, 20L, 30L, 40L);
        assertThat(es.checkOnTrainEpochEnd()).isFalse();
    }

    @Test
    void twoValidationsPerEpochAreTwoChecks() {
        CountingEarlyStopping es = new CountingEarlyStopping(EarlyStopping.builder("val_loss").patience(3));
        Trainer trainer = fit(es, List.of(1.0), 2, 100, b -> b.valCheckInterval(0.5));

        assertThat(es.checkedAtStep).containsExactly(1L, 2L, 3L, 4L);
        assertThat(es.stoppedEpoch()).isEqualTo(1);
        assertThat(trainer.currentEpoch()).isEqualTo(2);
    }

    // ------------------------------------------------------------------ verbose, strict

    @Test
    void verboseLogsEveryDecisionAndQuietLogsNone() {
        EarlyStopping verbose = EarlyStopping.builder("val_loss").patience(1).verbose(true).build();
        String loud = TestTrainers.capturingStderr(() -> fit(verbose, List.of(1.0, 0.5, 0.75), 10));
        EarlyStopping quiet = EarlyStopping.builder("val_loss").patience(1).build();
        String silent = TestTrainers.capturingStderr(() -> fit(quiet, List.of(1.0, 0.5, 0.75), 10));

        assertThat(loud).contains("Metric val_loss improved. New best score: 1.000")
                .contains("Metric val_loss improved by 0.500 >= min_delta = 0.0. New best score: 0.500")
                .contains("Monitored metric val_loss did not improve in the last 1 records. Best score: 0.500.");
        assertThat(silent).doesNotContain("improved");
        assertThat(quiet.stoppedEpoch()).isEqualTo(verbose.stoppedEpoch()).isEqualTo(2);
    }

    @Test
    void strictFailsOnAMissingMetricNamingTheOnesThatExist() {
        EarlyStopping es = new EarlyStopping("val_los");

        assertThatThrownBy(() -> fit(es, List.of(1.0), 3))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("could not find the monitored metric 'val_los'")
                .hasMessageContaining("Logged metrics are: ")
                .hasMessageContaining("val_loss")
                .hasMessageContaining("train_loss_epoch")
                .hasMessageContaining("log(\"val_los\", ...)");
    }

    @Test
    void nonStrictWarnsOnceAboutAMissingMetricAndTrainingGoesOn() {
        EarlyStopping es = EarlyStopping.builder("val_los").strict(false).patience(1).build();
        Trainer[] trainer = new Trainer[1];
        String log = TestTrainers.capturingStderr(() -> trainer[0] = fit(es, List.of(1.0), 4));

        assertThat(trainer[0].currentEpoch()).isEqualTo(4);
        assertThat(trainer[0].shouldStop()).isFalse();
        assertThat(occurrences(log, "could not find the monitored metric 'val_los'")).isEqualTo(1);
        assertThat(log).contains("training goes on");

        EarlyStopping verbose = EarlyStopping.builder("val_los").strict(false).verbose(true).build();
        String every = TestTrainers.capturingStderr(() -> fit(verbose, List.of(1.0), 4));
        assertThat(occurrences(every, "could not find the monitored metric 'val_los'")).isEqualTo(4);
    }

    // ------------------------------------------------------------------ checkFinite and thresholds

    @Test
    void aNonFiniteMetricStopsWithItsReason() {
        EarlyStopping es = new EarlyStopping("val_loss");
        Trainer trainer = fit(es, List.of(1.0, NAN), 10);

        assertThat(trainer.currentEpoch()).isEqualTo(2);
        assertThat(es.stoppingReason()).isEqualTo(EarlyStopping.Reason.NON_FINITE_METRIC);
        assertThat(es.stoppingReasonMessage()).isEqualTo(
                "Monitored metric val_loss = NaN is not finite. Previous best value was 1.000. Signaling Trainer to"
                        + " stop.");

        EarlyStopping unchecked = EarlyStopping.builder("val_loss").checkFinite(false).build();
        Trainer patient = fit(unchecked, List.of(1.0, NAN), 10);
        // NaN never improves: three checks later patience runs out instead
        assertThat(patient.currentEpoch()).isEqualTo(4);
        assertThat(unchecked.stoppingReason()).isEqualTo(EarlyStopping.Reason.PATIENCE_EXHAUSTED);
        assertThat(unchecked.bestScore()).isEqualTo(1.0);
    }

    @Test
    void stoppingThresholdStopsOnceTheMetricIsStrictlyBetter() {
        EarlyStopping es = EarlyStopping.builder("val_loss").stoppingThreshold(0.5).build();
        Trainer trainer = fit(es, List.of(1.0, 0.5, 0.25, 0.125), 10);

        assertThat(es.stoppedEpoch()).isEqualTo(2);
        assertThat(trainer.currentEpoch()).isEqualTo(3);
        assertThat(es.stoppingReason()).isEqualTo(EarlyStopping.Reason.STOPPING_THRESHOLD);
        assertThat(es.stoppingReasonMessage())
                .isEqualTo("Stopping threshold reached: val_loss = 0.25 < 0.5. Signaling Trainer to stop.");

        EarlyStopping max = EarlyStopping.builder("val_loss").mode("max").stoppingThreshold(0.75).build();
        fit(max, List.of(0.5, 0.75, 0.875), 10);
        assertThat(max.stoppedEpoch()).isEqualTo(2);
        assertThat(max.stoppingReasonMessage()).contains("val_loss = 0.875 > 0.75");
    }

    @Test
    void divergenceThresholdStopsOnceTheMetricIsStrictlyWorse() {
        EarlyStopping es = EarlyStopping.builder("val_loss").divergenceThreshold(2.0).patience(10).build();
        Trainer trainer = fit(es, List.of(1.0, 2.0, 4.0, 0.5), 10);

        assertThat(es.stoppedEpoch()).isEqualTo(2);
        assertThat(trainer.currentEpoch()).isEqualTo(3);
        assertThat(es.stoppingReason()).isEqualTo(EarlyStopping.Reason.DIVERGENCE_THRESHOLD);
        assertThat(es.stoppingReasonMessage())
                .isEqualTo("Divergence threshold reached: val_loss = 4.0 > 2.0. Signaling Trainer to stop.");

        EarlyStopping max = EarlyStopping.builder("val_loss").mode("max").divergenceThreshold(0.5).build();
        fit(max, List.of(1.0, 0.25), 10);
        assertThat(max.stoppingReason()).isEqualTo(EarlyStopping.Reason.DIVERGENCE_THRESHOLD);
        assertThat(max.stoppingReasonMessage()).contains("val_loss = 0.25 < 0.5");
    }

    // ------------------------------------------------------------------ when the check runs

    @Test
    void checkOnTrainEpochEndDefaultsAsLightning() {
        // validation once per epoch at its end: checked at the train epoch's end (after that validation)
        CountingEarlyStopping perEpoch = new CountingEarlyStopping(EarlyStopping.builder("val_loss").patience(99));
        fit(perEpoch, List.of(1.0), 2, 2, b -> b);
        assertThat(perEpoch.checkOnTrainEpochEnd()).isTrue();
        assertThat(perEpoch.checkedAtStep).containsExactly(2L, 4L);

        // validation twice per epoch: checked after each validation
        CountingEarlyStopping perValidation =
                new CountingEarlyStopping(EarlyStopping.builder("val_loss").patience(99));
        fit(perValidation, List.of(1.0), 2, 2, b -> b.valCheckInterval(0.5));
        assertThat(perValidation.checkOnTrainEpochEnd()).isFalse();
        assertThat(perValidation.checkedAtStep).containsExactly(1L, 2L, 3L, 4L);

        // forced to the train epoch's end: once per epoch, whatever validation does
        CountingEarlyStopping forced = new CountingEarlyStopping(
                EarlyStopping.builder("val_loss").patience(99).checkOnTrainEpochEnd(true));
        fit(forced, List.of(1.0), 2, 2, b -> b.valCheckInterval(0.5));
        assertThat(forced.checkedAtStep).containsExactly(2L, 4L);
    }

    @Test
    void theTrainEpochEndCheckSeesWhatTheModuleLoggedInItsOwnTrainEpochEnd() {
        EarlyStopping atEpochEnd = EarlyStopping.builder("epoch_score").patience(1).build();
        Trainer trainer = TestTrainers.quiet(root).maxEpochs(10).callbacks(atEpochEnd).build();
        try (ScoreAtEpochEnd module = new ScoreAtEpochEnd()) {
            trainer.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 1));
        }
        // scores 3, 2, 1, 1: the fourth epoch ties and stops
        assertThat(atEpochEnd.stoppedEpoch()).isEqualTo(3);

        EarlyStopping afterValidation =
                EarlyStopping.builder("epoch_score").patience(1).checkOnTrainEpochEnd(false).build();
        Trainer failing = TestTrainers.quiet(root).maxEpochs(10).callbacks(afterValidation).build();
        try (ScoreAtEpochEnd module = new ScoreAtEpochEnd()) {
            // the first validation ends before the module logs its first score
            assertThatThrownBy(() -> failing.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 1)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("'epoch_score'");
        }
    }

    /** Logs epoch_score = max(3 - epoch, 1) in its onTrainEpochEnd. */
    private static final class ScoreAtEpochEnd extends BoringModule {
        @Override
        public void onTrainEpochEnd() {
            log("epoch_score", Math.max(3.0 - getTrainer().currentEpoch(), 1.0));
        }
    }

    @Test
    void withoutValidationTheCheckRunsOnTrainingMetricsAtEachEpochEnd() {
        // the boring loss falls every epoch, so in max mode it never improves after the first check
        EarlyStopping es = EarlyStopping.builder("train_loss").mode("max").patience(2).build();
        Trainer trainer = TestTrainers.quiet(root).maxEpochs(20).callbacks(es).build();
        try (BoringModule module = new BoringModule()) {
            trainer.fit(module, BoringModule.data(manager, 1));
        }
        assertThat(es.checkOnTrainEpochEnd()).isTrue();
        assertThat(es.stoppedEpoch()).isEqualTo(2);
        assertThat(trainer.currentEpoch()).isEqualTo(3);
    }

    /** The seed's example: no check after validation, one at the end of training. */
    private static final class CheckAtTrainEnd extends CountingEarlyStopping {
        CheckAtTrainEnd(Builder b) {
            super(b);
        }

        @Override
        public void onValidationEnd(Trainer trainer, LightningModule module) {}

        @Override
        public void onTrainEnd(Trainer trainer, LightningModule module) {
            runEarlyStoppingCheck(trainer);
        }
    }

    @Test
    void aSubclassCanCheckAtTheEndOfTrainingInstead() {
        List<Double> losses = List.of(1.0, 0.5, 0.75, 0.875, 0.9375);
        CheckAtTrainEnd atEnd = new CheckAtTrainEnd(
                EarlyStopping.builder("val_loss").patience(1).checkOnTrainEpochEnd(false).stoppingThreshold(2.0));
        Trainer trainer = fit(atEnd, losses, 5);

        assertThat(trainer.currentEpoch()).isEqualTo(5);
        assertThat(atEnd.checkedAtStep).containsExactly(5L);
        assertThat(atEnd.stoppingReason()).isEqualTo(EarlyStopping.Reason.STOPPING_THRESHOLD);
        assertThat(atEnd.stoppingReasonMessage()).contains("val_loss = 0.9375 < 2.0");

        EarlyStopping plain = EarlyStopping.builder("val_loss").patience(1).build();
        assertThat(fit(plain, losses, 5).currentEpoch()).isEqualTo(3);
    }

    @Test
    void noCheckInFastDevRun() {
        CountingEarlyStopping es = new CountingEarlyStopping(EarlyStopping.builder("val_loss").patience(1));
        fit(es, List.of(1.0, 2.0), 1, 10, b -> b.fastDevRun(true));
        assertThat(es.checkedAtStep).hasSize(1);
        assertThat(es.waitCount()).isZero();
        assertThat(es.bestScore()).isEqualTo(Double.POSITIVE_INFINITY);
    }

    // ------------------------------------------------------------------ minEpochs and minSteps

    @Test
    void minEpochsHoldsTheStopBack() {
        EarlyStopping es = EarlyStopping.builder("val_loss").patience(1).build();
        Trainer trainer = fit(es, List.of(1.0, 2.0), 1, 20, b -> b.minEpochs(5));

        assertThat(trainer.currentEpoch()).isEqualTo(5);
        assertThat(trainer.shouldStop()).isTrue();
        // the checks went on while the stop was held back
        assertThat(es.waitCount()).isEqualTo(4);
        assertThat(es.stoppedEpoch()).isEqualTo(4);
    }

    @Test
    void minStepsHoldsTheStopBackAndThenStopsMidEpochAfterValidating() {
        CountingEarlyStopping es = new CountingEarlyStopping(EarlyStopping.builder("val_loss").patience(1));
        // two batches per epoch: the stop is asked at step 4, honoured at step 5 in the middle of the third epoch,
        // where a validation runs first
        Trainer trainer = fit(es, List.of(1.0, 2.0), 2, 20, b -> b.minSteps(5));

        assertThat(trainer.globalStep()).isEqualTo(5);
        assertThat(trainer.currentEpoch()).isEqualTo(3);
        assertThat(es.checkedAtStep).containsExactly(2L, 4L, 5L);
    }

    // ------------------------------------------------------------------ checkpoints

    @Test
    void theStateIsCheckpointedAndAResumeContinuesThePatienceCount() {
        Path ckpt = root.resolve("es.ckpt");
        EarlyStopping first = EarlyStopping.builder("val_loss").patience(3).build();
        Trainer trainer = TestTrainers.quiet(root).maxEpochs(3).callbacks(first).build();
        try (BoringModule module = new BoringModule().valLosses(List.of(1.0, 1.25, 1.5))) {
            trainer.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 1));
            trainer.saveCheckpoint(ckpt);
        }
        assertThat(first.waitCount()).isEqualTo(2);

        Map<String, Object> callbacks = cast(CheckpointReader.readEntries(ckpt).get("callbacks"));
        assertThat(first.stateKey()).isEqualTo("EarlyStopping{'monitor': 'val_loss', 'mode': 'min'}");
        Map<String, Object> state = cast(callbacks.get(first.stateKey()));
        assertThat(state).containsEntry("stopping_reason", "not_stopped");
        assertThat(((Number) state.get("best_score")).doubleValue()).isEqualTo(1.0);
        assertThat(((Number) state.get("patience")).intValue()).isEqualTo(3);
        assertThat(((Number) state.get("wait_count")).intValue()).isEqualTo(2);
        assertThat(((Number) state.get("stopped_epoch")).intValue()).isZero();

        // patience comes back from the checkpoint (as in Lightning), whatever the new instance says
        EarlyStopping resumed = EarlyStopping.builder("val_loss").patience(10).build();
        Trainer again = TestTrainers.quiet(root).maxEpochs(20).callbacks(resumed).build();
        try (BoringModule module = new BoringModule().valLosses(List.of(1.75, 0.5))) {
            again.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 1), ckpt.toString());
        }
        assertThat(resumed.patience()).isEqualTo(3);
        assertThat(resumed.bestScore()).isEqualTo(1.0);
        assertThat(resumed.stoppedEpoch()).isEqualTo(3);
        assertThat(again.currentEpoch()).isEqualTo(4);
        assertThat(resumed.stoppingReason()).isEqualTo(EarlyStopping.Reason.PATIENCE_EXHAUSTED);
    }

    @Test
    void aCheckpointBeforeTheFirstCheckKeepsAnInfiniteBestScore() {
        Path ckpt = root.resolve("early.ckpt");
        EarlyStopping first = EarlyStopping.builder("val_loss").mode("max").patience(1).build();
        Trainer trainer = TestTrainers.quiet(root).maxEpochs(1).checkValEveryNEpoch(2).callbacks(first).build();
        try (BoringModule module = new BoringModule()) {
            trainer.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 1));
            trainer.saveCheckpoint(ckpt);
        }
        Map<String, Object> callbacks = cast(CheckpointReader.readEntries(ckpt).get("callbacks"));
        assertThat(cast(callbacks.get(first.stateKey()))).containsEntry("best_score", Double.NEGATIVE_INFINITY);
        EarlyStopping resumed = EarlyStopping.builder("val_loss").mode("max").patience(1).build();
        Trainer again = TestTrainers.quiet(root).maxEpochs(4).checkValEveryNEpoch(2).callbacks(resumed).build();
        try (BoringModule module = new BoringModule().valLosses(List.of(0.5, 0.25))) {
            again.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 1), ckpt.toString());
        }
        // epoch 1: first check (0.5 improves on -inf); epoch 3: 0.25 does not, patience 1 stops
        assertThat(resumed.bestScore()).isEqualTo(0.5);
        assertThat(resumed.stoppedEpoch()).isEqualTo(3);
        assertThat(resumed.stoppingReason()).isEqualTo(EarlyStopping.Reason.PATIENCE_EXHAUSTED);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object value) {
        return (Map<String, Object>) value;
    }

    // ------------------------------------------------------------------ arguments

    @Test
    void badArgumentsAreRejectedNamingTheValue() {
        assertThatThrownBy(() -> EarlyStopping.builder("val_loss").mode("maximum"))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("'maximum'");
        assertThatThrownBy(() -> EarlyStopping.builder("val_loss").patience(-1).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("-1");
        assertThatThrownBy(() -> EarlyStopping.builder("val_loss").minDelta(-0.1).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("minDelta")
                .hasMessageContaining("-0.1");
        assertThatThrownBy(() -> EarlyStopping.builder("val_loss").stoppingThreshold(NAN).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("stoppingThreshold");
        assertThatThrownBy(() -> EarlyStopping.builder("val_loss").divergenceThreshold(NAN).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("divergenceThreshold");
        assertThatThrownBy(() -> new EarlyStopping(""))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("metric to monitor");
    }
}
