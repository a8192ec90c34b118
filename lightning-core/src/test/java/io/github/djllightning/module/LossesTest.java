package io.github.djllightning.module;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.github.djllightning.util.EngineLibraries;
import io.github.djllightning.util.EngineSetup;
import java.util.function.BinaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LossesTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        EngineSetup.engine().setRandomSeed(11);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** The loss and the gradient it sends back to the prediction. */
    private record LossAndGrad(double loss, float[] grad) {}

    private LossAndGrad lossAndGrad(NDArray prediction, NDArray target, BinaryOperator<NDArray> loss) {
        NDArray leaf = prediction.duplicate();
        leaf.setRequiresGradient(true);
        double value;
        try (NDManager step = manager.newSubManager();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray scaled = leaf.mul(1f);
            scaled.attach(step);
            NDArray result = loss.apply(scaled, target);
            assertThat(result.getShape()).isEqualTo(new Shape());
            value = result.toType(DataType.FLOAT64, false).getDouble();
            collector.backward(result);
        }
        return new LossAndGrad(value, leaf.getGradient().toType(DataType.FLOAT32, false).toFloatArray());
    }

    private static NDArray reference(NDArray prediction, NDArray target) {
        return prediction.sub(target).square().mean();
    }

    @Test
    void onLinuxX86TheEnginesKernelIsUsed() {
        assumeTrue(System.getProperty("os.name").startsWith("Linux") && EngineLibraries.isX86(), "Linux x86-64");
        assertThat(Losses.usesEngineKernels()).isTrue();
    }

    @Test
    void mseMatchesTheMeanOfSquaredDifferencesAndItsGradient() {
        NDArray prediction = manager.randomNormal(new Shape(256, 784));
        NDArray target = manager.randomUniform(0, 1, new Shape(256, 784));
        LossAndGrad fused = lossAndGrad(prediction, target, Losses::mse);
        LossAndGrad plain = lossAndGrad(prediction, target, LossesTest::reference);
        assertThat(fused.loss()).isCloseTo(plain.loss(), within(1e-6 * plain.loss()));
        assertThat(fused.grad()).hasSize(256 * 784);
        for (int i = 0; i < fused.grad().length; i += 997) {
            assertThat(fused.grad()[i]).isCloseTo(plain.grad()[i], within(1e-9f));
        }
        // d/dp mean((p - t)^2) = 2 (p - t) / n
        float expected0 = 2 * (prediction.getFloat(0, 0) - target.getFloat(0, 0)) / (256 * 784);
        assertThat(fused.grad()[0]).isCloseTo(expected0, within(1e-9f));
    }

    @Test
    void doublePrecisionAndTheTargetsGradientToo() {
        NDArray prediction = manager.randomNormal(new Shape(3, 5)).toType(DataType.FLOAT64, false);
        NDArray target = manager.randomNormal(new Shape(3, 5)).toType(DataType.FLOAT64, false);
        // the gradient reaches the target when it is the one recorded: d/dt = -2 (p - t) / n
        LossAndGrad towardsTarget = lossAndGrad(target, prediction, (t, p) -> Losses.mse(p, t));
        LossAndGrad plain = lossAndGrad(target, prediction, (t, p) -> reference(p, t));
        assertThat(towardsTarget.loss()).isCloseTo(plain.loss(), within(1e-12));
        assertThat(towardsTarget.grad()).containsExactly(plain.grad());
    }

    @Test
    void otherShapesAreBroadcastAsDjlDoes() {
        NDArray prediction = manager.create(new float[] {1f, 2f, 3f, 4f}, new Shape(2, 2));
        NDArray target = manager.create(new float[] {1f, 0f}, new Shape(2));
        // rows minus (1, 0): (0, 2), (2, 4) -> (0 + 4 + 4 + 16) / 4
        assertThat(Losses.mse(prediction, target).getFloat()).isEqualTo(6f);
    }

    @Test
    void theResultBelongsToThePredictionsManagerAndItsScope() {
        NDArray target = manager.ones(new Shape(4, 3));
        NDArray kept;
        try (NDManager step = manager.newSubManager()) {
            NDArray prediction = step.zeros(new Shape(4, 3));
            NDArray loss = Losses.mse(prediction, target);
            assertThat(loss.getManager()).isSameAs(step);
            assertThat(loss.getFloat()).isEqualTo(1f);
            kept = loss;
        }
        assertThat(kept.isReleased()).isTrue();
        NDArray scoped;
        try (NDScope scope = new NDScope()) {
            scoped = Losses.mse(manager.zeros(new Shape(2)), manager.ones(new Shape(2)));
        }
        assertThat(scoped.isReleased()).isTrue();
        for (int i = 0; i < 2000; i++) { // many results created and freed: no double free, no leak that crashes
            try (NDManager step = manager.newSubManager()) {
                assertThat(Losses.mse(step.ones(new Shape(3)), target.get("0")).getFloat()).isZero();
            }
        }
    }
}
