package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.callbacks.EarlyStopping;
import io.github.djllightning.callbacks.EarlyStopping.Reason;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The early-stopping page's samples stop when and why the page says. Most runs have epochs of one or two batches and
 * a module whose monitored metric follows a chosen sequence.
 */
class EarlyStoppingGuideTest {

    private static MnistDataset train;

    @BeforeAll
    static void loadMnist() throws Exception {
        train = GuideData.train(100 * 32);
    }

    @AfterAll
    static void closeMnist() {
        train.close();
    }

    /** {@code count} batches of 32 images. */
    private static DataLoader batches(int count) {
        return DataLoader.of(GuideData.subset(train, count * 32)).batchSize(32).build();
    }

    private static EarlyStopping earlyStopping(Trainer trainer) {
        return trainer.callbacks().stream().filter(EarlyStopping.class::isInstance).map(EarlyStopping.class::cast)
                .findFirst().orElseThrow();
    }

    /** Fits one-batch epochs, validating on one batch; returns the Trainer. */
    private static Trainer fit(Trainer trainer, LightningModule module) {
        try (module) {
            trainer.fit(module, batches(1), batches(1));
        }
        return trainer;
    }

    @Test
    void theModuleStopsTheFitWhenItsLossIsGoodEnough() {
        Trainer trainer = EarlyStoppingGuide.stopFromTheModule(batches(100), 0.07);
        try (LightningModule module = trainer.lightningModule()) {
            assertThat(trainer.stopReason()).startsWith("train_loss 0.0").endsWith(" < 0.07");
            assertThat(trainer.globalStep()).isBetween(2L, 999L);
            assertThat(trainer.callbackMetrics().get("train_loss")).isLessThan(0.07);
        }
    }

    @Test
    void endEpochFromOnTrainBatchStartSkipsTheRestOfEachEpochOnly() {
        Trainer trainer = Trainer.builder().maxEpochs(2).enableProgressBar(false).build();
        try (LitAutoEncoder module = new LitAutoEncoder(LitAutoEncoder.encoder(), LitAutoEncoder.decoder()) {
            @Override
            public int onTrainBatchStart(Batch batch, int batchIdx) {
                return batchIdx == 3 ? END_EPOCH : 0;
            }
        }) {
            trainer.fit(module, batches(10));
        }
        assertThat(trainer.currentEpoch()).isEqualTo(2);
        assertThat(trainer.globalStep()).as("3 batches in each of the 2 epochs").isEqualTo(6);
    }

    @Test
    void valLossThatStopsFallingEndsTheFitAfterThreeChecksWithoutProgress() {
        Trainer trainer;
        try (LightningModule module = ScriptedAutoEncoder.validationMetric("val_loss", 0.5, 0.4, 0.45, 0.41, 0.42)) {
            trainer = EarlyStoppingGuide.untilValLossStopsFalling(module, batches(1), batches(1));
        }
        EarlyStopping earlyStopping = earlyStopping(trainer);
        assertThat(earlyStopping.stoppingReason()).isEqualTo(Reason.PATIENCE_EXHAUSTED);
        assertThat(earlyStopping.bestScore()).isEqualTo(0.4);
        assertThat(earlyStopping.stoppedEpoch()).isEqualTo(4);
        assertThat(trainer.globalStep()).isEqualTo(5);
    }

    @Test
    void aMissingMetricIsAnErrorThatNamesTheLoggedOnes() {
        try (LightningModule module = ScriptedAutoEncoder.validationMetric("val_los", 0.5)) {
            assertThatThrownBy(() -> EarlyStoppingGuide.untilValLossStopsFalling(module, batches(1), batches(1)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("could not find the monitored metric 'val_loss'")
                    .hasMessageContaining("val_los");
        }
    }

    @Test
    void inMaxModeAnEqualAccuracyIsNoImprovement() {
        Trainer trainer = fit(EarlyStoppingGuide.onAccuracy(),
                ScriptedAutoEncoder.validationMetric("val_accuracy", 0.5, 0.6, 0.6, 0.59, 0.6));
        EarlyStopping earlyStopping = earlyStopping(trainer);
        assertThat(earlyStopping.mode()).isEqualTo("max");
        assertThat(earlyStopping.bestScore()).isEqualTo(0.6);
        assertThat(earlyStopping.stoppedEpoch()).isEqualTo(4);
    }

    @Test
    void thresholdsAndNonFiniteValuesStopAtOnce() {
        double[][] runs = {{0.5, 0.3, 0.01}, {0.5, 2.0}, {0.5, Double.NaN}};
        Reason[] reasons = {Reason.STOPPING_THRESHOLD, Reason.DIVERGENCE_THRESHOLD, Reason.NON_FINITE_METRIC};
        for (int i = 0; i < runs.length; i++) {
            EarlyStopping earlyStopping = EarlyStoppingGuide.withThresholds();
            Trainer trainer = fit(Trainer.builder().maxEpochs(100).enableProgressBar(false).callbacks(earlyStopping)
                    .build(), ScriptedAutoEncoder.validationMetric("val_loss", runs[i]));
            assertThat(earlyStopping.stoppingReason()).isEqualTo(reasons[i]);
            assertThat(trainer.globalStep()).isEqualTo(runs[i].length);
        }
    }

    @Test
    void aTrainingMetricIsCheckedWhenTheTrainingEpochEnds() {
        EarlyStopping earlyStopping = EarlyStoppingGuide.onATrainingMetric();
        Trainer trainer = Trainer.builder().maxEpochs(100).enableProgressBar(false).callbacks(earlyStopping).build();
        try (LightningModule module = ScriptedAutoEncoder.trainingMetric("train_loss", 1.0, 0.9, 0.95)) {
            trainer.fit(module, batches(1));
        }
        assertThat(earlyStopping.stoppingReason()).isEqualTo(Reason.PATIENCE_EXHAUSTED);
        assertThat(earlyStopping.bestScore()).isEqualTo(0.9);
        assertThat(trainer.globalStep()).isEqualTo(5);
    }

    @Test
    void theSubclassChecksOncePerEpochWherePlainEarlyStoppingChecksAfterEveryValidation() {
        Trainer subclass = EarlyStoppingGuide.checkedOncePerEpoch();
        Trainer plain = Trainer.builder().valCheckInterval(0.5)
                .callbacks(EarlyStopping.builder("val_loss").patience(3).build()).build();
        for (Trainer trainer : new Trainer[] {subclass, plain}) {
            try (LightningModule module = ScriptedAutoEncoder.validationMetric("val_loss", 1.0)) {
                trainer.fit(module, batches(2), batches(1));
            }
        }
        // a value that never improves: the fourth check stops; two validations per epoch of two batches
        assertThat(subclass.globalStep()).as("4 epochs").isEqualTo(8);
        assertThat(plain.globalStep()).as("4 validations: 2 epochs").isEqualTo(4);
    }

    @Test
    void patienceCountsValidationsSoTenEpochsPerValidationMeanFortyEpochs() {
        Trainer trainer = fit(EarlyStoppingGuide.validatingEveryTenEpochs(),
                ScriptedAutoEncoder.validationMetric("val_loss", 1.0));
        assertThat(earlyStopping(trainer).stoppingReason()).isEqualTo(Reason.PATIENCE_EXHAUSTED);
        assertThat(trainer.currentEpoch()).isEqualTo(40);
        assertThat(trainer.globalStep()).isEqualTo(40);
    }
}
