package io.github.djllightning.optim;

import static io.github.djllightning.optim.OptimTestSupport.asIfReadBack;
import static io.github.djllightning.optim.OptimTestSupport.backward;
import static io.github.djllightning.optim.OptimTestSupport.copyOf;
import static io.github.djllightning.optim.OptimTestSupport.param;
import static io.github.djllightning.optim.OptimTestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.github.djllightning.checkpoint.StateDict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OptimizerStateDictTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private List<Parameter> model() {
        return List.of(
                param(manager, "weight", new Shape(3, 2), 0.3f, -1.2f, 2.5f, 0.8f, -0.4f, 1.1f),
                param(manager, "bias", new Shape(2), 0.1f, -0.2f));
    }

    private static List<Parameter> copies(NDManager manager, List<Parameter> params) {
        List<Parameter> copies = new ArrayList<>();
        for (Parameter param : params) {
            copies.add(copyOf(manager, param));
        }
        return copies;
    }

    /** A small nonlinear loss whose gradient depends on the weights, so trajectories diverge on any difference. */
    private static void train(Optimizer optimizer, List<Parameter> params, int steps) {
        for (int i = 0; i < steps; i++) {
            optimizer.zeroGrad();
            backward(params, w -> w.get(0).sin().sum(new int[] {0}).add(w.get(1)).square().sum()
                    .add(w.get(0).square().mul(0.1f).sum()));
            optimizer.step();
        }
    }

    private static List<Function<List<ParamGroup>, Optimizer>> allKinds() {
        return List.of(
                groups -> Adam.builder().lr(0.05).weightDecay(0.01).build(groups),
                groups -> AdamW.builder().lr(0.05).amsgrad(true).build(groups),
                groups -> Sgd.builder().lr(0.05).momentum(0.9).nesterov(true).weightDecay(0.01).build(groups),
                groups -> Sgd.builder().lr(0.05).momentum(0.5).dampening(0.2).build(groups));
    }

    private static List<ParamGroup> twoGroups(List<Parameter> params) {
        return List.of(new ParamGroup(List.of(params.get(0))),
                new ParamGroup(List.of(params.get(1)), Map.of("lr", 0.02)));
    }

    @Test
    void resumedTrainingIsBitIdentical() {
        for (Function<List<ParamGroup>, Optimizer> kind : allKinds()) {
            List<Parameter> original = model();
            try (Optimizer uninterrupted = kind.apply(twoGroups(original))) {
                train(uninterrupted, original, 10);

                List<Parameter> resumedParams = copies(manager, original);
                try (Optimizer resumed = kind.apply(twoGroups(resumedParams))) {
                    // A fresh run sets its own lr; the checkpoint's must win, like torch's load_state_dict.
                    resumed.paramGroups().get(1).setLr(0.5);
                    NDManager checkpoint = NDManager.newBaseManager();
                    resumed.loadStateDict(asIfReadBack(uninterrupted.stateDict(), checkpoint));
                    // The loaded arrays go away with the checkpoint; the optimizer must have copied them.
                    checkpoint.close();
                    assertThat(resumed.paramGroups().get(1).lr()).isEqualTo(0.02);

                    train(uninterrupted, original, 10);
                    train(resumed, resumedParams, 10);
                    for (int i = 0; i < original.size(); i++) {
                        assertThat(values(resumedParams.get(i))).as(resumed.name() + " " + i)
                                .containsExactly(values(original.get(i)));
                    }
                }
            }
        }
    }

    @Test
    void layoutFollowsTorch() {
        List<Parameter> params = model();
        try (Adam adam = Adam.builder().lr(0.05).amsgrad(true).build(twoGroups(params))) {
            train(adam, params, 3);
            StateDict state = adam.stateDict();
            assertThat(state.values()).containsOnlyKeys("state", "param_groups");
            assertThat(state.values().get("state")).isEqualTo(Map.of("0", Map.of("step", 3L), "1", Map.of("step", 3L)));
            List<?> groups = (List<?>) state.values().get("param_groups");
            assertThat(groups).hasSize(2);
            Map<?, ?> second = (Map<?, ?>) groups.get(1);
            assertThat(second.keySet().stream().map(String::valueOf))
                    .containsExactly("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "params");
            assertThat(second.get("lr")).isEqualTo(0.02);
            assertThat(second.get("betas")).isEqualTo(List.of(0.9, 0.999));
            assertThat(second.get("params")).isEqualTo(List.of(1));
            assertThat(((Map<?, ?>) groups.get(0)).get("params")).isEqualTo(List.of(0));
            assertThat(state.tensors()).containsOnlyKeys("state.0.exp_avg", "state.0.exp_avg_sq",
                    "state.0.max_exp_avg_sq", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq");
            assertThat(state.tensors().get("state.0.exp_avg").getShape()).isEqualTo(new Shape(3, 2));
            assertThat(state.tensors().get("state.1.exp_avg").getShape()).isEqualTo(new Shape(2));
        }
        try (Sgd sgd = Sgd.builder().lr(0.1).momentum(0.9).build(params)) {
            train(sgd, params, 2);
            StateDict state = sgd.stateDict();
            assertThat(state.values().get("state")).isEqualTo(Map.of("0", Map.of(), "1", Map.of()));
            assertThat(state.tensors()).containsOnlyKeys("state.0.momentum_buffer", "state.1.momentum_buffer");
        }
    }

    @Test
    void loadingCopiesIntoTheOptimizersOwnArrays() {
        List<Parameter> params = model();
        try (Adam source = new Adam(params, 0.05); Adam target = new Adam(copies(manager, params), 0.05)) {
            train(source, params, 2);
            train(target, target.parameters(), 1);
            NDArray before = target.state(target.parameters().get(0)).tensor("exp_avg");
            StateDict saved = asIfReadBack(source.stateDict(), manager);
            target.loadStateDict(saved);
            NDArray after = target.state(target.parameters().get(0)).tensor("exp_avg");
            assertThat(after).isSameAs(before);
            assertThat(after.toFloatArray()).containsExactly(saved.tensors().get("state.0.exp_avg").toFloatArray());
            assertThat(target.stateDict().tensors().values())
                    .noneMatch(mine -> saved.tensors().values().stream().anyMatch(theirs -> theirs == mine));
            assertThat(target.state(target.parameters().get(0)).step()).isEqualTo(2);
        }
    }

    @Test
    void loadingStateWithoutEntriesClearsTheState() {
        List<Parameter> params = model();
        try (Adam trained = new Adam(params, 0.05); Adam fresh = new Adam(copies(manager, params), 0.05)) {
            train(trained, params, 2);
            trained.loadStateDict(fresh.stateDict());
            assertThat(trained.state(params.get(0))).isNull();
            assertThat(trained.stateDict().tensors()).isEmpty();
        }
    }

    @Test
    void mismatchesAreReportedWithTheKeyAndBothShapes() {
        List<Parameter> params = model();
        try (Adam trained = new Adam(params, 0.05)) {
            train(trained, params, 2);
            StateDict saved = trained.stateDict();

            List<Parameter> transposed = List.of(param(manager, "weight", new Shape(2, 3), 1, 2, 3, 4, 5, 6),
                    param(manager, "bias", new Shape(3), 1, 2, 3));
            try (Adam other = new Adam(transposed, 0.05)) {
                train(other, transposed, 1);
                float[] before = other.state(transposed.get(0)).tensor("exp_avg").toFloatArray();
                assertThatThrownBy(() -> other.loadStateDict(saved))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("Adam state dict tensor 'state.0.exp_avg' has shape (3, 2), but parameter 0 "
                                + "('weight') has shape (2, 3)");
                assertThat(other.state(transposed.get(0)).tensor("exp_avg").toFloatArray())
                        .as("a failed load changes nothing").containsExactly(before);
                assertThat(other.state(transposed.get(0)).step()).isEqualTo(1);
            }
            try (Adam fewer = new Adam(List.of(copyOf(manager, params.get(0))), 0.05)) {
                assertThatThrownBy(() -> fewer.loadStateDict(saved))
                        .hasMessage("Adam state dict param_groups[0] has 2 parameters, but this optimizer's group 0 "
                                + "has 1: configure the same parameters as the run that saved it");
            }
            try (Adam split = Adam.builder().build(twoGroups(copies(manager, params)))) {
                assertThatThrownBy(() -> split.loadStateDict(saved))
                        .hasMessage("Adam state dict has 1 param groups, but this optimizer has 2: configure the "
                                + "same param groups as the run that saved it");
            }
            try (Adam same = new Adam(copies(manager, params), 0.05)) {
                StateDict stray = new StateDict(saved.values(), Map.of("state.7.exp_avg",
                        saved.tensors().get("state.0.exp_avg")));
                assertThatThrownBy(() -> same.loadStateDict(stray))
                        .hasMessage("Adam state dict entry 'state.7.exp_avg' refers to parameter 7, but the param "
                                + "groups list parameters [0, 1]");
                StateDict misnamed = new StateDict(saved.values(), Map.of("exp_avg",
                        saved.tensors().get("state.0.exp_avg")));
                assertThatThrownBy(() -> same.loadStateDict(misnamed))
                        .hasMessageContaining("'exp_avg' is not named state.<parameter index>.<state name>");
                StateDict badBetas = asIfReadBack(saved, manager);
                @SuppressWarnings("unchecked")
                Map<String, Object> firstGroup =
                        (Map<String, Object>) ((List<?>) badBetas.values().get("param_groups")).get(0);
                firstGroup.put("betas", List.of(1.5, 0.999));
                assertThatThrownBy(() -> same.loadStateDict(badBetas))
                        .hasMessage("Adam betas[0] must be in [0, 1), but was 1.5");
                assertThatThrownBy(() -> same.loadStateDict(new StateDict()))
                        .hasMessageStartingWith("Adam state dict has no 'param_groups' entry");
            }
        }
    }
}
