package io.github.djllightning.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.nn.Parameter;
import io.github.djllightning.data.DataLoader;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.TestTrainers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code seed} makes a run repeatable: the same seed gives the same initial and final weights. */
class SeedTest {

    @TempDir
    Path root;

    @Test
    void theSameSeedGivesBitIdenticalTrainingAndAnotherSeedDoesNot() {
        try (NDManager manager = NDManager.newBaseManager()) {
            DataLoader data = BoringModule.data(manager, 5);
            List<float[]> first = train(data, 123, true);
            List<float[]> second = train(data, 123, true);
            List<float[]> other = train(data, 321, true);
            for (int i = 0; i < first.size(); i++) {
                assertThat(second.get(i)).containsExactly(first.get(i));
            }
            assertThat(other.get(0)).isNotEqualTo(first.get(0));
        }
    }

    @Test
    void aShuffledLoaderWithoutItsOwnSeedFollowsTheTrainersSeed() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray rows = manager.arange(0f, 16f).reshape(16, 1).repeat(1, 32);
            DataLoader unseeded = DataLoader.of(new ArrayDataset.Builder().setData(rows).setSampling(4, false).build())
                    .batchSize(4)
                    .shuffle(true)
                    .build();
            assertThat(firstBatches(unseeded, 1)).isEqualTo(firstBatches(unseeded, 1));
            assertThat(firstBatches(unseeded, 1)).isNotEqualTo(firstBatches(unseeded, 2));
            DataLoader seeded = unseeded.newBuilder().seed(5).build();
            assertThat(firstBatches(seeded, 1)).isEqualTo(firstBatches(seeded, 2));
        }
    }

    /** The first sample index of every batch of a 2-epoch fit. */
    private List<Float> firstBatches(DataLoader data, long seed) {
        List<Float> firsts = new ArrayList<>();
        Callback recorder = new Callback() {
            @Override
            public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
                firsts.add(batch.getData().head().toFloatArray()[0]);
            }
        };
        try (BoringModule module = new BoringModule()) {
            TestTrainers.quiet(root).seed(seed).maxEpochs(2).callbacks(recorder).build().fit(module, data);
        }
        return firsts;
    }

    private List<float[]> train(DataLoader data, long seed, boolean deterministic) {
        try (BoringModule module = new BoringModule()) {
            Trainer.builder()
                    .seed(seed)
                    .deterministic(deterministic)
                    .maxEpochs(2)
                    .defaultRootDir(root)
                    .enableProgressBar(false)
                    .enableModelSummary(false)
                    .enableCheckpointing(false)
                    .logger(false)
                    .build()
                    .fit(module, data);
            List<float[]> weights = new ArrayList<>();
            for (Parameter parameter : module.parameters()) {
                weights.add(parameter.getArray().toFloatArray());
            }
            return weights;
        }
    }
}
