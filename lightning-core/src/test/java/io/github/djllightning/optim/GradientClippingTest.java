package io.github.djllightning.optim;

import static io.github.djllightning.optim.OptimTestSupport.backward;
import static io.github.djllightning.optim.OptimTestSupport.grad;
import static io.github.djllightning.optim.OptimTestSupport.param;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GradientClippingTest {

    private NDManager manager;
    private Parameter matrix;
    private Parameter vector;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        matrix = param(manager, "matrix", new Shape(2, 2), 1, 1, 1, 1);
        vector = param(manager, "vector", new Shape(2), 1, 1);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** Sets the gradients to exactly {@code g1} and {@code g2} through a real backward pass of a linear loss. */
    private void setGradients(float[] g1, float[] g2) {
        backward(List.of(matrix, vector), w -> {
            NDArray c1 = w.get(0).getManager().create(g1, new Shape(2, 2));
            NDArray c2 = w.get(1).getManager().create(g2, new Shape(2));
            return w.get(0).mul(c1).sum().add(w.get(1).mul(c2).sum());
        });
    }

    private static void assertGrad(Parameter param, double... expected) {
        float[] actual = grad(param);
        assertThat(actual).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) actual[i]).as(param.getName() + "[" + i + "]")
                    .isCloseTo(expected[i], within(1e-6 * Math.max(1, Math.abs(expected[i]))));
        }
    }

    @Test
    void clipByNormScalesAllGradientsByTheJointNorm() {
        setGradients(new float[] {3, -4, 0, 12}, new float[] {-84, 0});
        // joint norm = sqrt(9 + 16 + 144 + 7056) = 85
        GradientClipping.clipByNorm(List.of(matrix, vector), 17);
        double coefficient = 17 / (85 + 1e-6);
        assertGrad(matrix, 3 * coefficient, -4 * coefficient, 0, 12 * coefficient);
        assertGrad(vector, -84 * coefficient, 0);
    }

    @Test
    void clipByNormLeavesSmallGradientsAlone() {
        setGradients(new float[] {0.3f, -0.4f, 0, 0}, new float[] {0, 0});
        GradientClipping.clipByNorm(List.of(matrix, vector), 1);
        assertThat(grad(matrix)).containsExactly(0.3f, -0.4f, 0, 0);
        assertThat(grad(vector)).containsExactly(0, 0);
    }

    @Test
    void clipByValueClampsBothSigns() {
        setGradients(new float[] {3, -4, 0.5f, -0.25f}, new float[] {-1, 1.5f});
        GradientClipping.clipByValue(List.of(matrix, vector), 1);
        assertThat(grad(matrix)).containsExactly(1, -1, 0.5f, -0.25f);
        assertThat(grad(vector)).containsExactly(-1, 1);
    }

    @Test
    void parametersWithoutGradientOrFrozenAreSkipped() {
        Parameter untouched = param(manager, "untouched", new Shape(2), 5, 5);
        setGradients(new float[] {30, 40, 0, 0}, new float[] {7, -7});
        vector.freeze(true);
        GradientClipping.clipByNorm(List.of(matrix, vector, untouched), 5);
        GradientClipping.clipByValue(List.of(matrix, vector, untouched), 2);
        // Only matrix counts: norm 50 -> scaled to 5 (3, 4), then clamped to 2.
        assertGrad(matrix, 2, 2, 0, 0);
        assertThat(grad(vector)).containsExactly(7, -7);
        // With no gradient at all there is nothing to do.
        GradientClipping.clipByNorm(List.of(untouched), 1);
        GradientClipping.clipByValue(List.of(untouched), 1);
    }

    @Test
    void clippingLeavesNoArraysBehind() {
        setGradients(new float[] {3, -4, 0, 12}, new float[] {-84, 0});
        int managed = manager.getManagedArrays().size();
        GradientClipping.clipByNorm(List.of(matrix, vector), 1);
        GradientClipping.clipByValue(List.of(matrix, vector), 0.01);
        assertThat(manager.getManagedArrays()).hasSize(managed);
    }

    @Test
    void badArgumentsAreRejected() {
        assertThatThrownBy(() -> GradientClipping.clipByNorm(List.of(matrix), -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("clipByNorm maxNorm must be a finite number >= 0, but was -1.0");
        assertThatThrownBy(() -> GradientClipping.clipByValue(List.of(matrix), Double.POSITIVE_INFINITY))
                .hasMessage("clipByValue clipValue must be a finite number >= 0, but was Infinity");
    }
}
