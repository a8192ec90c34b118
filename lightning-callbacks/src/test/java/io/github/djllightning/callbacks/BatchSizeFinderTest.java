package io.github.djllightning.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.tuner.BatchSizeResult;
import io.github.djllightning.tuner.MnistClassifier;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batch-size finder as a callback: it searches when fit starts, before the fit builds its loader. */
class BatchSizeFinderTest {

    @TempDir
    Path root;

    private Trainer trainer(int maxEpochs, BatchSizeFinder finder) {
        return TestTrainers.quiet(root).seed(42).maxEpochs(maxEpochs).callbacks(finder).build();
    }

    /** The classifier, starting at batch size 2, whose steps run out of engine memory above 48 samples. */
    private static MnistClassifier.Typed model() {
        MnistClassifier.Typed model = new MnistClassifier.Typed();
        model.failAbove(48);
        model.setBatchSize(2);
        return model;
    }

    @Test
    void theFitTrainsWithTheBatchSizeFoundAndAResumeUsesItWithoutSearching() {
        BatchSizeFinder first = BatchSizeFinder.builder().mode("binsearch").margin(0).build();
        Path checkpoint = root.resolve("after-epoch-1.ckpt");
        try (MnistClassifier.Typed model = model()) {
            Trainer trainer = trainer(1, first);
            trainer.fit(model);
            assertThat(first.optimalBatchSize()).isEqualTo(48);
            assertThat(first.result().trials()).extracting(BatchSizeResult.Trial::batchSize)
                    .containsExactly(2, 4, 8, 16, 32, 64, 48, 56, 52, 50, 49);
            assertThat(model.batchSize()).isEqualTo(48);
            assertThat(trainer.fitLoop().trainLoader().batchSize()).isEqualTo(48);
            assertThat(trainer.numTrainingBatches()).isEqualTo(11);
            assertThat(trainer.globalStep()).isEqualTo(11);
            trainer.saveCheckpoint(checkpoint);
        }
        BatchSizeFinder second = BatchSizeFinder.builder().mode("binsearch").margin(0).build();
        try (MnistClassifier.Typed model = model()) {
            Trainer trainer = trainer(2, second);
            trainer.fit(model, checkpoint.toString());
            assertThat(second.result()).isNull();
            assertThat(second.optimalBatchSize()).isEqualTo(48);
            assertThat(model.batchSize()).isEqualTo(48);
            assertThat(model.configureOptimizersCalls()).isEqualTo(1);
            assertThat(trainer.globalStep()).isEqualTo(22);
        }
    }

    @Test
    void aLoaderPassedToFitIsRejected() {
        try (MnistClassifier.Typed model = model()) {
            Trainer trainer = trainer(1, new BatchSizeFinder());
            assertThatThrownBy(() -> trainer.fit(model, MnistClassifier.loader(16)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("batch size 32")
                    .hasMessageContaining("loader of batch size 16")
                    .hasMessageContaining("passed to fit directly");
        }
    }
}
