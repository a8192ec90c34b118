package io.github.djllightning.optim;

import static io.github.djllightning.optim.OptimTestSupport.assertClose;
import static io.github.djllightning.optim.OptimTestSupport.grad;
import static io.github.djllightning.optim.OptimTestSupport.param;
import static io.github.djllightning.optim.OptimTestSupport.quadraticBackward;
import static io.github.djllightning.optim.OptimTestSupport.toDoubles;
import static io.github.djllightning.optim.OptimTestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdamTest {

    private static final float[] A = {0.5f, 1.5f, 0.25f, 2f, 1f, 0.75f};
    private static final float[] B = {-1f, 0.5f, 2f, -0.25f, 0.1f, -3f};
    private static final float[] W0 = {0.3f, -1.2f, 2.5f, 0.8f, -0.4f, 1.1f};
    private static final Shape SHAPE = new Shape(3, 2);

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** torch.optim.Adam / AdamW, single-tensor path, in plain double arithmetic. */
    static final class Reference {
        final double lr;
        final double beta1;
        final double beta2;
        final double eps;
        final double weightDecay;
        final boolean amsgrad;
        final boolean maximize;
        final boolean decoupled;
        final double[] w;
        final double[] m;
        final double[] v;
        final double[] vMax;
        int step;

        Reference(double[] w, double lr, double beta1, double beta2, double eps, double weightDecay,
                boolean amsgrad, boolean maximize, boolean decoupled) {
            this.w = w.clone();
            this.lr = lr;
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.eps = eps;
            this.weightDecay = weightDecay;
            this.amsgrad = amsgrad;
            this.maximize = maximize;
            this.decoupled = decoupled;
            m = new double[w.length];
            v = new double[w.length];
            vMax = new double[w.length];
        }

        void step(float[] grad) {
            step++;
            double bc1 = 1 - Math.pow(beta1, step);
            double bc2 = 1 - Math.pow(beta2, step);
            for (int i = 0; i < w.length; i++) {
                double g = maximize ? -grad[i] : grad[i];
                if (decoupled) {
                    w[i] *= 1 - lr * weightDecay;
                } else {
                    g += weightDecay * w[i];
                }
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                vMax[i] = Math.max(vMax[i], v[i]);
                double second = amsgrad ? vMax[i] : v[i];
                w[i] -= lr / bc1 * m[i] / (Math.sqrt(second) / Math.sqrt(bc2) + eps);
            }
        }
    }

    private void trainAndCompare(Optimizer optimizer, Parameter param, Reference reference, int steps) {
        for (int step = 0; step < steps; step++) {
            optimizer.zeroGrad();
            quadraticBackward(param, A, B);
            reference.step(grad(param));
            optimizer.step();
            assertClose(values(param), reference.w, optimizer.name() + " step " + (step + 1));
        }
    }

    @Test
    void adamMatchesTorchFormulaWithDefaults() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Adam adam = new Adam(List.of(w), 0.05)) {
            trainAndCompare(adam, w, new Reference(toDoubles(W0), 0.05, 0.9, 0.999, 1e-8, 0, false, false, false), 20);
            assertThat(adam.state(w).step()).isEqualTo(20);
            assertThat(adam.state(w).tensors()).containsOnlyKeys("exp_avg", "exp_avg_sq");
        }
    }

    @Test
    void adamWithL2WeightDecayAndLargeEps() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Adam adam = Adam.builder().lr(0.02).betas(0.8, 0.99).eps(1e-3).weightDecay(0.1).build(List.of(w))) {
            trainAndCompare(adam, w, new Reference(toDoubles(W0), 0.02, 0.8, 0.99, 1e-3, 0.1, false, false, false), 20);
        }
    }

    @Test
    void adamAmsgradKeepsTheRunningMaximum() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Adam adam = Adam.builder().lr(0.1).weightDecay(0.05).amsgrad(true).build(List.of(w))) {
            trainAndCompare(adam, w, new Reference(toDoubles(W0), 0.1, 0.9, 0.999, 1e-8, 0.05, true, false, false), 20);
            assertThat(adam.state(w).tensors()).containsOnlyKeys("exp_avg", "exp_avg_sq", "max_exp_avg_sq");
        }
    }

    @Test
    void betasThatRoundToOneInFloatStillFollowTorch() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Adam adam = Adam.builder().lr(0.01).betas(0.9, 0.99999999).build(List.of(w))) {
            trainAndCompare(adam, w, new Reference(toDoubles(W0), 0.01, 0.9, 0.99999999, 1e-8, 0, false, false, false),
                    20);
        }
    }

    @Test
    void adamMaximize() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Adam adam = Adam.builder().lr(0.01).weightDecay(0.2).maximize(true).build(List.of(w))) {
            trainAndCompare(adam, w, new Reference(toDoubles(W0), 0.01, 0.9, 0.999, 1e-8, 0.2, false, true, false), 20);
        }
    }

    @Test
    void adamWUsesDecoupledDecayWithTorchDefault() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (AdamW adamW = new AdamW(List.of(w), 0.05)) {
            assertThat(adamW.paramGroups().get(0).getDouble("weight_decay")).isEqualTo(0.01);
            trainAndCompare(adamW, w, new Reference(toDoubles(W0), 0.05, 0.9, 0.999, 1e-8, 0.01, false, false, true),
                    20);
        }
    }

    @Test
    void adamWWithStrongDecayAndAmsgrad() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (AdamW adamW = AdamW.builder().lr(0.03).weightDecay(0.5).amsgrad(true).maximize(true).build(List.of(w))) {
            trainAndCompare(adamW, w, new Reference(toDoubles(W0), 0.03, 0.9, 0.999, 1e-8, 0.5, true, true, true), 20);
        }
    }

    @Test
    void paramGroupsKeepTheirOwnOptions() {
        Parameter slow = param(manager, "slow", SHAPE, W0);
        Parameter fast = param(manager, "fast", SHAPE, W0);
        List<ParamGroup> groups = List.of(new ParamGroup(List.of(slow)),
                new ParamGroup(List.of(fast), Map.of("lr", 0.1, "weight_decay", 0.3)));
        try (Adam adam = Adam.builder().lr(0.01).build(groups)) {
            Reference slowRef = new Reference(toDoubles(W0), 0.01, 0.9, 0.999, 1e-8, 0, false, false, false);
            Reference fastRef = new Reference(toDoubles(W0), 0.1, 0.9, 0.999, 1e-8, 0.3, false, false, false);
            for (int step = 0; step < 10; step++) {
                adam.zeroGrad();
                OptimTestSupport.backward(List.of(slow, fast), w -> w.get(0).square().sum().add(w.get(1).sum()));
                slowRef.step(grad(slow));
                fastRef.step(grad(fast));
                adam.step();
                assertClose(values(slow), slowRef.w, "slow");
                assertClose(values(fast), fastRef.w, "fast");
            }
            assertThat(adam.parameters()).containsExactly(slow, fast);
            assertThat(adam.lr()).isEqualTo(0.01);
            adam.setLr(0.5);
            assertThat(adam.paramGroups()).allSatisfy(group -> assertThat(group.lr()).isEqualTo(0.5));
        }
    }

    @Test
    void namesFollowTorchClasses() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Adam adam = Optimizers.adam(List.of(w), 1e-3); AdamW adamW = Optimizers.adamW(List.of(w), 1e-3);
                Sgd sgd = Optimizers.sgd(List.of(w), 1e-3)) {
            assertThat(adam.name()).isEqualTo("Adam");
            assertThat(adamW.name()).isEqualTo("AdamW");
            assertThat(sgd.name()).isEqualTo("SGD");
        }
    }

    @Test
    void onLinuxTheEngineFusedKernelUpdatesAWholeGroupInOneCall() {
        assumeTrue(System.getProperty("os.name").startsWith("Linux")
                && List.of("amd64", "x86_64").contains(System.getProperty("os.arch")), "Linux x86-64 only");
        Parameter w = param(manager, "w", SHAPE, W0);
        quadraticBackward(w, A, B);
        try (Adam adam = new Adam(List.of(w), 1e-3);
                NDArray grad = JniUtils.getGradient((PtNDArray) w.getArray())) {
            ParamState state = new ParamState(adam);
            assertThat(AdamMath.updateGroup(adam.paramGroups().get(0), List.of(state), List.of(w.getArray()),
                    List.of(grad), false)).isTrue();
            assertThat(state.step()).isEqualTo(1);
            assertThat(state.tensors()).containsOnlyKeys("exp_avg", "exp_avg_sq");
        }
    }

    @Test
    void aGroupOfDifferentlyShapedParametersFollowsTorch() {
        float[] column = {0.2f, -0.7f, 1.3f};
        Parameter matrix = param(manager, "matrix", SHAPE, W0);
        Parameter vector = param(manager, "vector", new Shape(3), column);
        Parameter scalar = param(manager, "scalar", new Shape(1), 0.9f);
        try (Adam adam = Adam.builder().lr(0.03).weightDecay(0.01).build(List.of(matrix, vector, scalar))) {
            Reference matrixRef = new Reference(toDoubles(W0), 0.03, 0.9, 0.999, 1e-8, 0.01, false, false, false);
            Reference vectorRef = new Reference(toDoubles(column), 0.03, 0.9, 0.999, 1e-8, 0.01, false, false, false);
            Reference scalarRef = new Reference(new double[] {0.9f}, 0.03, 0.9, 0.999, 1e-8, 0.01, false, false,
                    false);
            for (int step = 0; step < 15; step++) {
                adam.zeroGrad();
                OptimTestSupport.backward(List.of(matrix, vector, scalar),
                        w -> w.get(0).square().sum().add(w.get(1).pow(3).sum()).add(w.get(2).mul(-2f).sum()));
                matrixRef.step(grad(matrix));
                vectorRef.step(grad(vector));
                scalarRef.step(grad(scalar));
                adam.step();
                assertClose(values(matrix), matrixRef.w, "matrix step " + (step + 1));
                assertClose(values(vector), vectorRef.w, "vector step " + (step + 1));
                assertClose(values(scalar), scalarRef.w, "scalar step " + (step + 1));
            }
        }
    }

    @Test
    void aParameterUnfrozenLaterKeepsItsOwnStepCount() {
        // frozen for the first steps (as BackboneFinetuning does), so its bias correction lags behind the others'
        Parameter head = param(manager, "head", SHAPE, W0);
        Parameter backbone = param(manager, "backbone", SHAPE, W0);
        try (Adam adam = new Adam(List.of(head, backbone), 0.01)) {
            Reference headRef = new Reference(toDoubles(W0), 0.01, 0.9, 0.999, 1e-8, 0, false, false, false);
            Reference backboneRef = new Reference(toDoubles(W0), 0.01, 0.9, 0.999, 1e-8, 0, false, false, false);
            backbone.freeze(true);
            for (int step = 0; step < 8; step++) {
                if (step == 3) {
                    backbone.freeze(false);
                }
                adam.zeroGrad();
                OptimTestSupport.backward(List.of(head, backbone), w -> {
                    NDArray a = w.get(0).getManager().create(A, SHAPE);
                    NDArray b = w.get(0).getManager().create(B, SHAPE);
                    return w.get(0).square().mul(a).add(w.get(0).mul(b)).sum()
                            .add(w.get(1).square().mul(b.abs()).add(w.get(1).mul(a)).sum());
                });
                headRef.step(grad(head));
                if (step >= 3) {
                    backboneRef.step(grad(backbone));
                }
                adam.step();
                assertClose(values(head), headRef.w, "head step " + (step + 1));
                assertClose(values(backbone), backboneRef.w, "backbone step " + (step + 1));
            }
            assertThat(adam.state(head).step()).isEqualTo(8);
            assertThat(adam.state(backbone).step()).isEqualTo(5);
        }
    }

    @Test
    void aNonContiguousParameterIsUpdatedOneTensorAtATime() {
        // a transposed view reads its elements out of storage order: the fused kernel cannot take it
        Parameter w = Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).optShape(new Shape(2, 3))
                .build();
        w.setInitializer((m, s, type) -> m.create(W0, new Shape(3, 2)).transpose());
        w.initialize(manager, DataType.FLOAT32);
        float[] start = values(w);
        quadraticBackward(w, A, B);
        try (Adam probe = new Adam(List.of(w), 1e-3);
                NDArray grad = JniUtils.getGradient((PtNDArray) w.getArray())) {
            assertThat(AdamMath.updateGroup(probe.paramGroups().get(0), List.of(new ParamState(probe)),
                    List.of(w.getArray()), List.of(grad), false)).isFalse();
        }
        try (Adam adam = new Adam(List.of(w), 0.05)) {
            trainAndCompare(adam, w, new Reference(toDoubles(start), 0.05, 0.9, 0.999, 1e-8, 0, false, false, false),
                    10);
        }
    }

    @Test
    void badArgumentsAreRejectedWithTheValueAndTheRange() {
        Parameter w = param(manager, "w", SHAPE, W0);
        assertThatThrownBy(() -> Adam.builder().lr(-0.1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Adam lr must be a finite number >= 0, but was -0.1");
        assertThatThrownBy(() -> Adam.builder().betas(1.0, 0.999))
                .hasMessage("Adam betas[0] must be in [0, 1), but was 1.0");
        assertThatThrownBy(() -> AdamW.builder().betas(0.9, -0.5))
                .hasMessage("AdamW betas[1] must be in [0, 1), but was -0.5");
        assertThatThrownBy(() -> Adam.builder().eps(-1e-8))
                .hasMessage("Adam eps must be a finite number >= 0, but was -1.0E-8");
        assertThatThrownBy(() -> Adam.builder().weightDecay(Double.NaN))
                .hasMessage("Adam weight_decay must be a finite number >= 0, but was NaN");
        assertThatThrownBy(() -> new Adam(List.of(w), -1))
                .hasMessage("Adam lr must be a finite number >= 0, but was -1.0");
        assertThatThrownBy(() -> Adam.builder().build(List.of(new ParamGroup(List.of(w), Map.of("lr", -2.0)))))
                .hasMessage("ParamGroup lr must be a finite number >= 0, but was -2.0");
        assertThatThrownBy(() -> Adam.builder().build(List.of(new ParamGroup(List.of(w), Map.of("betas", 0.9)))))
                .hasMessageContaining("'betas' must be two numbers (beta1, beta2), but was 0.9");
        assertThatThrownBy(() -> new Adam(List.of(), 1e-3))
                .hasMessageStartingWith("Adam got no parameters");
    }
}
