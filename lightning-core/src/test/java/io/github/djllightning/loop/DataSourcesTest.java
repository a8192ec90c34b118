package io.github.djllightning.loop;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.Sgd;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.Event;
import io.github.djllightning.testing.RecordingCallback;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where each loop's data comes from, with Lightning's precedence: loaders passed to the call, else the data module
 * (which replaces the module's loader hooks entirely), else the module's own hooks; and when validation is skipped.
 */
class DataSourcesTest extends EngineTest {


    @TempDir
    Path root;

    /** A BoringModule that provides its own loaders: 4 training, 3 validation, 5 test and 6 prediction batches. */
    static class SelfFeedingModule extends BoringModule {
        SelfFeedingModule(List<Event> events) {
            super(events);
        }

        @Override
        public DataLoader trainDataloader() {
            return BoringModule.data(manager, 4);
        }

        @Override
        public DataLoader valDataloader() {
            return BoringModule.data(manager, 3);
        }

        @Override
        public DataLoader testDataloader() {
            return BoringModule.data(manager, 5);
        }

        @Override
        public DataLoader predictDataloader() {
            return BoringModule.data(manager, 6);
        }
    }

    /** A data module with training data only: 2 batches. */
    static class TrainOnlyDataModule extends LightningDataModule {
        @Override
        public DataLoader trainDataloader() {
            return BoringModule.data(manager, 2);
        }
    }

    /** A data module with 2 training, 1 validation and 2 test batches. */
    static final class SmallDataModule extends TrainOnlyDataModule {
        @Override
        public DataLoader valDataloader() {
            return BoringModule.data(manager, 1);
        }

        @Override
        public DataLoader testDataloader() {
            return BoringModule.data(manager, 2);
        }
    }

    private static long count(List<Event> events, String name, String stage) {
        return events.stream().filter(e -> e.event().equals(name) && (stage == null || stage.equals(e.stage())))
                .count();
    }

    private Trainer trainer(List<Event> events) {
        return quiet(root).maxEpochs(1).numSanityValSteps(0).callbacks(new RecordingCallback(events)).build();
    }

    @Test
    void theModulesOwnLoadersAreUsedWhenNothingElseIsGiven() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = trainer(events);
        try (SelfFeedingModule module = new SelfFeedingModule(events)) {
            trainer.fit(module);
            assertThat(count(events, "training_step", null)).isEqualTo(4);
            assertThat(count(events, "validation_step", "validate")).isEqualTo(3);
            trainer.test(module);
            assertThat(count(events, "test_step", null)).isEqualTo(5);
            assertThat(trainer.predict(module, (LightningDataModule) null)).singleElement()
                    .satisfies(perBatch -> assertThat(perBatch).hasSize(6));
        }
    }

    @Test
    void explicitLoadersWinOverTheModulesHooks() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = trainer(events);
        try (SelfFeedingModule module = new SelfFeedingModule(events)) {
            trainer.fit(module, BoringModule.data(manager, 2), BoringModule.data(manager, 1));
            assertThat(count(events, "training_step", null)).isEqualTo(2);
            assertThat(count(events, "validation_step", "validate")).isEqualTo(1);
            events.clear();
            trainer.validate(module, BoringModule.data(manager, 2));
            assertThat(count(events, "validation_step", null)).isEqualTo(2);
            trainer.test(module, BoringModule.data(manager, 1));
            assertThat(count(events, "test_step", null)).isEqualTo(1);
            assertThat(trainer.predict(module, BoringModule.data(manager, 3))).hasSize(3);
        }
    }

    @Test
    void anExplicitTrainLoaderKeepsTheModulesValidationHook() {
        // Lightning: only the loaders passed replace hooks; validation still comes from valDataloader()
        List<Event> events = new ArrayList<>();
        Trainer trainer = trainer(events);
        try (SelfFeedingModule module = new SelfFeedingModule(events)) {
            trainer.fit(module, BoringModule.data(manager, 1));
            assertThat(count(events, "training_step", null)).isEqualTo(1);
            assertThat(count(events, "validation_step", "validate")).isEqualTo(3);
        }
    }

    @Test
    void aDataModuleWinsOverTheModulesHooks() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = trainer(events);
        try (SelfFeedingModule module = new SelfFeedingModule(events)) {
            trainer.fit(module, new SmallDataModule());
            assertThat(count(events, "training_step", null)).isEqualTo(2);
            assertThat(count(events, "validation_step", "validate")).isEqualTo(1);
            events.clear();
            trainer.test(module, new SmallDataModule());
            assertThat(count(events, "test_step", null)).isEqualTo(2);
        }
    }

    @Test
    void aDataModuleReplacesTheModulesLoadersEntirely() {
        // the data module has no validation data: the module's valDataloader() is not used instead
        List<Event> events = new ArrayList<>();
        Trainer trainer = trainer(events);
        try (SelfFeedingModule module = new SelfFeedingModule(events)) {
            trainer.fit(module, new TrainOnlyDataModule());
        }
        assertThat(count(events, "training_step", null)).isEqualTo(2);
        assertThat(count(events, "validation_step", null)).isZero();
        assertThat(count(events, "on_validation_start", null)).isZero();
        assertThat(trainer.fitLoop().validationEnabled()).isFalse();
    }

    @Test
    void limitValBatchesZeroSwitchesValidationOffIncludingTheSanityCheck() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = quiet(root).maxEpochs(2).limitValBatches(0)
                .callbacks(new RecordingCallback(events)).build();
        try (BoringModule module = new BoringModule(events)) {
            trainer.fit(module, BoringModule.data(manager, 2), BoringModule.data(manager, 2));
        }
        assertThat(count(events, "validation_step", null)).isZero();
        assertThat(count(events, "on_sanity_check_start", null)).isZero();
        assertThat(count(events, "on_validation_start", null)).isZero();
        assertThat(trainer.globalStep()).isEqualTo(4);
    }

    @Test
    void aModuleWithValidationDataButNoValidationStepSkipsValidation() {
        List<Event> events = new ArrayList<>();
        LightningModule module = new LightningModule() {
            {
                addChildBlock("layer", Linear.builder().setUnits(2).build());
            }

            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                return forward("layer", batch.getData().head()).square().mean();
            }

            @Override
            public OptimizerConfig configureOptimizers() {
                return OptimizerConfig.of(new Sgd(parameters(), 0.1));
            }
        };
        Trainer trainer = quiet(root).maxEpochs(1).callbacks(new RecordingCallback(events)).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 2), BoringModule.data(manager, 2));
        }
        assertThat(count(events, "on_sanity_check_start", null)).isZero();
        assertThat(count(events, "on_validation_start", null)).isZero();
        assertThat(count(events, "on_train_batch_end", null)).isEqualTo(2);
        assertThat(trainer.fitLoop().validationEnabled()).isFalse();
    }

    @Test
    void severalValidationLoadersRunOneAfterTheOtherAndSuffixTheirMetrics() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = trainer(events);
        try (BoringModule module = new BoringModule(events)) {
            List<java.util.Map<String, Double>> results =
                    trainer.validate(module, List.of(BoringModule.data(manager, 2), BoringModule.data(manager, 3)));
            assertThat(results).hasSize(2);
            assertThat(results.get(0)).containsOnlyKeys("val_loss/dataloader_idx_0");
            assertThat(results.get(1)).containsOnlyKeys("val_loss/dataloader_idx_1");
        }
        assertThat(events).filteredOn(e -> e.event().equals("validation_step")).extracting(Event::batchIdx)
                .containsExactly(0, 1, 0, 1, 2);
    }
}
