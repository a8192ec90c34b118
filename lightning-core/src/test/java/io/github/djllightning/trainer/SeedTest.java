package io.github.djllightning.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.testing.BoringModule;
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
