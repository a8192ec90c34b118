package io.github.djllightning.module;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.github.djllightning.testing.EngineTest;
import org.junit.jupiter.api.Test;

class TorchInitTest extends EngineTest {

    @Test
    void weightsAndBiasAreUniformWithinPyTorchsBound() {
        try (NDManager scope = manager.newSubManager()) {
            Linear linear = TorchInit.linear(64, 784);
            linear.initialize(scope, DataType.FLOAT32, new Shape(1, 784));
            float bound = (float) (1 / Math.sqrt(784));
            float[] weight = linear.getParameters().get("weight").getArray().toFloatArray();
            float[] bias = linear.getParameters().get("bias").getArray().toFloatArray();
            assertThat(weight).hasSize(64 * 784);
            double sumSquares = 0;
            for (float w : weight) {
                assertThat(Math.abs(w)).isLessThanOrEqualTo(bound);
                sumSquares += w * w;
            }
            // a uniform distribution on [-b, b] has standard deviation b / sqrt(3); Xavier's would be about 3x wider
            double std = Math.sqrt(sumSquares / weight.length);
            assertThat(std).isCloseTo(bound / Math.sqrt(3), org.assertj.core.data.Offset.offset(0.02 * bound));
            // PyTorch's bias is not zero, but uniform in the same bound
            boolean anyNonZero = false;
            for (float b : bias) {
                assertThat(Math.abs(b)).isLessThanOrEqualTo(bound);
                anyNonZero |= b != 0f;
            }
            assertThat(anyNonZero).isTrue();
        }
    }

    @Test
    void sizesMustBePositive() {
        assertThatThrownBy(() -> TorchInit.linear(0, 3)).hasMessageContaining("positive");
    }
}
