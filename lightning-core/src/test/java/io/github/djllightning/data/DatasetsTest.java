package io.github.djllightning.data;

import static io.github.djllightning.data.TestDatasets.epoch;
import static io.github.djllightning.data.TestDatasets.flatten;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.data.TestDatasets.RecordDataset;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DatasetsTest {

    private NDManager manager;

    @BeforeEach
    void createManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    @Test
    void fractionsRoundLikeTorchRandomSplit() {
        // floor each share, then the remainder one by one to the parts in order
        assertThat(Datasets.splitSizes(10, new double[] {0.33, 0.33, 0.34})).containsExactly(4, 3, 3);
        assertThat(Datasets.splitSizes(10, new double[] {0.3, 0.3, 0.4})).containsExactly(3, 3, 4);
        assertThat(Datasets.splitSizes(5, new double[] {0.5, 0.5})).containsExactly(3, 2);
        assertThat(Datasets.splitSizes(7, new double[] {0.25, 0.25, 0.25, 0.25})).containsExactly(2, 2, 2, 1);
        assertThat(Datasets.splitSizes(60_000, new double[] {55.0 / 60, 5.0 / 60})).containsExactly(55_000, 5_000);
        assertThat(Datasets.splitSizes(3, new double[] {1.0, 0.0})).containsExactly(3, 0);
        assertThat(Datasets.splitSizes(10, new double[] {0.5, 0.5000005})).containsExactly(5, 5);
    }

    @Test
    void partsHaveTheRequestedSizesAreDisjointAndCoverTheDataset() {
        ArrayDataset dataset = TestDatasets.array(manager, 100);
        RandomAccessDataset[] parts = Datasets.randomSplit(dataset, new double[] {0.7, 0.2, 0.1}, 1);
        assertThat(parts).extracting(RandomAccessDataset::size).containsExactly(70L, 20L, 10L);
        Set<Long> seen = new HashSet<>();
        for (RandomAccessDataset part : parts) {
            assertThat(part).isInstanceOf(ArrayDataset.class);
            for (long id : flatten(epoch(DataLoader.of(part).batchSize(8).build(), manager, 0, 0))) {
                assertThat(seen.add(id)).as("sample %d in two parts", id).isTrue();
            }
            long[] shuffled = flatten(epoch(DataLoader.of(part).batchSize(8).shuffle(true).build(), manager, 0, 0));
            assertThat(shuffled).hasSize((int) part.size());
        }
        assertThat(seen).hasSize(100);
    }

    @Test
    void theSplitIsAFunctionOfTheSeed() {
        RandomAccessDataset dataset = new RecordDataset(40);
        long[] first = idsOf(Datasets.randomSplit(dataset, new long[] {30, 10}, 7)[1]);
        long[] again = idsOf(Datasets.randomSplit(dataset, new long[] {30, 10}, 7)[1]);
        long[] other = idsOf(Datasets.randomSplit(dataset, new long[] {30, 10}, 8)[1]);
        assertThat(again).containsExactly(first);
        assertThat(other).isNotEqualTo(first);
        assertThat(first).isNotEqualTo(LongStream.range(30, 40).toArray());
    }

    @Test
    void splittingMnistKeepsTheResidentFastPath() throws IOException {
        try (MnistDataset test = MnistDataset.builder().usage(Usage.TEST).limit(1000).build()) {
            RandomAccessDataset[] parts = Datasets.randomSplit(test, new long[] {900, 100}, 42);
            assertThat(parts).allMatch(p -> p instanceof ResidentSubset);
            assertThat(ResidentView.of(parts[1]).map()).hasSize(100);
            Set<Long> rows = new HashSet<>();
            for (RandomAccessDataset part : parts) {
                for (long row : ResidentView.of(part).map()) {
                    rows.add(row);
                }
            }
            assertThat(rows).hasSize(1000);
            DataLoader loader = DataLoader.of(parts[0]).batchSize(64).shuffle(true).build();
            assertThat(epoch(loader, manager, 0, 0)).hasSize(15);
        }
    }

    @Test
    void badArgumentsAreRejectedWithTheValues() {
        RandomAccessDataset dataset = new RecordDataset(10);
        assertThatThrownBy(() -> Datasets.randomSplit(dataset, new double[] {0.5, 0.4}, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[0.5, 0.4]")
                .hasMessageContaining("not 1");
        assertThatThrownBy(() -> Datasets.randomSplit(dataset, new double[] {1.5, -0.5}, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("index 0 is 1.5");
        assertThatThrownBy(() -> Datasets.randomSplit(dataset, new double[] {Double.NaN, 1}, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NaN");
        assertThatThrownBy(() -> Datasets.randomSplit(dataset, new double[0], 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one fraction");
        assertThatThrownBy(() -> Datasets.randomSplit(dataset, new long[] {5, 4}, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[5, 4] sum to 9, but the dataset has 10 samples");
        assertThatThrownBy(() -> Datasets.randomSplit(dataset, new long[] {11, -1}, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got -1 at index 1");
    }

    private long[] idsOf(RandomAccessDataset part) {
        long[] ids = flatten(epoch(DataLoader.of(part).batchSize(4).build(), manager, 0, 0));
        return Arrays.copyOf(ids, ids.length);
    }
}
