package io.github.djllightning.trainer;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.Sgd;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.Event;
import io.github.djllightning.testing.RecordingCallback;
import io.github.djllightning.testing.RecordingModule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The order in which the Trainer calls callback and module hooks (Lightning's {@code test_hooks.py} contract): a
 * callback's hook first, the module's hook of the same name right after it, steps and optimizer hooks nested as in
 * automatic and manual optimization, data module hooks before the others.
 */
class HookOrderTest extends EngineTest {

    private static final String M = RecordingModule.PREFIX;


    @TempDir
    Path root;

    // ------------------------------------------------------------------ expected sequences

    /** A callback hook followed by the module hook of the same name. */
    private static void both(List<String> out, String hook) {
        out.add(hook);
        out.add(M + hook);
    }

    private static void transfer(List<String> out) {
        out.add(M + "on_before_batch_transfer");
        out.add(M + "transfer_batch_to_device");
        out.add(M + "on_after_batch_transfer");
    }

    private static void evalRun(List<String> out, String noun, String step, int batches, boolean modelTrainHook) {
        out.add(M + "on_" + noun + "_model_eval");
        both(out, "on_" + noun + "_start");
        both(out, "on_" + noun + "_epoch_start");
        for (int i = 0; i < batches; i++) {
            transfer(out);
            both(out, "on_" + noun + "_batch_start");
            out.add(step);
            both(out, "on_" + noun + "_batch_end");
        }
        both(out, "on_" + noun + "_epoch_end");
        both(out, "on_" + noun + "_end");
        if (modelTrainHook) {
            out.add(M + "on_" + noun + "_model_train");
        }
    }

    private static void autoTrainBatch(List<String> out, boolean zeroGrad, boolean step) {
        transfer(out);
        both(out, "on_train_batch_start");
        out.add("training_step");
        if (zeroGrad) {
            both(out, "on_before_zero_grad");
            out.add(M + "optimizer_zero_grad");
        }
        both(out, "on_before_backward");
        out.add(M + "backward");
        both(out, "on_after_backward");
        if (step) {
            both(out, "on_before_optimizer_step");
            out.add(M + "configure_gradient_clipping");
            out.add("optimizer_step");
        }
        both(out, "on_train_batch_end");
    }

    private static List<String> names(List<Event> events) {
        return events.stream().map(Event::event).collect(Collectors.toList());
    }

    private static Event first(List<Event> events, String name) {
        return events.stream().filter(e -> e.event().equals(name)).findFirst().orElseThrow(
                () -> new AssertionError("no event " + name + " in " + events));
    }

    private static Event last(List<Event> events, String name) {
        Event found = null;
        for (Event e : events) {
            if (e.event().equals(name)) {
                found = e;
            }
        }
        if (found == null) {
            throw new AssertionError("no event " + name + " in " + events);
        }
        return found;
    }

    // ------------------------------------------------------------------ fit

    @Test
    void fitWithValidationCallsEveryHookInLightningsOrder() {
        List<Event> events = new ArrayList<>();
        RecordingModule module = new RecordingModule(events);
        Trainer trainer = quiet(root)
                .maxEpochs(1)
                .numSanityValSteps(1)
                .callbacks(new RecordingCallback(events))
                .build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 2), BoringModule.data(manager, 2));
        }

        List<String> expected = new ArrayList<>();
        expected.add(M + "configure_callbacks");
        expected.add(M + "prepare_data");
        both(expected, "setup");
        expected.add(M + "configure_model");
        expected.add(M + "configure_optimizers");
        both(expected, "on_fit_start");
        expected.add("on_sanity_check_start");
        evalRun(expected, "validation", "validation_step", 1, true);
        expected.add("on_sanity_check_end");
        both(expected, "on_train_start");
        both(expected, "on_train_epoch_start");
        autoTrainBatch(expected, true, true);
        autoTrainBatch(expected, true, true);
        expected.add(M + "on_validation_model_zero_grad");
        evalRun(expected, "validation", "validation_step", 2, true);
        both(expected, "on_train_epoch_end");
        both(expected, "on_train_end");
        both(expected, "on_fit_end");
        both(expected, "teardown");

        assertThat(names(events)).containsExactlyElementsOf(expected);
        assertThat(trainer.status()).isEqualTo(TrainerStatus.FINISHED);
    }

    @Test
    void fitHooksSeeLightningsCountersAndStages() {
        List<Event> events = new ArrayList<>();
        RecordingModule module = new RecordingModule(events);
        Trainer trainer = quiet(root)
                .maxEpochs(2)
                .numSanityValSteps(1)
                .callbacks(new RecordingCallback(events))
                .build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 3), BoringModule.data(manager, 1));
        }
        // setup/teardown get the stage argument
        assertThat(first(events, "setup").arg()).isEqualTo("fit");
        assertThat(first(events, M + "setup").arg()).isEqualTo("fit");
        assertThat(last(events, M + "teardown").arg()).isEqualTo("fit");
        // the sanity check runs in its own stage, before any step
        Event sanityStep = first(events, "validation_step");
        assertThat(sanityStep.stage()).isEqualTo("sanity_check");
        assertThat(sanityStep.globalStep()).isZero();
        // training batches: the step counter moves once per optimizer step, the epoch counter at epoch ends
        List<Event> batchEnds = events.stream().filter(e -> e.event().equals("on_train_batch_end")).toList();
        assertThat(batchEnds).extracting(Event::globalStep).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(batchEnds).extracting(Event::epoch).containsExactly(0, 0, 0, 1, 1, 1);
        assertThat(batchEnds).extracting(Event::batchIdx).containsExactly(0, 1, 2, 0, 1, 2);
        assertThat(batchEnds).extracting(Event::stage).containsOnly("train");
        // validation inside fit runs in the validate stage, after the last batch of each epoch
        List<Event> valSteps = events.stream()
                .filter(e -> e.event().equals("validation_step") && "validate".equals(e.stage()))
                .toList();
        assertThat(valSteps).extracting(Event::globalStep).containsExactly(3L, 6L);
        // currentEpoch counts completed epochs: still 0 in the first epoch's end hook, 2 at the end of training
        List<Event> epochEnds = events.stream().filter(e -> e.event().equals(M + "on_train_epoch_end")).toList();
        assertThat(epochEnds).extracting(Event::epoch).containsExactly(0, 1);
        assertThat(first(events, "on_train_end").epoch()).isEqualTo(2);
        assertThat(trainer.currentEpoch()).isEqualTo(2);
        assertThat(trainer.globalStep()).isEqualTo(6);
    }

    /** A callback that monitors metrics, as EarlyStopping and ModelCheckpoint do. */
    private static final class MonitoringCallback implements Callback {
        final List<Event> events;
        final List<Map<String, Double>> seen = new ArrayList<>();

        MonitoringCallback(List<Event> events) {
            this.events = events;
        }

        @Override
        public boolean monitorsMetrics() {
            return true;
        }

        @Override
        public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
            RecordingCallback.record(events, trainer, "monitor:on_train_epoch_end", null, null);
            seen.add(trainer.callbackMetrics());
        }
    }

    @Test
    void monitoringCallbacksRunAfterTheModulesTrainEpochEndAndSeeWhatItLogged() {
        List<Event> events = new ArrayList<>();
        RecordingModule module = new RecordingModule(events) {
            @Override
            public void onTrainEpochEnd() {
                super.onTrainEpochEnd();
                log("logged_at_epoch_end", 3.0);
            }
        };
        MonitoringCallback monitor = new MonitoringCallback(events);
        // the monitoring callback comes first in the list, yet runs after the module
        Trainer trainer = quiet(root)
                .maxEpochs(1)
                .numSanityValSteps(0)
                .callbacks(monitor, new RecordingCallback(events))
                .build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 2));
        }
        List<String> epochEnd = names(events).stream().filter(n -> n.endsWith("on_train_epoch_end")).toList();
        assertThat(epochEnd).containsExactly(
                "on_train_epoch_end", M + "on_train_epoch_end", "monitor:on_train_epoch_end");
        assertThat(monitor.seen).hasSize(1);
        assertThat(monitor.seen.get(0))
                .containsEntry("logged_at_epoch_end", 3.0)
                .containsKey("train_loss_epoch");
    }

    /** A callback with its own method for one hook. */
    static class BatchEndOnly implements Callback {
        final List<String> calls;
        final String name;

        BatchEndOnly(List<String> calls, String name) {
            this.calls = calls;
            this.name = name;
        }

        @Override
        public void onTrainBatchEnd(
                Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
            calls.add(name + ".on_train_batch_end");
        }
    }

    /** Inherits one hook from its superclass and adds another. */
    static final class InheritsAndAdds extends BatchEndOnly {
        InheritsAndAdds(List<String> calls) {
            super(calls, "inherits");
        }

        @Override
        public void onBeforeBackward(Trainer trainer, LightningModule module, NDArray loss) {
            calls.add("inherits.on_before_backward");
        }
    }

    /** Hooks given as default methods of an interface of the user's own. */
    interface AfterBackwardHooks extends Callback {
        List<String> calls();

        @Override
        default void onAfterBackward(Trainer trainer, LightningModule module) {
            calls().add("interface.on_after_backward");
        }
    }

    @Test
    void callbacksImplementingSomeHooksGetThoseHooksWhereverTheMethodIsDeclared() {
        List<String> calls = new ArrayList<>();
        AfterBackwardHooks fromInterface = () -> calls;
        Trainer trainer = quiet(root)
                .maxEpochs(1)
                .callbacks(new BatchEndOnly(calls, "own"), new InheritsAndAdds(calls), fromInterface)
                .build();
        try (BoringModule module = new BoringModule()) {
            trainer.fit(module, BoringModule.data(manager, 2));
        }
        List<String> batch = List.of("inherits.on_before_backward", "interface.on_after_backward",
                "own.on_train_batch_end", "inherits.on_train_batch_end");
        List<String> expected = new ArrayList<>(batch);
        expected.addAll(batch);
        assertThat(calls).containsExactlyElementsOf(expected);
    }

    /** A user's base module with the batch hooks whose defaults do nothing. */
    static class BaseWithBatchHooks extends BoringModule {
        final List<String> calls = new ArrayList<>();

        @Override
        public Batch onBeforeBatchTransfer(Batch batch, int dataloaderIdx) {
            calls.add("on_before_batch_transfer");
            return batch;
        }

        @Override
        public Batch onAfterBatchTransfer(Batch batch, int dataloaderIdx) {
            calls.add("on_after_batch_transfer");
            return batch;
        }

        @Override
        public void onBeforeZeroGrad(io.github.djllightning.optim.Optimizer optimizer) {
            calls.add("on_before_zero_grad");
        }

        @Override
        public void onBeforeBackward(NDArray loss) {
            calls.add("on_before_backward");
        }

        @Override
        public void onAfterBackward() {
            calls.add("on_after_backward");
        }

        @Override
        public void onBeforeOptimizerStep(io.github.djllightning.optim.Optimizer optimizer) {
            calls.add("on_before_optimizer_step");
        }

        @Override
        public void onTrainBatchEnd(Map<String, Object> outputs, Batch batch, int batchIdx) {
            calls.add("on_train_batch_end");
        }
    }

    /** The module the user trains: it adds nothing to its base. */
    static final class DerivedModule extends BaseWithBatchHooks {}

    @Test
    void moduleHooksDeclaredInTheUsersBaseClassAreCalled() {
        // the Trainer skips module hooks whose default does nothing unless the module overrides them; an override in
        // a class between the module and LightningModule counts
        Trainer trainer = quiet(root).maxEpochs(1).numSanityValSteps(0).build();
        try (DerivedModule module = new DerivedModule()) {
            trainer.fit(module, BoringModule.data(manager, 2));
            List<String> batch = List.of("on_before_batch_transfer", "on_after_batch_transfer",
                    "on_before_zero_grad", "on_before_backward", "on_after_backward", "on_before_optimizer_step",
                    "on_train_batch_end");
            List<String> expected = new ArrayList<>(batch);
            expected.addAll(batch);
            assertThat(module.calls).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void onTrainBatchStartReturningEndEpochEndsTheEpochBeforeTheStep() {
        List<Event> events = new ArrayList<>();
        RecordingModule module = new RecordingModule(events);
        module.stopEpochAt(1);
        Trainer trainer = quiet(root)
                .maxEpochs(2)
                .callbacks(new RecordingCallback(events))
                .build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 4));
        }
        List<Event> epochStarts = events.stream().filter(e -> e.event().equals("on_train_batch_start")).toList();
        assertThat(epochStarts).extracting(Event::batchIdx).containsExactly(0, 1, 0, 1);
        assertThat(events).filteredOn(e -> e.event().equals("training_step"))
                .extracting(Event::batchIdx).containsExactly(0, 0);
        assertThat(events).filteredOn(e -> e.event().equals("on_train_batch_end"))
                .extracting(Event::batchIdx).containsExactly(0, 0);
        // both epochs still end with their hooks and count
        assertThat(names(events)).filteredOn(n -> n.equals(M + "on_train_epoch_end")).hasSize(2);
        assertThat(trainer.globalStep()).isEqualTo(2);
        assertThat(trainer.currentEpoch()).isEqualTo(2);
    }

    @Test
    void accumulationZeroesAtWindowStartsAndStepsAtWindowEndsAndTheLastPartialWindow() {
        List<Event> events = new ArrayList<>();
        RecordingModule module = new RecordingModule(events);
        Trainer trainer = quiet(root)
                .maxEpochs(2)
                .accumulateGradBatches(2)
                .callbacks(new RecordingCallback(events))
                .build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 5));
        }
        // the window restarts with each epoch: zero-grad at batches 0, 2, 4 and steps after 1, 3 and the last
        assertThat(events).filteredOn(e -> e.event().equals(M + "optimizer_zero_grad"))
                .extracting(Event::batchIdx).containsExactly(0, 2, 4, 0, 2, 4);
        assertThat(events).filteredOn(e -> e.event().equals("optimizer_step"))
                .extracting(Event::batchIdx).containsExactly(1, 3, 4, 1, 3, 4);
        assertThat(names(events)).filteredOn(n -> n.equals("on_before_optimizer_step")).hasSize(6);
        // backward runs on every batch
        assertThat(names(events)).filteredOn(n -> n.equals(M + "backward")).hasSize(10);
        // globalStep counts optimizer steps, not batches
        assertThat(events).filteredOn(e -> e.event().equals("on_train_batch_end"))
                .extracting(Event::globalStep).containsExactly(0L, 1L, 1L, 2L, 3L, 3L, 4L, 4L, 5L, 6L);
        assertThat(trainer.globalStep()).isEqualTo(6);

        // the per-batch order of an accumulating and of a stepping batch
        List<String> expected = new ArrayList<>();
        autoTrainBatch(expected, true, false);
        autoTrainBatch(expected, false, true);
        List<String> firstTwoBatches = names(events).subList(
                names(events).indexOf(M + "on_train_epoch_start") + 1,
                names(events).indexOf(M + "on_train_epoch_start") + 1 + expected.size());
        assertThat(firstTwoBatches).containsExactlyElementsOf(expected);
    }

    // ------------------------------------------------------------------ manual optimization

    /** Steps each of its optimizers by hand in trainingStep. */
    static class ManualModule extends RecordingModule {
        private final int optimizers;

        ManualModule(List<Event> events, int optimizers) {
            super(events);
            this.optimizers = optimizers;
            setAutomaticOptimization(false);
        }

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            events().add(new Event("training_step", currentEpoch(), globalStep(), null, batchIdx, null));
            for (LightningOptimizer opt : optimizers()) {
                opt.zeroGrad();
                NDArray loss = forward("layer", batch.getData().head()).square().mean();
                manualBackward(loss);
                opt.step();
            }
            return null;
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            List<io.github.djllightning.optim.Optimizer> list = new ArrayList<>();
            for (int i = 0; i < optimizers; i++) {
                list.add(new Sgd(parameters(), 0.1));
            }
            return OptimizerConfig.of(list.toArray(new io.github.djllightning.optim.Optimizer[0]));
        }
    }

    @Test
    void manualOptimizationFiresBackwardHooksAndCountsEveryStep() {
        List<Event> events = new ArrayList<>();
        ManualModule module = new ManualModule(events, 1);
        Trainer trainer = quiet(root)
                .maxEpochs(1)
                .callbacks(new RecordingCallback(events))
                .build();
        try (module) {
            DataLoader data = BoringModule.data(manager, 3);
            trainer.fit(module, data);
            assertThat(trainer.globalStep()).isEqualTo(3);
            List<String> batch = new ArrayList<>();
            transfer(batch);
            both(batch, "on_train_batch_start");
            batch.add("training_step");
            both(batch, "on_before_backward");
            batch.add(M + "backward");
            both(batch, "on_after_backward");
            both(batch, "on_before_optimizer_step");
            both(batch, "on_train_batch_end");
            List<String> all = names(events);
            int start = all.indexOf(M + "on_train_epoch_start") + 1;
            assertThat(all.subList(start, start + batch.size())).containsExactlyElementsOf(batch);
            // no automatic zero-grad hooks, no automatic clipping, no optimizerStep hook in manual mode
            assertThat(all).doesNotContain("on_before_zero_grad", M + "optimizer_zero_grad",
                    M + "configure_gradient_clipping", "optimizer_step");
            // the step counter seen inside trainingStep moves with each step
            assertThat(events).filteredOn(e -> e.event().equals("training_step"))
                    .extracting(Event::globalStep).containsExactly(0L, 1L, 2L);
        }
    }

    @Test
    void manualOptimizationWithTwoOptimizersCountsBothSteps() {
        List<Event> events = new ArrayList<>();
        ManualModule module = new ManualModule(events, 2);
        Trainer trainer = quiet(root).maxEpochs(1).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 3));
        }
        // Lightning counts every LightningOptimizer.step() of every optimizer
        assertThat(trainer.globalStep()).isEqualTo(6);
    }

    @Test
    void manualOptimizationRejectsGradientClippingAndAccumulation() {
        Trainer clipping = quiet(root).maxEpochs(1).gradientClipVal(0.5).build();
        try (ManualModule module = new ManualModule(new ArrayList<>(), 1)) {
            assertThatThrownBy(() -> clipping.fit(module, BoringModule.data(manager, 2)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("gradientClipVal=0.5")
                    .hasMessageContaining("manual optimization");
        }
        Trainer accumulating = quiet(root).maxEpochs(1).accumulateGradBatches(2).build();
        try (ManualModule module = new ManualModule(new ArrayList<>(), 1)) {
            assertThatThrownBy(() -> accumulating.fit(module, BoringModule.data(manager, 2)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("accumulateGradBatches=2")
                    .hasMessageContaining("manual optimization");
        }
    }

    // ------------------------------------------------------------------ validate, test, predict

    @Test
    void validateCallsSetupEvalHooksAndTeardown() {
        List<Event> events = new ArrayList<>();
        RecordingModule module = new RecordingModule(events);
        Trainer trainer = quiet(root).callbacks(new RecordingCallback(events)).build();
        try (module) {
            trainer.validate(module, BoringModule.data(manager, 2));
        }
        List<String> expected = new ArrayList<>();
        expected.add(M + "configure_callbacks");
        expected.add(M + "prepare_data");
        both(expected, "setup");
        expected.add(M + "configure_model");
        evalRun(expected, "validation", "validation_step", 2, true);
        both(expected, "teardown");
        assertThat(names(events)).containsExactlyElementsOf(expected);
        assertThat(first(events, "setup").arg()).isEqualTo("validate");
        assertThat(first(events, "validation_step").stage()).isEqualTo("validate");
    }

    @Test
    void testCallsSetupTestHooksAndTeardown() {
        List<Event> events = new ArrayList<>();
        RecordingModule module = new RecordingModule(events);
        Trainer trainer = quiet(root).callbacks(new RecordingCallback(events)).build();
        try (module) {
            trainer.test(module, BoringModule.data(manager, 3));
        }
        List<String> expected = new ArrayList<>();
        expected.add(M + "configure_callbacks");
        expected.add(M + "prepare_data");
        both(expected, "setup");
        expected.add(M + "configure_model");
        evalRun(expected, "test", "test_step", 3, true);
        both(expected, "teardown");
        assertThat(names(events)).containsExactlyElementsOf(expected);
        assertThat(first(events, "setup").arg()).isEqualTo("test");
    }

    @Test
    void predictCallsSetupPredictHooksAndTeardown() {
        List<Event> events = new ArrayList<>();
        RecordingModule module = new RecordingModule(events);
        Trainer trainer = quiet(root).callbacks(new RecordingCallback(events)).build();
        try (module) {
            trainer.predict(module, BoringModule.data(manager, 2));
        }
        List<String> expected = new ArrayList<>();
        expected.add(M + "configure_callbacks");
        expected.add(M + "prepare_data");
        both(expected, "setup");
        expected.add(M + "configure_model");
        expected.add(M + "on_predict_model_eval");
        both(expected, "on_predict_start");
        both(expected, "on_predict_epoch_start");
        for (int i = 0; i < 2; i++) {
            transfer(expected);
            both(expected, "on_predict_batch_start");
            expected.add("predict_step");
            both(expected, "on_predict_batch_end");
        }
        both(expected, "on_predict_epoch_end");
        both(expected, "on_predict_end");
        both(expected, "teardown");
        assertThat(names(events)).containsExactlyElementsOf(expected);
        assertThat(first(events, "setup").arg()).isEqualTo("predict");
    }

    // ------------------------------------------------------------------ data module

    /** A data module that records its hooks into the shared list. */
    static final class RecordingDataModule extends LightningDataModule {
        private final List<Event> events;
        private final DataLoader train;

        RecordingDataModule(List<Event> events, DataLoader train) {
            this.events = events;
            this.train = train;
        }

        @Override
        public void prepareData() {
            events.add(new Event("dm:prepare_data", 0, 0, null, null, null));
        }

        @Override
        public void setup(TrainerFn stage) {
            events.add(new Event("dm:setup", 0, 0, null, null, stage.toString()));
        }

        @Override
        public void teardown(TrainerFn stage) {
            events.add(new Event("dm:teardown", 0, 0, null, null, stage.toString()));
        }

        @Override
        public DataLoader trainDataloader() {
            events.add(new Event("dm:train_dataloader", 0, 0, null, null, null));
            return train;
        }
    }

    @Test
    void dataModuleHooksRunBeforeTheCallbacksAndTheModule() {
        List<Event> events = new ArrayList<>();
        RecordingModule module = new RecordingModule(events);
        RecordingDataModule datamodule = new RecordingDataModule(events, BoringModule.data(manager, 2));
        Trainer trainer = quiet(root).maxEpochs(1).callbacks(new RecordingCallback(events)).build();
        try (module) {
            trainer.fit(module, datamodule);
        }
        List<String> names = names(events);
        List<String> lifecycle = names.stream()
                .filter(n -> n.endsWith("prepare_data") || n.endsWith("setup") || n.endsWith("teardown"))
                .toList();
        assertThat(lifecycle).containsExactly(
                "dm:prepare_data", M + "prepare_data",
                "dm:setup", "setup", M + "setup",
                "dm:teardown", "teardown", M + "teardown");
        // the training loader is requested after setup and before training starts
        assertThat(names.indexOf("dm:train_dataloader")).isGreaterThan(names.indexOf(M + "setup"))
                .isLessThan(names.indexOf("on_train_start"));
        assertThat(events).filteredOn(e -> e.event().startsWith("dm:setup")).extracting(Event::arg)
                .containsExactly("fit");
        assertThat(trainer.datamodule()).isSameAs(datamodule);
        assertThat(trainer.globalStep()).isEqualTo(2);
    }
}
