package io.github.djllightning.callbacks;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.tuner.LrFinderResult;
import io.github.djllightning.tuner.MnistClassifier;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The learning-rate finder as a callback: it searches when fit starts and the fit trains with the suggestion. */
class LearningRateFinderTest {

    @TempDir
    Path root;

    private Trainer trainer(int maxEpochs, LearningRateFinder finder) {
        return TestTrainers.quiet(root).seed(42).maxEpochs(maxEpochs).callbacks(finder).build();
    }

    @Test
    void aFitWithTheFinderEndsExactlyWhereAFitStartedAtTheSuggestedRateEnds() {
        LearningRateFinder finder = LearningRateFinder.builder().numTraining(50).build();
        double suggestion;
        List<float[]> tuned;
        try (MnistClassifier.Typed model = new MnistClassifier.Typed()) {
            Trainer trainer = trainer(2, finder);
            trainer.fit(model);
            suggestion = finder.result().suggestion().getAsDouble();
            assertThat(finder.result().lrs()).hasSize(50);
            assertThat(model.learningRate()).isEqualTo(suggestion);
            assertThat(trainer.optimizers().get(0).lr()).isEqualTo(suggestion);
            assertThat(trainer.globalStep()).isEqualTo(32);
            assertThat(model.configureOptimizersCalls()).isEqualTo(2);
            tuned = TestTrainers.weights(model);
        }
        try (MnistClassifier.Typed model = new MnistClassifier.Typed()) {
            model.setLearningRate(suggestion);
            TestTrainers.quiet(root).seed(42).maxEpochs(2).build().fit(model);
            // the search's 50 steps were undone: the same initial weights, the same batches, the same rate
            assertThat(TestTrainers.sameWeights(TestTrainers.weights(model), tuned)).isTrue();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aResumedFitDoesNotSearchAgain() {
        LearningRateFinder first = LearningRateFinder.builder().numTraining(30).build();
        Path checkpoint = root.resolve("after-epoch-1.ckpt");
        LrFinderResult found;
        try (MnistClassifier.Typed model = new MnistClassifier.Typed()) {
            Trainer trainer = trainer(1, first);
            trainer.fit(model);
            trainer.saveCheckpoint(checkpoint);
            found = first.result();
        }
        Map<String, Object> stored = (Map<String, Object>) CheckpointReader.readEntries(checkpoint).get("callbacks");
        assertThat(stored).containsKey(first.stateKey());
        assertThat(first.stateKey()).isEqualTo("LearningRateFinder{'min_lr': 1.0E-8, 'max_lr': 1.0,"
                + " 'num_training_steps': 30, 'mode': 'exponential'}");

        LearningRateFinder second = LearningRateFinder.builder().numTraining(30).build();
        try (MnistClassifier.Typed model = new MnistClassifier.Typed()) {
            Trainer trainer = trainer(2, second);
            trainer.fit(model, checkpoint.toString());
            assertThat(model.configureOptimizersCalls()).isEqualTo(1);
            assertThat(second.result().lrs()).isEqualTo(found.lrs());
            assertThat(second.result().losses()).isEqualTo(found.losses());
            assertThat(trainer.optimizers().get(0).lr()).isEqualTo(found.suggestion().getAsDouble());
            assertThat(trainer.globalStep()).isEqualTo(32);
        }
    }
}
