package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import io.github.djllightning.callbacks.BatchSizeFinder;
import io.github.djllightning.callbacks.LearningRateFinder;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.tuner.BatchSizeResult;
import io.github.djllightning.tuner.LrFinderResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The tuning page's searches find a rate and a batch size, set them where the page says, and train with them. */
class TuningGuideTest {

    private static MnistDataset train;

    @BeforeAll
    static void loadMnist() throws Exception {
        train = GuideData.train(1024);
    }

    @AfterAll
    static void closeMnist() {
        train.close();
    }

    private static DataLoader loader() {
        return DataLoader.of(train).batchSize(64).shuffle(true).seed(3).build();
    }

    private static <T> T callback(Trainer trainer, Class<T> type) {
        return trainer.callbacks().stream().filter(type::isInstance).map(type::cast).findFirst().orElseThrow();
    }

    private static void assertIncreasing(List<Double> values) {
        for (int i = 1; i < values.size(); i++) {
            assertThat(values.get(i)).isGreaterThan(values.get(i - 1));
        }
    }

    @Test
    void theSuggestedRateIsSetOnTheModuleAndTrainsTheFit() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        Engine.getInstance().setRandomSeed(42);
        try (TunableClassifier model = new TunableClassifier()) {
            LrFinderResult result = TuningGuide.findLearningRateThenFit(model, loader());
            System.setOut(previous);
            double suggestion = result.suggestion().orElseThrow();
            assertThat(result.lrs()).hasSizeBetween(20, 100);
            assertIncreasing(result.lrs());
            assertThat(model.learningRate()).isEqualTo(suggestion);
            Trainer trainer = model.getTrainer();
            assertThat(trainer.optimizers().get(0).lr()).isEqualTo(suggestion);
            assertThat(trainer.globalStep()).isEqualTo(5 * 1024 / 64);
            assertThat(trainer.callbackMetrics().get("train_loss")).as("the last step's cross entropy; 2.3 at chance")
                    .isLessThan(2.0);
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("Suggested learning rate", "<- suggestion");
        } finally {
            System.setOut(previous);
        }
    }

    @Test
    void theOptionsSetTheRangeAndTheNumberOfSteps() {
        Trainer trainer = Trainer.builder().maxEpochs(1).enableProgressBar(false).build();
        try (TunableClassifier model = new TunableClassifier()) {
            LrFinderResult result = TuningGuide.findLearningRateWithOptions(trainer, model, loader());
            assertThat(result.lrs().get(0)).isCloseTo(1e-6, within(1e-12));
            assertThat(result.lrs()).hasSizeLessThanOrEqualTo(200).allMatch(lr -> lr <= 1.0);
            if (!result.diverged()) {
                assertThat(result.lrs()).hasSize(200);
            }
            assertIncreasing(result.lrs());
            assertThat(model.learningRate()).isEqualTo(result.suggestion().orElseThrow());
            assertThat(trainer.globalStep()).as("the search trains on a Trainer of its own").isZero();
        }
    }

    @Test
    void theBatchSizeFoundIsSetOnTheDataModuleAndUsedByTheFit() {
        Trainer trainer = Trainer.builder().maxEpochs(1).enableProgressBar(false).build();
        TunableDataModule datamodule = new TunableDataModule(train);
        try (TunableClassifier model = new TunableClassifier()) {
            BatchSizeResult found = TuningGuide.findBatchSizeThenFit(trainer, model, datamodule);
            // far from the budget, the search doubles until a batch holds the whole 1,024 images, then binsearch
            // takes its 5% margin off
            assertThat(found.trials()).extracting(BatchSizeResult.Trial::batchSize)
                    .containsExactly(2, 4, 8, 16, 32, 64, 128, 256, 512, 1024);
            assertThat(found.trials()).allMatch(BatchSizeResult.Trial::fits);
            assertThat(found.batchSize()).isEqualTo(972);
            assertThat(datamodule.batchSize()).isEqualTo(972);
            assertThat(trainer.numTrainingBatches()).isEqualTo(2);
        }
    }

    @Test
    void asCallbacksBothSearchesRunWhenTheFitStarts() {
        TunableDataModule datamodule = new TunableDataModule(train);
        try (TunableClassifier model = new TunableClassifier()) {
            Trainer trainer = TuningGuide.fitWithFinders(model, datamodule);
            int batchSize = callback(trainer, BatchSizeFinder.class).result().batchSize();
            assertThat(datamodule.batchSize()).isEqualTo(batchSize);
            double suggestion = callback(trainer, LearningRateFinder.class).result().suggestion().orElseThrow();
            assertThat(model.learningRate()).isEqualTo(suggestion);
            assertThat(trainer.optimizers().get(0).lr()).isEqualTo(suggestion);
            assertThat(trainer.globalStep()).isEqualTo(5 * ((1024 + batchSize - 1) / batchSize));
        }
    }
}
