package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;
import io.github.djllightning.checkpoint.CheckpointException;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.examples.guide.HyperparametersGuide.Hyperparameters;
import io.github.djllightning.examples.guide.HyperparametersGuide.LitModel;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HyperparametersGuideTest {

    @TempDir
    Path root;

    private NDManager manager;
    private Path checkpoint;
    private float[] trainedOutput;
    private NDArray probe;

    @BeforeEach
    void trainAndSave() {
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(3);
        NDArray x = manager.randomNormal(new Shape(64, 32));
        NDArray y = manager.randomNormal(new Shape(64, 10));
        DataLoader loader = DataLoader.of(new ArrayDataset.Builder().setData(x).optLabels(y).setSampling(16, false)
                .build()).batchSize(16).build();
        probe = x.get("0:2");
        try (LitModel model = new LitModel(new Hyperparameters(32, 10, 1e-3))) {
            Trainer trainer = Trainer.builder().defaultRootDir(root).maxEpochs(2).enableProgressBar(false)
                    .enableModelSummary(false).build();
            trainer.fit(model, loader);
            checkpoint = Path.of(trainer.checkpointCallback().bestModelPath());
            model.eval();
            trainedOutput = model.forward(probe).toFloatArray();
        }
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void theLoadedModelHasTheStoredHyperparametersAndWeights() {
        try (LitModel loaded = HyperparametersGuide.load(checkpoint)) {
            assertThat(loaded.hp()).isEqualTo(new Hyperparameters(32, 10, 1e-3));
            assertThat(loaded.isTraining()).isFalse();
            assertThat(loaded.forward(probe).toFloatArray()).containsExactly(trainedOutput);
        }
    }

    @Test
    void theHyperparametersCanBeReadWithoutBuildingTheModel() {
        Map<String, Object> stored = HyperparametersGuide.storedHyperparameters(checkpoint);
        assertThat(stored).containsOnlyKeys("inDim", "outDim", "learningRate");
        assertThat(((Number) stored.get("inDim")).intValue()).isEqualTo(32);
        assertThat(((Number) stored.get("learningRate")).doubleValue()).isEqualTo(1e-3);
    }

    @Test
    void anOverrideChangesTheModelButNotItsWeights() {
        try (LitModel slower = HyperparametersGuide.loadWithOverrides(checkpoint)) {
            assertThat(slower.hp()).isEqualTo(new Hyperparameters(32, 10, 1e-4));
            assertThat(slower.forward(probe).toFloatArray()).containsExactly(trainedOutput);
        }
        assertThatThrownBy(() -> LightningModule.loadFromCheckpoint(LitModel.class, checkpoint, Map.of("outDim", 5)))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("layer.weight")
                .hasMessageContaining("(5, 32)")
                .hasMessageContaining("(10, 32)");
    }
}
