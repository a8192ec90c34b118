package io.github.djllightning.optim;

import static io.github.djllightning.optim.OptimTestSupport.grad;
import static io.github.djllightning.optim.OptimTestSupport.backward;
import static io.github.djllightning.optim.OptimTestSupport.param;
import static io.github.djllightning.optim.OptimTestSupport.quadraticBackward;
import static io.github.djllightning.optim.OptimTestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OptimizerLifecycleTest {

    private static final float[] A = {0.5f, 1.5f, 0.25f, 2f};
    private static final float[] B = {-1f, 0.5f, 2f, -0.25f};
    private static final Shape SHAPE = new Shape(4);

    private NDManager manager;
    private Parameter first;
    private Parameter second;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        first = param(manager, "first", SHAPE, 0.3f, -1.2f, 2.5f, 0.8f);
        second = param(manager, "second", SHAPE, 1f, 2f, 3f, 4f);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static List<Function<List<Parameter>, Optimizer>> allKinds() {
        return List.of(
                params -> Adam.builder().lr(0.1).build(params),
                params -> AdamW.builder().lr(0.1).amsgrad(true).build(params),
                params -> Sgd.builder().lr(0.1).momentum(0.9).nesterov(true).weightDecay(0.01).build(params),
                params -> Sgd.builder().lr(0.1).build(params));
    }

    private static Map<String, float[]> snapshot(Optimizer optimizer) {
        Map<String, float[]> copy = new HashMap<>();
        optimizer.stateDict().tensors().forEach((name, tensor) -> copy.put(name, tensor.toFloatArray()));
        return copy;
    }

    @Test
    void parameterWithoutGradientIsUntouched() {
        for (Function<List<Parameter>, Optimizer> kind : allKinds()) {
            Parameter unused = param(manager, "unused", SHAPE, 5f, 6f, 7f, 8f);
            try (Optimizer optimizer = kind.apply(List.of(first, unused))) {
                for (int i = 0; i < 3; i++) {
                    optimizer.zeroGrad();
                    quadraticBackward(first, A, B);
                    optimizer.step();
                }
                assertThat(values(unused)).containsExactly(5f, 6f, 7f, 8f);
                assertThat(optimizer.state(unused)).isNull();
                assertThat(values(first)).doesNotContain(0.3f, -1.2f, 2.5f, 0.8f);
            }
        }
    }

    @Test
    void zeroGradLeavesZeroGradientsAndAFreshBackwardStepsAgain() {
        for (Function<List<Parameter>, Optimizer> kind : allKinds()) {
            try (Optimizer optimizer = kind.apply(List.of(first))) {
                quadraticBackward(first, A, B);
                optimizer.step();
                optimizer.zeroGrad();
                assertThat(grad(first)).as(optimizer.name()).containsOnly(0f);

                float[] weights = values(first);
                quadraticBackward(first, A, B);
                optimizer.step();
                assertThat(values(first)).as("a backward pass after zeroGrad steps again").isNotEqualTo(weights);
            }
        }
    }

    @Test
    void frozenParameterIsUntouched() {
        try (Adam adam = new Adam(List.of(first, second), 0.1)) {
            adam.zeroGrad();
            backward(List.of(first, second), w -> w.get(0).square().sum().add(w.get(1).square().sum()));
            second.freeze(true);
            adam.step();
            assertThat(values(second)).containsExactly(1f, 2f, 3f, 4f);
            assertThat(adam.state(second)).isNull();
            assertThat(adam.state(first).step()).isEqualTo(1);
        }
    }

    @Test
    void stateSurvivesAnNdScopeAroundTheStepAndNothingLeaks() {
        for (Function<List<Parameter>, Optimizer> kind : allKinds()) {
            try (Optimizer optimizer = kind.apply(List.of(first))) {
                for (int i = 0; i < 3; i++) {
                    optimizer.zeroGrad();
                    quadraticBackward(first, A, B);
                    try (NDScope scope = new NDScope()) {
                        optimizer.step();
                    }
                }
                int managed = manager.getManagedArrays().size();
                for (int i = 0; i < 10; i++) {
                    optimizer.zeroGrad();
                    quadraticBackward(first, A, B);
                    optimizer.step();
                }
                assertThat(manager.getManagedArrays()).as(optimizer.name()).hasSize(managed);
                assertThat(optimizer.stateDict().tensors().values()).noneMatch(NDArray::isReleased);
            }
        }
    }

    @Test
    void stepRunsWithAutogradOffAndRestoresIt() {
        try (Adam adam = new Adam(List.of(first), 0.1)) {
            quadraticBackward(first, A, B);
            JniUtils.setGradMode(true);
            try {
                adam.step();
                assertThat(JniUtils.isGradMode()).isTrue();
            } finally {
                JniUtils.setGradMode(false);
            }
            assertThat(first.getArray().hasGradient()).isTrue();
        }
    }

    @Test
    void closeFreesTheStateAndEndsTheOptimizer() {
        Adam adam = new Adam(List.of(first), 0.1);
        quadraticBackward(first, A, B);
        adam.step();
        List<NDArray> state = List.copyOf(adam.stateDict().tensors().values());
        adam.close();
        adam.close();
        assertThat(state).isNotEmpty().allMatch(NDArray::isReleased);
        assertThatThrownBy(adam::step).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("Adam optimizer is closed").hasMessageContaining("configureOptimizers()");
    }

    @Test
    void paramGroupsCanBeAddedLaterWithDefaults() {
        try (Sgd sgd = Sgd.builder().lr(0.1).momentum(0.5).build(List.of(first))) {
            sgd.addParamGroup(new ParamGroup(List.of(second), Map.of("lr", 0.01)));
            ParamGroup added = sgd.paramGroups().get(1);
            assertThat(added.lr()).isEqualTo(0.01);
            assertThat(added.getDouble("momentum")).isEqualTo(0.5);
            assertThat(sgd.parameters()).containsExactly(first, second);
            assertThatThrownBy(() -> sgd.addParamGroup(new ParamGroup(List.of(first))))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("parameter 'first' is already in a param group of this SGD; each parameter may "
                            + "appear in one group only");
            assertThatThrownBy(() -> sgd.addParamGroup(new ParamGroup(List.of(param(manager, "x", SHAPE,
                    1, 2, 3, 4)), Map.of("nesterov", true, "momentum", 0.0))))
                    .hasMessageStartingWith("SGD nesterov requires momentum > 0");
            assertThat(sgd.paramGroups()).hasSize(2);
        }
    }

    @Test
    void paramGroupChecksItsOptions() {
        ParamGroup group = new ParamGroup(List.of(first), Map.of("betas", List.of(0.8, 0.9), "name", "head"));
        assertThat(group.getDouble("betas", 1)).isEqualTo(0.9);
        assertThat(group.options()).containsEntry("name", "head");
        group.set("betas", new double[] {0.5, 0.6}).setLr(0.2);
        assertThat(group.options()).containsEntry("betas", List.of(0.5, 0.6)).containsEntry("lr", 0.2);
        assertThatThrownBy(() -> group.getDouble("eps"))
                .hasMessageStartingWith("param group has no option 'eps'; its options are [")
                .hasMessageContaining("betas").hasMessageContaining("lr");
        assertThatThrownBy(() -> group.set("params", List.of()))
                .hasMessageContaining("option 'params' cannot be set");
        assertThatThrownBy(() -> group.setLr(-1))
                .hasMessage("ParamGroup lr must be a finite number >= 0, but was -1.0");
        assertThatThrownBy(() -> new ParamGroup(List.of(first, first)))
                .hasMessage("ParamGroup params contain parameter 'first' twice; list it once");
    }

    /** A minimal optimizer written against the protected API, as a user would: w -= lr * sign(g). */
    static final class SignSgd extends Optimizer {
        SignSgd(List<Parameter> params, double lr) {
            super(params, Map.of("lr", lr));
        }

        @Override
        protected void update(ParamGroup group, ParamState state, NDArray weight, NDArray grad) {
            try (NDArray sign = grad.sign()) {
                sign.muli((float) group.lr());
                weight.subi(sign);
            }
            state.incrementStep();
        }
    }

    @Test
    void subclassesOnlyImplementTheUpdate() {
        try (SignSgd optimizer = new SignSgd(List.of(first), 0.5)) {
            OptimTestSupport.linearBackward(first, 3f, -2f, 0f, 1f);
            optimizer.step();
            assertThat(values(first)).containsExactly(0.3f - 0.5f, -1.2f + 0.5f, 2.5f, 0.8f - 0.5f);
            assertThat(optimizer.name()).isEqualTo("SignSgd");
            assertThat(optimizer.stateDict().values().get("state")).isEqualTo(Map.of("0", Map.of("step", 1L)));
        }
    }
}
