package io.github.djllightning.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.github.djllightning.testing.EngineTest;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WeightsTest extends EngineTest {

    private static SequentialBlock mlp(NDManager scope) {
        SequentialBlock block = new SequentialBlock()
                .add(Linear.builder().setUnits(4).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(2).build());
        block.initialize(scope, DataType.FLOAT32, new Shape(1, 3));
        return block;
    }

    @Test
    void loadCopiesIntoTheSameArraysAndGradientsStillFlow() {
        try (NDManager scope = manager.newSubManager()) {
            SequentialBlock source = mlp(scope);
            SequentialBlock target = mlp(scope);
            Map<String, NDArray> before = Weights.stateDict(target);
            assertThat(before).containsOnlyKeys("0.weight", "0.bias", "2.weight", "2.bias");
            NDArray weightObject = before.get("0.weight");
            weightObject.setRequiresGradient(true);

            Weights.load(target, Weights.stateDict(source), null, "test");

            Map<String, NDArray> after = Weights.stateDict(target);
            assertThat(after.get("0.weight")).isSameAs(weightObject);
            for (String name : after.keySet()) {
                assertThat(after.get(name).toFloatArray()).as(name)
                        .containsExactly(Weights.stateDict(source).get(name).toFloatArray());
            }
            // x and -x: each hidden ReLU is active for one of them, so the first layer gets a gradient whatever
            // the random initialization (with ones alone, all four units are dead for about one init in 16)
            NDArray x = scope.create(new float[] {1, 1, 1, -1, -1, -1}, new Shape(2, 3));
            try (GradientCollector collector = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                NDArray y = target.forward(new ParameterStore(scope, false), new ai.djl.ndarray.NDList(x), true)
                        .singletonOrThrow();
                collector.backward(y.sum());
            }
            assertThat(weightObject.getGradient().abs().sum().getFloat()).isGreaterThan(0f);
        }
    }

    @Test
    void mismatchesAreReportedWithNamesAndShapesAndNothingChanges() {
        try (NDManager scope = manager.newSubManager()) {
            SequentialBlock target = mlp(scope);
            float[] original = Weights.stateDict(target).get("0.weight").toFloatArray();
            Map<String, NDArray> wrong = new LinkedHashMap<>(Weights.stateDict(mlp(scope)));
            wrong.remove("2.bias");
            wrong.put("3.weight", scope.zeros(new Shape(1)));
            assertThatThrownBy(() -> Weights.load(target, wrong, null, "state_dict.safetensors"))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("missing keys: [2.bias]")
                    .hasMessageContaining("unexpected keys: [3.weight]");
            Map<String, NDArray> shapes = new LinkedHashMap<>(Weights.stateDict(mlp(scope)));
            shapes.put("2.weight", scope.zeros(new Shape(2, 5)));
            assertThatThrownBy(() -> Weights.load(target, shapes, null, "state_dict.safetensors"))
                    .hasMessageContaining("state_dict.safetensors: 2.weight")
                    .hasMessageContaining("the module has (2, 4), the file has (2, 5)");
            Map<String, NDArray> types = new LinkedHashMap<>(Weights.stateDict(mlp(scope)));
            types.put("0.bias", scope.zeros(new Shape(4), DataType.FLOAT64));
            assertThatThrownBy(() -> Weights.load(target, types, null, "w")).hasMessageContaining("the file has float64");
            assertThat(Weights.stateDict(target).get("0.weight").toFloatArray()).containsExactly(original);
        }
    }

    @Test
    void uninitializedBlockIsRefusedWithHowToInitialize() {
        SequentialBlock block = new SequentialBlock().add(Linear.builder().setUnits(2).build());
        assertThatThrownBy(() -> Weights.load(block, Map.of(), null, "w"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("not initialized")
                .hasMessageContaining("block.initialize");
    }
}
