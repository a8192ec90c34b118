package io.github.djllightning.module;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a LightningModule sees of its own state: training/eval mode and frozen parameters, the epoch and step
 * counters from inside its hooks, and clear errors when it is used without a Trainer.
 */
class ModuleBehaviourTest extends EngineTest {


    @TempDir
    Path root;

    /** Records (hook, currentEpoch, globalStep, isTraining) as the module sees them. */
    static final class CounterModule extends BoringModule {
        final List<String> seen = new ArrayList<>();

        private void see(String where) {
            seen.add(where + "@" + currentEpoch() + ":" + globalStep() + (isTraining() ? ":train" : ":eval"));
        }

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            see("train" + batchIdx);
            return super.trainingStep(batch, batchIdx);
        }

        @Override
        public Object validationStep(Batch batch, int batchIdx) {
            if (!getTrainer().isSanityChecking()) {
                see("val" + batchIdx);
            }
            return super.validationStep(batch, batchIdx);
        }

        @Override
        public void onTrainEpochEnd() {
            see("epochEnd");
        }

        @Override
        public void onTrainEnd() {
            see("trainEnd");
        }
    }

    @Test
    void currentEpochAndGlobalStepFromInsideTheModule() {
        CounterModule module = new CounterModule();
        try (module) {
            quiet(root).maxEpochs(2).build()
                    .fit(module, BoringModule.data(manager, 2), BoringModule.data(manager, 1));
        }
        assertThat(module.seen).containsExactly(
                "train0@0:0:train", "train1@0:1:train", "val0@0:2:eval", "epochEnd@0:2:train",
                "train0@1:2:train", "train1@1:3:train", "val0@1:4:eval", "epochEnd@1:4:train",
                "trainEnd@2:4:train");
    }

    @Test
    void withoutATrainerTheCountersAreZeroAndTrainerAccessFailsClearly() {
        try (BoringModule module = new BoringModule()) {
            assertThat(module.hasTrainer()).isFalse();
            assertThat(module.currentEpoch()).isZero();
            assertThat(module.globalStep()).isZero();
            assertThatThrownBy(module::getTrainer)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("BoringModule is not attached to a Trainer");
            // Lightning warns and records nothing
            module.log("ignored", 1.0);
        }
    }

    @Test
    void optimizersAreOnlyAvailableDuringARun() {
        BoringModule module = new BoringModule();
        try (module) {
            Trainer trainer = quiet(root).maxEpochs(1).build();
            trainer.fit(module, BoringModule.data(manager, 1));
            assertThatThrownBy(module::optimizers)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("while the Trainer runs");
        }
    }

    @Test
    void freezeStopsGradientsAndSwitchesToEvalAndUnfreezeUndoesIt() {
        BoringModule module = new BoringModule();
        try (module) {
            quiet(root).maxEpochs(1).build().fit(module, BoringModule.data(manager, 1));
            List<Parameter> parameters = module.parameters();
            assertThat(parameters).hasSize(2).allMatch(Parameter::requiresGradient);
            assertThat(module.isTraining()).isTrue();

            assertThat(module.freeze()).isSameAs(module);
            assertThat(module.isTraining()).isFalse();
            assertThat(parameters).noneMatch(Parameter::requiresGradient);
            assertThat(parameters).noneMatch(p -> p.getArray().hasGradient());

            assertThat(module.unfreeze()).isSameAs(module);
            assertThat(module.isTraining()).isTrue();
            assertThat(parameters).allMatch(Parameter::requiresGradient);
            assertThat(parameters).allMatch(p -> p.getArray().hasGradient());

            // and it trains again
            Trainer again = quiet(root).maxEpochs(1).build();
            again.fit(module, BoringModule.data(manager, 1));
            assertThat(again.globalStep()).isEqualTo(1);
        }
    }

    @Test
    void unfreezeLeavesRunningStatisticsWithoutGradientsSoBatchNormTrainsAgain() {
        BoringModule module = new BoringModule() {
            {
                addChildBlock("norm", ai.djl.nn.norm.BatchNorm.builder().build());
            }

            @Override
            public Object trainingStep(ai.djl.training.dataset.Batch batch, int batchIdx) {
                return forward("norm", forward("layer", batch.getData().head())).square().mean();
            }
        };
        try (module) {
            quiet(root).maxEpochs(1).build().fit(module, BoringModule.data(manager, 2));
            module.freeze();
            module.unfreeze();
            assertThat(module.parameters()).filteredOn(p -> p.getType() == Parameter.Type.RUNNING_MEAN
                    || p.getType() == Parameter.Type.RUNNING_VAR).hasSize(2).noneMatch(Parameter::requiresGradient);
            Trainer again = quiet(root).maxEpochs(1).build();
            again.fit(module, BoringModule.data(manager, 2));
            assertThat(again.globalStep()).isEqualTo(2);
        }
    }

    @Test
    void aFrozenModuleStillPredictsAndStaysInEvalMode() {
        BoringModule module = new BoringModule();
        try (module) {
            Trainer trainer = quiet(root).maxEpochs(1).build();
            trainer.fit(module, BoringModule.data(manager, 1));
            module.freeze();
            assertThat(trainer.predict(module, BoringModule.data(manager, 2))).hasSize(2);
            assertThat(module.isTraining()).isFalse();
            assertThat(module.parameters()).noneMatch(Parameter::requiresGradient);
        }
    }

    @Test
    void validationInsideFitRestoresTheTrainingMode() {
        CounterModule module = new CounterModule();
        try (module) {
            Trainer trainer = quiet(root).maxEpochs(1).valCheckInterval(1).build();
            trainer.fit(module, BoringModule.data(manager, 2), BoringModule.data(manager, 1));
        }
        // validation after each batch: eval inside, training again for the next batch
        assertThat(module.seen).containsExactly(
                "train0@0:0:train", "val0@0:1:eval", "train1@0:1:train", "val0@0:2:eval",
                "epochEnd@0:2:train", "trainEnd@1:2:train");
    }

    @Test
    void parametersCreatedByAFirstForwardInsideAScopeOutliveTheScope() {
        try (BoringModule module = new BoringModule()) {
            NDArray ones = manager.ones(new Shape(2, 32));
            try (NDScope scope = new NDScope()) {
                module.forward("layer", ones);
            }
            assertThat(module.parameters()).allMatch(Parameter::isInitialized);
            float[] out = module.forward("layer", ones).toFloatArray();
            assertThat(out).hasSize(4);
        }
    }

    @Test
    void anUnknownChildIsNamedWithTheExistingOnes() {
        try (BoringModule module = new BoringModule()) {
            assertThatThrownBy(() -> module.child("encoder"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'encoder'")
                    .hasMessageContaining("layer");
        }
    }
}
