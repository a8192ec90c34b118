package io.github.djllightning.loop;

import static io.github.djllightning.testing.TestTrainers.indexed;
import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.Event;
import io.github.djllightning.testing.RecordingCallback;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When fit stops and how many batches each loop uses: stop requests (validated first, held back by minEpochs and
 * minSteps), maxSteps, maxTime, batch limits, overfitBatches, fastDevRun, the sanity check and the validation
 * schedule.
 */
class StopAndLimitsTest extends EngineTest {


    @TempDir
    Path root;

    /** Requests a stop once, after the training batch with the given index of the first epoch. */
    static final class StopAt implements Callback {
        private final int batchIdx;
        private boolean requested;

        StopAt(int batchIdx) {
            this.batchIdx = batchIdx;
        }

        @Override
        public void onTrainBatchEnd(
                Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int idx) {
            if (!requested && idx == batchIdx) {
                requested = true;
                trainer.requestStop("test asked to stop at batch " + idx);
            }
        }
    }

    private static List<Event> named(List<Event> events, String name) {
        return events.stream().filter(e -> e.event().equals(name)).toList();
    }

    private Trainer run(TrainerConfig.Builder<Trainer> builder, List<Event> events, int train, int val) {
        Trainer trainer = builder.callbacks(new RecordingCallback(events)).build();
        try (BoringModule module = new BoringModule(events)) {
            if (val == 0) {
                trainer.fit(module, BoringModule.data(manager, train));
            } else {
                trainer.fit(module, BoringModule.data(manager, train), BoringModule.data(manager, val));
            }
        }
        return trainer;
    }

    // ------------------------------------------------------------------ stop requests

