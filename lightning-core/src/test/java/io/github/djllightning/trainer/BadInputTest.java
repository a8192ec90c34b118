package io.github.djllightning.trainer;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.Sgd;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.Event;
import io.github.djllightning.testing.RecordingCallback;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mistakes a user makes get a clear exception that says what to change, never a JVM crash, and a failed run leaves
 * the Trainer ready for the next one.
 */
class BadInputTest extends EngineTest {


    @TempDir
    Path root;

    /** A BoringModule whose trainingStep returns whatever the test scripts from the layer's output. */
    static final class ReturningModule extends BoringModule {
        private final BiFunction<NDArray, Integer, Object> result;

        ReturningModule(BiFunction<NDArray, Integer, Object> result) {
            this.result = result;
        }

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            return result.apply(forward("layer", batch.getData().head()), batchIdx);
        }
    }

    private Trainer trainer() {
        return quiet(root).maxEpochs(1).numSanityValSteps(0).build();
    }

    private void fitFails(LightningModule module, String... messageParts) {
        try (module) {
            var assertion = assertThatThrownBy(() -> trainer().fit(module, BoringModule.data(manager, 2)))
                    .isInstanceOf(LightningException.class);
            for (String part : messageParts) {
                assertion.hasMessageContaining(part);
            }
        }
    }

    // ------------------------------------------------------------------ what trainingStep returns

    @Test
    void aNonScalarLossNamesItsShapeAndTheFix() {
        fitFails(new ReturningModule((out, i) -> out.square()),
                "ReturningModule.trainingStep", "(4, 2)", "scalar", ".mean()");
    }

    @Test
    void aStringIsNotALoss() {
        fitFails(new ReturningModule((out, i) -> "loss"), "java.lang.String", "Map with a \"loss\" entry");
    }

    @Test
    void aMapWithoutLossNamesItsKeys() {
        fitFails(new ReturningModule((out, i) -> Map.of("total", out.square().mean())),
                "\"loss\" entry is missing", "[total]");
    }

    @Test
    void aMapWithLossAndExtrasTrainsAndPassesTheExtrasOn() {
        List<Object> extras = new ArrayList<>();
        RecordingCallback collect = new RecordingCallback() {
            @Override
            public void onTrainBatchEnd(
                    Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
                extras.add(outputs.get("tag"));
                assertThat(outputs.get("loss")).isInstanceOf(NDArray.class);
            }
        };
        Trainer trainer = quiet(root).maxEpochs(1).callbacks(collect).build();
        try (ReturningModule module = new ReturningModule(
                (out, i) -> Map.of("loss", out.square().mean(), "tag", "batch" + i))) {
            trainer.fit(module, BoringModule.data(manager, 2));
        }
        assertThat(extras).containsExactly("batch0", "batch1");
        assertThat(trainer.globalStep()).isEqualTo(2);
    }

    // ------------------------------------------------------------------ what the module lacks

    /** A module with a layer and nothing overridden unless a subclass does. */
    static class Bare extends LightningModule {
        Bare() {
            addChildBlock("layer", Linear.builder().setUnits(2).build());
        }
    }

    @Test
    void aModuleWithoutConfigureOptimizersIsToldToAddIt() {
        fitFails(new Bare() {
            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                return forward("layer", batch.getData().head()).mean();
            }
        }, "configureOptimizers", "OptimizerConfig.of");
    }

    @Test
    void aModuleWithoutTrainingStepIsToldToAddIt() {
        fitFails(new Bare() {
            @Override
            public OptimizerConfig configureOptimizers() {
                return OptimizerConfig.of(new Sgd(parameters(), 0.1));
            }
        }, "trainingStep");
    }

    @Test
    void twoOptimizersNeedManualOptimization() {
        fitFails(new BoringModule() {
            @Override
            public OptimizerConfig configureOptimizers() {
                return OptimizerConfig.of(new Sgd(parameters(), 0.1), new Sgd(parameters(), 0.2));
            }
        }, "2 optimizers", "manual optimization", "setAutomaticOptimization(false)");
    }

    @Test
    void configureOptimizersReturningNullIsRejected() {
        fitFails(new BoringModule() {
            @Override
            public OptimizerConfig configureOptimizers() {
                return null;
            }
        }, "configureOptimizers() returned null");
    }

    @Test
    void aFrozenModuleCannotTrainAndSaysWhy() {
        BoringModule module = new BoringModule();
        try (module) {
            // create the parameters, then freeze them
            trainer().fit(module, BoringModule.data(manager, 1));
            module.freeze();
            assertThatThrownBy(() -> trainer().fit(module, BoringModule.data(manager, 1)))
                    .hasMessageContaining("no gradient")
                    .hasMessageContaining("frozen");
        }
    }

    // ------------------------------------------------------------------ bad data

    @Test
    void aBatchOfTheWrongShapeIsWrappedWithStepEpochBatchAndShapes() {
        // the layer takes its input width (32) from the first batch; the second batch is 16 wide
        List<Batch> batches = new ArrayList<>();
        NDManager data = manager.newSubManager();
        batches.add(new Batch(data, new NDList(data.ones(new Shape(4, 32))), new NDList(), 4, null, null, 0, 2));
        batches.add(new Batch(data, new NDList(data.ones(new Shape(4, 16))), new NDList(), 4, null, null, 1, 2));
        DataLoader loader = DataLoader.of(batches).build();
        try (BoringModule module = new BoringModule()) {
            assertThatThrownBy(() -> trainer().fit(module, loader))
                    .isInstanceOf(LightningException.class)
                    .hasMessageContaining("BoringModule.trainingStep")
                    .hasMessageContaining("epoch 0")
                    .hasMessageContaining("batch 1")
                    .hasMessageContaining("(4, 16)")
                    .hasMessageContaining("shape")
                    .hasCauseInstanceOf(ai.djl.engine.EngineException.class);
        } finally {
            data.close();
        }
    }

    @Test
    void fitWithoutTrainingDataSaysWhereDataComesFrom() {
        try (BoringModule module = new BoringModule()) {
            assertThatThrownBy(() -> trainer().fit(module))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("No training data")
                    .hasMessageContaining("trainDataloader()");
        }
    }

    @Test
    void validateWithoutValidationStepIsRejected() {
        Bare module = new Bare() {
            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                return forward("layer", batch.getData().head()).mean();
            }
        };
        try (module) {
            assertThatThrownBy(() -> trainer().validate(module, BoringModule.data(manager, 1)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("validationStep")
                    .hasMessageContaining("validate");
        }
    }

    @Test
    void validateOrTestWithoutDataIsRejected() {
        try (BoringModule module = new BoringModule()) {
            assertThatThrownBy(() -> trainer().validate(module))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("No validation data")
                    .hasMessageContaining("valDataloader()");
            assertThatThrownBy(() -> trainer().test(module))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("No test data")
                    .hasMessageContaining("testDataloader()");
        }
    }

    @Test
    void aNullModuleIsRejected() {
        assertThatThrownBy(() -> trainer().fit(null, BoringModule.data(manager, 1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("LightningModule");
    }

    // ------------------------------------------------------------------ after a failure

    @Test
    void aFailedRunReportsOnExceptionIsInterruptedAndTheTrainerRunsAgain() {
        List<Event> events = new ArrayList<>();
        List<Throwable> seen = new ArrayList<>();
        RecordingCallback recorder = new RecordingCallback(events) {
            @Override
            public void onException(Trainer trainer, LightningModule module, Throwable exception) {
                super.onException(trainer, module, exception);
                seen.add(exception);
            }
        };
        Trainer trainer = quiet(root).maxEpochs(1).callbacks(recorder).build();
        BoringModule failing = new BoringModule() {
            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                if (batchIdx == 1) {
                    throw new IllegalStateException("boom at batch 1");
                }
                return super.trainingStep(batch, batchIdx);
            }
        };
        try (failing) {
            assertThatThrownBy(() -> trainer.fit(failing, BoringModule.data(manager, 3)))
                    .hasMessageContaining("boom at batch 1");
        }
        assertThat(trainer.status()).isEqualTo(TrainerStatus.INTERRUPTED);
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0)).hasMessageContaining("boom at batch 1");
        assertThat(events).extracting(Event::event).contains("on_exception").doesNotContain("on_train_end", "on_fit_end");

        // one optimizer step happened before the failure
        long stepsBefore = trainer.globalStep();
        assertThat(stepsBefore).isEqualTo(1);

        // the same Trainer, a fresh module: the failed run left nothing behind (the gradient recording is closed)
        events.clear();
        BoringModule module = new BoringModule();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 3));
        }
        assertThat(trainer.status()).isEqualTo(TrainerStatus.FINISHED);
        assertThat(module.events()).filteredOn(e -> e.event().equals("training_step")).hasSize(3);
        // as in Lightning, a reused Trainer keeps counting optimizer steps
        assertThat(trainer.globalStep()).isEqualTo(stepsBefore + 3);
        assertThat(events).extracting(Event::event).contains("on_fit_end").doesNotContain("on_exception");
    }

    @Test
    void aFailingCallbackEndsTheRunAndIsReported() {
        List<Throwable> seen = new ArrayList<>();
        RecordingCallback failing = new RecordingCallback() {
            @Override
            public void onTrainEpochStart(Trainer trainer, LightningModule module) {
                throw new IllegalStateException("callback broke");
            }

            @Override
            public void onException(Trainer trainer, LightningModule module, Throwable exception) {
                seen.add(exception);
            }
        };
        Trainer trainer = quiet(root).maxEpochs(1).callbacks(failing).build();
        try (BoringModule module = new BoringModule()) {
            assertThatThrownBy(() -> trainer.fit(module, BoringModule.data(manager, 1)))
                    .hasMessageContaining("callback broke");
        }
        assertThat(trainer.status()).isEqualTo(TrainerStatus.INTERRUPTED);
        assertThat(seen).singleElement().satisfies(e -> assertThat(e).hasMessageContaining("callback broke"));
    }

    @Test
    void theModuleCanBeTrainedAgainAfterAFailedRun() {
        // a failure inside the step must not leave the module unusable (e.g. a dangling gradient collector)
        boolean[] fail = {true};
        BoringModule module = new BoringModule() {
            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                Object loss = super.trainingStep(batch, batchIdx);
                if (fail[0]) {
                    throw new IllegalStateException("first run fails after the forward pass");
                }
                return loss;
            }
        };
        try (module) {
            assertThatThrownBy(() -> trainer().fit(module, BoringModule.data(manager, 2)))
                    .hasMessageContaining("first run fails");
            fail[0] = false;
            Trainer second = trainer();
            second.fit(module, BoringModule.data(manager, 2));
            assertThat(second.globalStep()).isEqualTo(2);
        }
    }

    @Test
    void aNanLossFailsFastByDefaultNamingEpochAndBatch() {
        BoringModule module = new BoringModule() {
            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                Object loss = super.trainingStep(batch, batchIdx);
                return getTrainer().currentEpoch() == 1 && batchIdx == 2 ? ((NDArray) loss).mul(Float.NaN) : loss;
            }
        };
        try (module) {
            Trainer trainer = quiet(root).maxEpochs(3).build();
            assertThatThrownBy(() -> trainer.fit(module, BoringModule.data(manager, 4)))
                    .isInstanceOf(io.github.djllightning.callback.NonFiniteLossException.class)
                    .hasMessageContaining("epoch 1")
                    .hasMessageContaining("batch 2");
            assertThat(trainer.globalStep()).as("the bad batch did not step").isEqualTo(6);
        }
    }

    @Test
    void theLossGuardCanBeSwitchedOffAndAModulesGuardReplacesTheDefault() {
        BoringModule module = new BoringModule() {
            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                return ((NDArray) super.trainingStep(batch, batchIdx)).mul(Float.NaN);
            }

            @Override
            public List<io.github.djllightning.callback.Callback> configureCallbacks() {
                return List.of(new io.github.djllightning.callback.NonFiniteLossGuard(
                        io.github.djllightning.callback.NonFiniteLossGuard.Action.OFF) { });
            }
        };
        try (module) {
            Trainer trainer = quiet(root).maxEpochs(1).build();
            trainer.fit(module, BoringModule.data(manager, 3));
            assertThat(trainer.globalStep()).as("trained on, as Lightning would").isEqualTo(3);
            assertThat(module.parameters().get(0).getArray().isNaN().any().getBoolean()).isTrue();
        }
    }
}
