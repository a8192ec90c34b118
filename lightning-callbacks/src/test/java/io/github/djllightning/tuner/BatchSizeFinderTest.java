package io.github.djllightning.tuner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batch-size search on the MNIST MLP: power and binsearch against a memory budget and a real engine failure. */
class BatchSizeFinderTest {

    @TempDir
    Path root;

    private Trainer trainer() {
        return TestTrainers.quiet(root).seed(42).build();
    }

    private static List<Integer> sizes(BatchSizeResult result) {
        return result.trials().stream().map(BatchSizeResult.Trial::batchSize).toList();
    }

    private static List<Boolean> fits(BatchSizeResult result) {
        return result.trials().stream().map(BatchSizeResult.Trial::fits).toList();
    }

    @Test
    void findsTheLimitOfAMemoryBudgetExactlyInBothModes() throws IOException {
        try (MnistClassifier.Typed model = new MnistClassifier.Typed()) {
            Tuner tuner = new Tuner(trainer());
            // without a budget: 2, 4, ..., 64 all fit; a step's tensors grow by the same bytes per sample
            BatchSizeResult free = tuner.scaleBatchSize(model, BatchSizeOptions.builder().maxTrials(6).build());
            assertThat(sizes(free)).containsExactly(2, 4, 8, 16, 32, 64);
            assertThat(free.batchSize()).isEqualTo(64);
            long[] peak = free.trials().stream().mapToLong(BatchSizeResult.Trial::peakStepBytes).toArray();
            long perSample = (peak[5] - peak[4]) / 32;
            assertThat(perSample).isGreaterThan(784 * 4);
            for (int i = 1; i < peak.length; i++) {
                assertThat(peak[i] - peak[i - 1]).isEqualTo(perSample * (sizes(free).get(i) - sizes(free).get(i - 1)));
            }
            long budget48 = peak[4] + 16 * perSample;
            List<float[]> weights = TestTrainers.weights(model);

            BatchSizeResult power = tuner.scaleBatchSize(model,
                    BatchSizeOptions.builder().memoryBudgetBytes(budget48).build());
            assertThat(power.batchSize()).isEqualTo(32);
            assertThat(model.batchSize()).isEqualTo(32);
            assertThat(sizes(power)).containsExactly(2, 4, 8, 16, 32, 64);
            assertThat(fits(power)).containsExactly(true, true, true, true, true, false);

            BatchSizeResult exact = tuner.scaleBatchSize(model,
                    BatchSizeOptions.builder().mode("binsearch").margin(0).memoryBudgetBytes(budget48).build());
            assertThat(exact.batchSize()).isEqualTo(48);
            assertThat(model.batchSize()).isEqualTo(48);
            assertThat(sizes(exact)).containsExactly(2, 4, 8, 16, 32, 64, 48, 56, 52, 50, 49);
            assertThat(fits(exact)).containsExactly(true, true, true, true, true, false, true, false, false, false,
                    false);
            assertThat(exact.trials().get(6).peakStepBytes()).isEqualTo(budget48);

            BatchSizeResult withMargin = tuner.scaleBatchSize(model,
                    BatchSizeOptions.builder().mode("binsearch").memoryBudgetBytes(budget48).build());
            assertThat(withMargin.batchSize()).isEqualTo(45);
            assertThat(model.batchSize()).isEqualTo(45);

            // the trials trained, and it was all undone
            assertThat(TestTrainers.sameWeights(TestTrainers.weights(model), weights)).isTrue();
            try (Stream<Path> files = Files.list(root)) {
                assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("."));
            }
        }
    }

    @Test
    void aRealEngineAllocationFailureCountsAsOutOfMemory() {
        try (MnistClassifier model = new MnistClassifier().failAbove(48)) {
            Tuner tuner = new Tuner(trainer());
            BatchSizeResult power = tuner.scaleBatchSize(model, BatchSizeOptions.defaults());
            assertThat(power.batchSize()).isEqualTo(32);
            assertThat(model.hparams().get("batch_size")).isEqualTo(32);
            assertThat(fits(power)).endsWith(false);
            assertThat(power.trials().get(power.trials().size() - 1).peakStepBytes()).isEqualTo(-1);

            BatchSizeResult binsearch = tuner.scaleBatchSize(model,
                    BatchSizeOptions.builder().mode("binsearch").margin(0).build());
            assertThat(binsearch.batchSize()).isEqualTo(48);
            assertThat(model.hparams().get("batch_size")).isEqualTo(48);
        }
    }

    @Test
    void withoutABudgetTheSearchEndsOnceABatchHoldsTheWholeDataset() {
        try (MnistClassifier.Typed model = new MnistClassifier.Typed()) {
            BatchSizeResult result = new Tuner(trainer()).scaleBatchSize(model, BatchSizeOptions.defaults());
            assertThat(sizes(result)).containsExactly(2, 4, 8, 16, 32, 64, 128, 256, 512);
            assertThat(result.batchSize()).isEqualTo(512);
        }
    }

    @Test
    void aFailureThatIsNotOutOfMemoryEndsTheSearch() {
        try (MnistClassifier.Typed model = new MnistClassifier.Typed() {
            @Override
            public DataLoader trainDataloader() {
                if (batchSize() > 8) {
                    throw new IllegalStateException("no loader for " + batchSize());
                }
                return super.trainDataloader();
            }
        }) {
            model.setBatchSize(2);
            assertThatThrownBy(() -> new Tuner(trainer()).scaleBatchSize(model, BatchSizeOptions.defaults()))
                    .isInstanceOf(IllegalStateException.class).hasMessage("no loader for 16");
        }
    }

    /** MNIST as a data module that keeps the batch size. */
    static final class MnistData extends LightningDataModule implements HasBatchSize {
        private int batchSize = 4;
        private int setups;
        private int teardowns;

        @Override
        public void setup(TrainerFn stage) {
            setups++;
        }

        @Override
        public void teardown(TrainerFn stage) {
            teardowns++;
        }

        @Override
        public DataLoader trainDataloader() {
            return MnistClassifier.loader(batchSize);
        }

        @Override
        public int batchSize() {
            return batchSize;
        }

        @Override
        public void setBatchSize(int value) {
            batchSize = value;
        }
    }

    @Test
    void aDataModuleCanHoldTheBatchSize() {
        MnistData data = new MnistData();
        try (MnistClassifier model = new MnistClassifier(false).failAbove(40)) {
            BatchSizeResult result = new Tuner(trainer()).scaleBatchSize(model, data,
                    BatchSizeOptions.builder().initVal(5).build());
            assertThat(sizes(result)).containsExactly(5, 10, 20, 40, 80);
            assertThat(result.batchSize()).isEqualTo(40);
            assertThat(data.batchSize()).isEqualTo(40);
            assertThat(data.setups).isEqualTo(1);
            assertThat(data.teardowns).isEqualTo(1);
        }
    }

    @Test
    void saysWhereTheBatchSizeCanBeKeptWhenItIsNowhere() {
        try (MnistClassifier model = new MnistClassifier(false)) {
            assertThatThrownBy(() -> new Tuner(trainer()).scaleBatchSize(model, BatchSizeOptions.defaults()))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("HasBatchSize")
                    .hasMessageContaining("\"batch_size\"")
                    .hasMessageContaining("batchArgName");
        }
    }
}