    @Test
    void aStopRequestValidatesFirstThenStops() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = run(quiet(root).maxEpochs(3).numSanityValSteps(0).callbacks(new StopAt(1)), events, 4, 2);
        assertThat(named(events, "training_step")).extracting(Event::batchIdx).containsExactly(0, 1);
        // validation ran right after the stopping batch, although it is not the epoch's last
        List<Event> valSteps = named(events, "validation_step");
        assertThat(valSteps).hasSize(2).allMatch(e -> e.globalStep() == 2 && "validate".equals(e.stage()));
        int stopBatchEnd = events.indexOf(named(events, "on_train_batch_end").get(1));
        assertThat(events.indexOf(valSteps.get(0))).isGreaterThan(stopBatchEnd);
        // the epoch still ends properly, and nothing follows
        assertThat(named(events, "on_train_epoch_end")).hasSize(1);
        assertThat(named(events, "on_train_end")).hasSize(1);
        assertThat(trainer.globalStep()).isEqualTo(2);
        assertThat(trainer.currentEpoch()).isEqualTo(1);
        assertThat(trainer.shouldStop()).isTrue();
        assertThat(trainer.stopReason()).isEqualTo("test asked to stop at batch 1");
    }

    @Test
    void aStopRequestWithoutValidationStopsAfterTheBatch() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = run(quiet(root).maxEpochs(3).callbacks(new StopAt(2)), events, 5, 0);
        assertThat(named(events, "training_step")).extracting(Event::batchIdx).containsExactly(0, 1, 2);
        assertThat(trainer.globalStep()).isEqualTo(3);
    }

    @Test
    void minEpochsHoldsAStopRequestBack() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = run(quiet(root).maxEpochs(5).minEpochs(2).callbacks(new StopAt(0)), events, 4, 0);
        // the request comes at the very first batch, yet two full epochs run
        assertThat(trainer.globalStep()).isEqualTo(8);
        assertThat(trainer.currentEpoch()).isEqualTo(2);
        assertThat(named(events, "on_train_epoch_end")).hasSize(2);
    }

    @Test
    void minStepsHoldsAStopRequestBack() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = run(quiet(root).maxEpochs(5).minSteps(6).callbacks(new StopAt(0)), events, 4, 0);
        // it stops as soon as 6 optimizer steps are done, in the middle of the second epoch
        assertThat(trainer.globalStep()).isEqualTo(6);
        assertThat(named(events, "training_step")).extracting(Event::batchIdx).containsExactly(0, 1, 2, 3, 0, 1);
    }

    // ------------------------------------------------------------------ step and time limits

    @Test
    void maxStepsStopsInTheMiddleOfAnEpoch() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = run(quiet(root).maxSteps(3), events, 4, 0);
        assertThat(trainer.globalStep()).isEqualTo(3);
        assertThat(named(events, "training_step")).extracting(Event::batchIdx).containsExactly(0, 1, 2);
        assertThat(named(events, "on_train_end")).hasSize(1);
    }

    @Test
    void maxStepsCountsOptimizerStepsNotBatches() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = run(quiet(root).maxSteps(3).accumulateGradBatches(2), events, 4, 0);
        assertThat(trainer.globalStep()).isEqualTo(3);
        assertThat(named(events, "training_step")).hasSize(6);
    }

    @Test
    void maxTimeStopsTraining() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = quiet(root).maxEpochs(100).maxTime(Duration.ofMillis(150))
                .callbacks(new RecordingCallback(events)).build();
        BoringModule slow = new BoringModule(events) {
            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.trainingStep(batch, batchIdx);
            }
        };
        long start = System.nanoTime();
        try (slow) {
            trainer.fit(slow, BoringModule.data(manager, 2));
        }
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        // 100 epochs of 2 batches would take 4 s; the limit ends it after about 8 steps
        assertThat(trainer.globalStep()).isBetween(2L, 40L);
        assertThat(elapsedMillis).isLessThan(2000);
        assertThat(trainer.stopReason()).contains("maxTime");
        assertThat(named(events, "on_train_end")).hasSize(1);
    }

    // ------------------------------------------------------------------ batch limits

    @Test
    void limitTrainBatchesTakesAFractionOrACount() {
        List<Event> half = new ArrayList<>();
        assertThat(run(quiet(root).maxEpochs(2).limitTrainBatches(0.5), half, 4, 0).globalStep()).isEqualTo(4);
        assertThat(named(half, "training_step")).extracting(Event::batchIdx).containsExactly(0, 1, 0, 1);
        List<Event> three = new ArrayList<>();
        assertThat(run(quiet(root).maxEpochs(1).limitTrainBatches(3), three, 5, 0).globalStep()).isEqualTo(3);
    }

    @Test
    void limitTrainBatchesZeroSkipsTraining() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = run(quiet(root).maxEpochs(2).limitTrainBatches(0), events, 4, 0);
        assertThat(trainer.globalStep()).isZero();
        assertThat(named(events, "training_step")).isEmpty();
        assertThat(named(events, "on_fit_end")).hasSize(1);
    }

    @Test
    void evaluationAndPredictionLimits() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = quiet(root).limitValBatches(1).limitTestBatches(0.5).limitPredictBatches(2)
                .callbacks(new RecordingCallback(events)).build();
        try (BoringModule module = new BoringModule(events)) {
            trainer.validate(module, BoringModule.data(manager, 3));
            trainer.test(module, BoringModule.data(manager, 4));
            assertThat(trainer.predict(module, BoringModule.data(manager, 5))).hasSize(2);
        }
        assertThat(named(events, "validation_step")).hasSize(1);
        assertThat(named(events, "test_step")).hasSize(2);
    }

    /** Records the row index each training and validation batch starts with (see {@code TestTrainers.indexed}). */
    static final class FirstRowModule extends BoringModule {
        final List<Integer> trainRows = new ArrayList<>();
        final List<Integer> valRows = new ArrayList<>();

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            trainRows.add((int) batch.getData().head().getFloat(0, 0));
            return super.trainingStep(batch, batchIdx);
        }

        @Override
        public Object validationStep(Batch batch, int batchIdx) {
            if (!getTrainer().isSanityChecking()) {
                valRows.add((int) batch.getData().head().getFloat(0, 0));
            }
            return super.validationStep(batch, batchIdx);
        }
    }

    @Test
    void overfitBatchesTrainsAndValidatesOnTheSameFirstBatchesWithoutShuffling() {
        DataLoader train = indexed(manager, 16, 4, true);
        DataLoader val = indexed(manager, 16, 4, true);
        // control: the loaders do shuffle
        FirstRowModule control = new FirstRowModule();
        try (control) {
            quiet(root).maxEpochs(1).numSanityValSteps(0).build().fit(control, train, val);
        }
        assertThat(control.trainRows).isNotEqualTo(List.of(0, 4, 8, 12));

        FirstRowModule module = new FirstRowModule();
        Trainer trainer = quiet(root).maxEpochs(2).overfitBatches(2).build();
        try (module) {
            trainer.fit(module, train, val);
        }
        assertThat(module.trainRows).containsExactly(0, 4, 0, 4);
        assertThat(module.valRows).containsExactly(0, 4, 0, 4);
    }

    @Test
    void fastDevRunRunsNBatchesOfEachLoopAndWritesNothing() throws IOException {
        List<Event> events = new ArrayList<>();
        // logger and checkpointing stay at their defaults (on)
        Trainer trainer = Trainer.builder().defaultRootDir(root).enableProgressBar(false).enableModelSummary(false)
                .maxEpochs(5).fastDevRun(2).callbacks(new RecordingCallback(events)).build();
        try (BoringModule module = new BoringModule(events)) {
            trainer.fit(module, BoringModule.data(manager, 5), BoringModule.data(manager, 4));
            trainer.test(module, BoringModule.data(manager, 4));
            assertThat(trainer.predict(module, BoringModule.data(manager, 4))).hasSize(2);
        }
        assertThat(named(events, "on_sanity_check_start")).isEmpty();
        assertThat(named(events, "training_step")).hasSize(2);
        assertThat(named(events, "validation_step")).hasSize(2);
        assertThat(named(events, "test_step")).hasSize(2);
        assertThat(trainer.globalStep()).isEqualTo(2);
        assertThat(trainer.currentEpoch()).isEqualTo(1);
        assertThat(named(events, "on_save_checkpoint")).isEmpty();
        try (Stream<Path> files = Files.walk(root)) {
            assertThat(files.filter(Files::isRegularFile).toList()).isEmpty();
        }
    }

    @Test
    void theSanityCheckRunsTwoBatchesByDefaultAndAllWithMinusOne() {
        List<Event> byDefault = new ArrayList<>();
        run(quiet(root).maxEpochs(1), byDefault, 1, 3);
        assertThat(byDefault).filteredOn(e -> e.event().equals("validation_step") && "sanity_check".equals(e.stage()))
                .hasSize(2);
        List<Event> all = new ArrayList<>();
        run(quiet(root).maxEpochs(1).numSanityValSteps(-1), all, 1, 3);
        assertThat(all).filteredOn(e -> e.event().equals("validation_step") && "sanity_check".equals(e.stage()))
                .extracting(Event::batchIdx).containsExactly(0, 1, 2);
    }

    // ------------------------------------------------------------------ validation schedule

    private static List<Long> validationSteps(List<Event> events) {
        return events.stream().filter(e -> e.event().equals("on_validation_start") && "validate".equals(e.stage()))
                .map(Event::globalStep).toList();
    }

    @Test
    void aFractionalValCheckIntervalValidatesWithinTheEpoch() {
        List<Event> events = new ArrayList<>();
        run(quiet(root).maxEpochs(1).numSanityValSteps(0).valCheckInterval(0.5), events, 4, 1);
        assertThat(validationSteps(events)).containsExactly(2L, 4L);
    }

    @Test
    void anIntegerValCheckIntervalNeedNotCoincideWithTheEpochEnd() {
        List<Event> events = new ArrayList<>();
        run(quiet(root).maxEpochs(2).numSanityValSteps(0).valCheckInterval(3), events, 4, 1);
        // after the 3rd batch of each epoch only; the count restarts with the epoch
        assertThat(validationSteps(events)).containsExactly(3L, 7L);
    }

    @Test
    void checkValEveryNEpochSkipsEpochs() {
        List<Event> events = new ArrayList<>();
        run(quiet(root).maxEpochs(4).numSanityValSteps(0).checkValEveryNEpoch(2), events, 2, 1);
        assertThat(validationSteps(events)).containsExactly(4L, 8L);
    }

    @Test
    void withoutCheckValEveryNEpochTheIntervalCountsAcrossEpochs() {
        List<Event> events = new ArrayList<>();
        run(quiet(root).maxEpochs(3).numSanityValSteps(0).checkValEveryNEpoch(null).valCheckInterval(5), events, 3, 1);
        assertThat(validationSteps(events)).containsExactly(5L);
    }

    /** A loader over batches made on the fly, whose number the loader cannot know. */
    private static DataLoader unsized(int batches) {
        Iterable<Batch> stream = () -> new java.util.Iterator<>() {
            private int i;

            @Override
            public boolean hasNext() {
                return i < batches;
            }

            @Override
            public Batch next() {
                NDManager batchManager = manager.newSubManager();
                i++;
                return new Batch(batchManager, new ai.djl.ndarray.NDList(batchManager.randomNormal(
                        new ai.djl.ndarray.types.Shape(4, 32))), new ai.djl.ndarray.NDList(), 4, null, null, i - 1, 0);
            }
        };
        return DataLoader.of(stream).build();
    }

    @Test
    void aTrainingLoaderOfUnknownLengthValidatesAtItsLastBatch() {
        List<Event> events = new ArrayList<>();
        DataLoader train = unsized(3);
        assertThat(train.numBatches()).isEqualTo(-1);
        Trainer trainer = quiet(root).maxEpochs(2).numSanityValSteps(0).callbacks(new RecordingCallback(events))
                .build();
        try (BoringModule module = new BoringModule(events)) {
            trainer.fit(module, train, BoringModule.data(manager, 1));
        }
        assertThat(trainer.numTrainingBatches()).isEqualTo(-1);
        assertThat(validationSteps(events)).containsExactly(3L, 6L);
        assertThat(named(events, "training_step")).extracting(Event::batchIdx).containsExactly(0, 1, 2, 0, 1, 2);
    }
}
