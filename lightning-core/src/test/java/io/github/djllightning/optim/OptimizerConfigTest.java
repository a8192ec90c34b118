package io.github.djllightning.optim;

import static io.github.djllightning.optim.OptimTestSupport.param;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OptimizerConfigTest {

    private NDManager manager;
    private Adam adam;
    private Sgd sgd;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        Parameter generator = param(manager, "generator", new Shape(2), 1, 2);
        Parameter discriminator = param(manager, "discriminator", new Shape(2), 3, 4);
        adam = new Adam(List.of(generator), 1e-3);
        sgd = new Sgd(List.of(discriminator), 0.1);
    }

    @AfterEach
    void tearDown() {
        adam.close();
        sgd.close();
        manager.close();
    }

    @Test
    void schedulerConfigHasLightningsDefaults() {
        StepLR step = new StepLR(adam, 10);
        SchedulerConfig config = SchedulerConfig.of(step);
        assertThat(config.scheduler()).isSameAs(step);
        assertThat(config.interval()).isEqualTo(SchedulerConfig.Interval.EPOCH);
        assertThat(config.frequency()).isEqualTo(1);
        assertThat(config.monitor()).isNull();
        assertThat(config.strict()).isTrue();
        assertThat(config.name()).isNull();
        assertThat(config.reduceOnPlateau()).isFalse();
    }

    @Test
    void schedulerConfigBuilderSetsEverything() {
        ReduceLROnPlateau plateau = new ReduceLROnPlateau(sgd);
        SchedulerConfig config = SchedulerConfig.builder(plateau).interval(SchedulerConfig.Interval.STEP)
                .frequency(5).monitor("val_loss").strict(false).name("plateau-lr").build();
        assertThat(config.interval()).isEqualTo(SchedulerConfig.Interval.STEP);
        assertThat(config.frequency()).isEqualTo(5);
        assertThat(config.monitor()).isEqualTo("val_loss");
        assertThat(config.strict()).isFalse();
        assertThat(config.name()).isEqualTo("plateau-lr");
        assertThat(config.reduceOnPlateau()).isTrue();
    }

    @Test
    void schedulerConfigRejectsBadSettings() {
        ReduceLROnPlateau plateau = new ReduceLROnPlateau(sgd);
        assertThatThrownBy(() -> SchedulerConfig.of(plateau))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ReduceLROnPlateau needs a metric to monitor: set monitor(\"val_loss\") on its "
                        + "SchedulerConfig");
        assertThatThrownBy(() -> OptimizerConfig.of(sgd, plateau))
                .hasMessageStartingWith("ReduceLROnPlateau needs a metric to monitor");
        assertThatThrownBy(() -> SchedulerConfig.builder(plateau).frequency(0))
                .hasMessage("SchedulerConfig frequency must be >= 1, but was 0");
        assertThatThrownBy(() -> SchedulerConfig.builder(plateau).monitor(" "))
                .hasMessage("SchedulerConfig monitor must be a metric name or null, but was ' '");
        assertThatThrownBy(() -> SchedulerConfig.builder(plateau).interval(null))
                .hasMessage("SchedulerConfig interval must not be null");
        assertThatThrownBy(() -> SchedulerConfig.builder(null))
                .hasMessage("SchedulerConfig scheduler must not be null");
    }

    @Test
    void returnFormsOfConfigureOptimizers() {
        assertThat(OptimizerConfig.of(adam).optimizers()).containsExactly(adam);
        assertThat(OptimizerConfig.of(adam).schedulers()).isEmpty();

        StepLR step = new StepLR(adam, 10);
        OptimizerConfig withScheduler = OptimizerConfig.of(adam, step);
        assertThat(withScheduler.schedulers()).singleElement()
                .satisfies(config -> assertThat(config.scheduler()).isSameAs(step));

        SchedulerConfig perStep = SchedulerConfig.builder(step).interval(SchedulerConfig.Interval.STEP).build();
        assertThat(OptimizerConfig.of(adam, perStep).schedulers()).containsExactly(perStep);

        assertThat(OptimizerConfig.of(adam, sgd).optimizers()).containsExactly(adam, sgd);

        SchedulerConfig plateau =
                SchedulerConfig.builder(new ReduceLROnPlateau(sgd)).monitor("val_loss").build();
        OptimizerConfig both = OptimizerConfig.of(List.of(adam, sgd), List.of(perStep, plateau));
        assertThat(both.optimizers()).containsExactly(adam, sgd);
        assertThat(both.schedulers()).containsExactly(perStep, plateau);
        assertThatThrownBy(() -> both.optimizers().add(adam)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void optimizerConfigValidatesItsParts() {
        assertThatThrownBy(() -> OptimizerConfig.of(List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("OptimizerConfig needs at least one optimizer: return one from configureOptimizers()");
        assertThatThrownBy(() -> OptimizerConfig.of(new Optimizer[0]))
                .hasMessageStartingWith("OptimizerConfig needs at least one optimizer");
        assertThatThrownBy(() -> OptimizerConfig.of(Arrays.asList(adam, null), List.of()))
                .hasMessageStartingWith("OptimizerConfig optimizers[1] is null");
        assertThatThrownBy(() -> OptimizerConfig.of(adam, adam))
                .hasMessageStartingWith("OptimizerConfig lists optimizer Adam(1 param groups, 1 parameters, "
                        + "lr=0.001) twice, at 0 and 1");
        assertThatThrownBy(() -> OptimizerConfig.of(List.of(adam), Arrays.asList((SchedulerConfig) null)))
                .hasMessageStartingWith("OptimizerConfig schedulers[0] is null");
        StepLR ofSgd = new StepLR(sgd, 3);
        assertThatThrownBy(() -> OptimizerConfig.of(adam, ofSgd))
                .hasMessage("OptimizerConfig schedulers[0] (StepLR) sets the learning rate of SGD(1 param groups, "
                        + "1 parameters, lr=0.1), which is not among the optimizers [Adam(1 param groups, "
                        + "1 parameters, lr=0.001)]: build the scheduler on one of the returned optimizers");
    }
}
