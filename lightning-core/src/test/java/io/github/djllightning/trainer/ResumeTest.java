package io.github.djllightning.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.checkpoint.CheckpointException;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.StepLR;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.TestTrainers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exact resume: a run resumed from a checkpoint (in a new Trainer, with a new module instance) ends bit for bit where
 * the uninterrupted run ends: the same weights, the same optimizer state, the same later checkpoints and the same
 * logged metrics. The model uses dropout and the data is shuffled, so the random numbers and the data position must
 * be restored too.
 */
class ResumeTest extends EngineTest {

    /** 240 real MNIST images, batches of 32: 8 batches per epoch, the last one of 16. */
    private static MnistDataset train;
    private static MnistDataset val;

    @TempDir
    Path root;

    @BeforeAll
    static void data() throws IOException {
        train = MnistDataset.builder().usage(Usage.TRAIN).limit(240).build();
        val = MnistDataset.builder().usage(Usage.TEST).limit(64).build();
    }

    @AfterAll
    static void close() {
        train.close();
        val.close();
    }

    /** The seed autoencoder, smaller, with dropout in the encoder and a step-wise learning rate. */
    static final class DropoutAutoEncoder extends LightningModule {
        private final Block encoder = addChildBlock("encoder", new SequentialBlock()
                .add(Linear.builder().setUnits(32).build())
                .add(Dropout.builder().optRate(0.25f).build())
                .add(Activation::relu)
                .add(Linear.builder().setUnits(3).build()));
        private final Block decoder = addChildBlock("decoder", new SequentialBlock()
                .add(Linear.builder().setUnits(32).build())
                .add(Activation::relu)
                .add(Linear.builder().setUnits(784).build()));

        private NDArray loss(Batch batch) {
            NDArray x = batch.getData().head().reshape(-1, 784);
            return forward(decoder, forward(encoder, x)).sub(x).square().mean();
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            NDArray loss = loss(batch);
            log("train_loss", loss, io.github.djllightning.log.LogOptions.defaults().onStep(true).onEpoch(true));
            return loss;
        }

        @Override
        public Object validationStep(Batch batch, int batchIdx) {
            log("val_loss", loss(batch));
            return null;
        }

        @Override
        public NDList forward(NDList inputs) {
            return new NDList(forward(encoder, inputs.head().reshape(-1, 784)));
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            Adam adam = new Adam(parameters(), 1e-2);
            return OptimizerConfig.of(adam, new StepLR(adam, 1, 0.5));
        }
    }

    private Trainer trainer(Path dir) {
        return TestTrainers.quiet(dir)
                .logger(true)
                .enableCheckpointing(true)
                .logEveryNSteps(1)
                .maxEpochs(3)
                .seed(42)
                .callbacks(
                        ModelCheckpoint.builder().dirpath(dir.resolve("steps")).everyNTrainSteps(3).saveTopK(-1)
                                .build(),
                        ModelCheckpoint.builder().dirpath(dir.resolve("epochs")).saveTopK(-1).saveLast(true).build())
                .build();
    }

    private static DataLoader trainLoader() {
        return DataLoader.of(train).batchSize(32).shuffle(true).seed(5).build();
    }

    private static DataLoader valLoader() {
        return DataLoader.of(val).batchSize(32).build();
    }

    private List<float[]> fit(Path dir, String ckptPath) {
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            trainer(dir).fit(module, trainLoader(), valLoader(), ckptPath);
            return TestTrainers.weights(module);
        }
    }

    @Test
    void resumingMidEpochAndAtAnEpochEndEndsBitForBitWhereTheUninterruptedRunEnds() throws IOException {
        Path full = root.resolve("full");
        List<float[]> expected = fit(full, null);
        assertThat(Files.exists(full.resolve("steps/epoch=0-step=6.ckpt"))).isTrue();

        // mid-epoch: after batch 6 of 8 of the first epoch, shuffled data, dropout on
        Path mid = root.resolve("mid");
        List<float[]> resumedMid = fit(mid, full.resolve("steps/epoch=0-step=6.ckpt").toString());
        assertThat(TestTrainers.sameWeights(resumedMid, expected)).as("weights after a mid-epoch resume").isTrue();
        assertSameCheckpoints(full.resolve("steps"), mid.resolve("steps"), 7);
        assertSameCheckpoints(full.resolve("epochs"), mid.resolve("epochs"), 7);
        // the epoch accumulators are in the checkpoint: the resumed epoch's train_loss_epoch averages all 8 batches
        assertSameRows(metrics(full), metrics(mid), 6);

        // at an epoch end: after the first epoch's validation
        Path end = root.resolve("end");
        List<float[]> resumedEnd = fit(end, full.resolve("epochs/epoch=0-step=8.ckpt").toString());
        assertSameCheckpoints(full.resolve("steps"), end.resolve("steps"), 9);
        assertSameCheckpoints(full.resolve("epochs"), end.resolve("epochs"), 9);
        assertSameRows(metrics(full), metrics(end), 8);
        assertThat(TestTrainers.sameWeights(resumedEnd, expected)).as("weights after an epoch-end resume").isTrue();

    }

    @Test
    void resumeFromLastContinuesAndAFinishedRunDoesNothingMore() {
        Path dir = root.resolve("run");
        List<float[]> first = fit(dir, null);
        // "last" finds epochs/last.ckpt, written at the end of the third epoch: nothing is left to train
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            Trainer trainer = trainer(dir);
            trainer.fit(module, trainLoader(), valLoader(), "last");
            assertThat(trainer.currentEpoch()).isEqualTo(3);
            assertThat(trainer.globalStep()).isEqualTo(24);
            assertThat(TestTrainers.sameWeights(TestTrainers.weights(module), first)).isTrue();
        }
    }

    @Test
    void bestUsesTheCheckpointCallbacksBestFile() {
        Path dir = root.resolve("best");
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            ModelCheckpoint best = ModelCheckpoint.builder().dirpath(dir).monitor("val_loss").build();
            Trainer trainer = TestTrainers.quiet(dir).enableCheckpointing(true).maxEpochs(2).seed(3)
                    .callbacks(best).build();
            trainer.fit(module, trainLoader(), valLoader());
            double expected = best.bestModelScore();
            double validated = trainer.validate(module, List.of(valLoader()), "best").get(0).get("val_loss");
            assertThat(validated).as("val_loss of %s", best.bestModelPath()).isCloseTo(expected,
                    org.assertj.core.data.Offset.offset(1e-6));
            // resuming the fit from the best checkpoint in the same Trainer continues from its epoch
            trainer.fit(module, trainLoader(), valLoader(), "best");
            assertThat(trainer.currentEpoch()).isEqualTo(2);
        }
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            Trainer fresh = TestTrainers.quiet(root.resolve("fresh")).maxEpochs(2).build();
            assertThatThrownBy(() -> fresh.fit(module, trainLoader(), "best"))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("best");
        }
    }

    @Test
    void resumingWithFewerMaxEpochsThanDoneIsAClearError() {
        Path dir = root.resolve("run");
        fit(dir, null);
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            Trainer trainer = TestTrainers.quiet(root.resolve("again")).maxEpochs(2).build();
            assertThatThrownBy(() -> trainer.fit(module, trainLoader(), valLoader(),
                            dir.resolve("epochs/last.ckpt").toString()))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("currentEpoch=3")
                    .hasMessageContaining("maxEpochs=2");
        }
    }

    @Test
    void weightsOnlyCheckpointCannotResumeButValidateLoadsItIntoANewModule() {
        Path dir = root.resolve("run");
        double trained;
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            Trainer trainer = TestTrainers.quiet(dir).maxEpochs(1).seed(1).build();
            trainer.fit(module, trainLoader());
            trainer.saveCheckpoint(dir.resolve("w.ckpt"), true);
            trained = trainer.validate(module, List.of(valLoader())).get(0).get("val_loss");
        }
        try (DropoutAutoEncoder fresh = new DropoutAutoEncoder()) {
            double loaded = TestTrainers.quiet(root.resolve("v")).build()
                    .validate(fresh, List.of(valLoader()), dir.resolve("w.ckpt").toString()).get(0).get("val_loss");
            assertThat(loaded).isEqualTo(trained);
        }
        // predict with the checkpoint's weights gives the trained module's codes
        float[] expectedCodes;
        try (DropoutAutoEncoder trainedAgain = new DropoutAutoEncoder()) {
            TestTrainers.quiet(root.resolve("p1")).build()
                    .validate(trainedAgain, List.of(valLoader()), dir.resolve("w.ckpt").toString());
            expectedCodes = ((NDList) TestTrainers.quiet(root.resolve("p2")).build()
                    .predict(trainedAgain, valLoader()).get(0)).head().toFloatArray();
        }
        try (DropoutAutoEncoder fresh = new DropoutAutoEncoder()) {
            List<List<Object>> predicted = TestTrainers.quiet(root.resolve("p3")).build()
                    .predict(fresh, List.of(valLoader()), true, dir.resolve("w.ckpt").toString());
            assertThat(((NDList) predicted.get(0).get(0)).head().toFloatArray()).containsExactly(expectedCodes);
        }
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            Trainer trainer = TestTrainers.quiet(root.resolve("b")).maxEpochs(2).build();
            assertThatThrownBy(() -> trainer.fit(module, trainLoader(), (DataLoader) null,
                            dir.resolve("w.ckpt").toString()))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("weights only");
        }
    }

    @Test
    void missingCheckpointAndMismatchedModuleNameTheProblem() {
        Path dir = root.resolve("run");
        fit(dir, null);
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            Trainer trainer = TestTrainers.quiet(root.resolve("b")).maxEpochs(4).build();
            assertThatThrownBy(() -> trainer.fit(module, trainLoader(), (DataLoader) null, root.resolve("nope.ckpt").toString()))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("nope.ckpt")
                    .hasMessageContaining("no such file");
        }
        LightningModule other = new LightningModule() {
            {
                addChildBlock("encoder", Linear.builder().setUnits(3).build());
            }

            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                return forward("encoder", batch.getData().head().reshape(-1, 784)).sum();
            }

            @Override
            public OptimizerConfig configureOptimizers() {
                return OptimizerConfig.of(new Adam(parameters(), 1e-3));
            }
        };
        try (other) {
            Trainer trainer = TestTrainers.quiet(root.resolve("c")).maxEpochs(4).build();
            assertThatThrownBy(() -> trainer.fit(other, trainLoader(), (DataLoader) null, dir.resolve("epochs/last.ckpt").toString()))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("last.ckpt");
        }
    }

    /** Fits with gradient accumulation, optionally stopping early; returns the final weights. */
    private List<float[]> accumulating(Path dir, int maxSteps, String ckptPath,
            io.github.djllightning.callback.Callback... callbacks) {
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            Trainer trainer = TestTrainers.quiet(dir).maxEpochs(2).maxSteps(maxSteps).accumulateGradBatches(3)
                    .seed(42).callbacks(callbacks).build();
            try {
                trainer.fit(module, trainLoader(), ckptPath);
            } catch (TrainingInterruptedException e) {
                assertThat(e.checkpoint()).exists();
            }
            return TestTrainers.weights(module);
        }
    }

    @Test
    void checkpointsOnAccumulatingBatchesAndInterruptsResumeExactly() {
        // 8 batches per epoch, accumulating 3: steps after batches 2, 5 and 7 (the last) of each epoch
        List<float[]> expected = accumulating(root.resolve("full"), -1, null);
        Path saved = root.resolve("acc.ckpt");
        io.github.djllightning.callback.Callback saveOnAccumulatingBatch = new io.github.djllightning.callback.Callback() {
            @Override
            public void onTrainBatchEnd(Trainer trainer, LightningModule module, Map<String, Object> outputs,
                    Batch batch, int batchIdx) {
                if (trainer.currentEpoch() == 0 && batchIdx == 4) {
                    trainer.saveCheckpoint(saved);
                }
            }
        };
        accumulating(root.resolve("first"), -1, null, saveOnAccumulatingBatch);
        assertThat(TestTrainers.sameWeights(accumulating(root.resolve("resumed"), -1, saved.toString()), expected))
                .as("resumed from a checkpoint written on an accumulating batch").isTrue();

        // an interrupt asked for on an accumulating batch waits for the next optimizer step
        Path stopped = root.resolve("stopped");
        io.github.djllightning.callback.Callback interruptAtBatch1 = new io.github.djllightning.callback.Callback() {
            @Override
            public void onTrainBatchEnd(Trainer trainer, LightningModule module, Map<String, Object> outputs,
                    Batch batch, int batchIdx) {
                if (trainer.currentEpoch() == 1 && batchIdx == 1) {
                    trainer.requestInterrupt("TERM");
                }
            }
        };
        accumulating(stopped, -1, null, interruptAtBatch1);
        Path last = stopped.resolve("checkpoints/last.ckpt");
        assertThat(CheckpointReader.readEntries(last)).containsEntry("global_step", 4L);
        assertThat(TestTrainers.sameWeights(accumulating(root.resolve("after-stop"), -1, last.toString()), expected))
                .as("resumed after an interrupt").isTrue();
    }

    @Test
    void aFitStoppedByMaxStepsMidEpochResumesInThatEpoch() {
        List<float[]> expected = accumulating(root.resolve("full"), 5, null);
        Path dir = root.resolve("short");
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            Trainer trainer = TestTrainers.quiet(dir).maxEpochs(2).maxSteps(2).accumulateGradBatches(3).seed(42)
                    .build();
            trainer.fit(module, trainLoader());
            // written after the fit returned: the epoch was closed at step 2, after 6 of its 8 batches
            trainer.saveCheckpoint(dir.resolve("after.ckpt"));
        }
        List<float[]> resumed = accumulating(root.resolve("more"), 5, dir.resolve("after.ckpt").toString());
        assertThat(TestTrainers.sameWeights(resumed, expected)).isTrue();
    }

    /** Writes a copy of a checkpoint with one change to its JSON. */
    private Path edited(Path source, String name, java.util.function.Consumer<Map<String, Object>> change) {
        Path target = root.resolve(name);
        try (NDManager scope = manager.newSubManager()) {
            Checkpoint checkpoint = CheckpointReader.read(source, scope);
            change.accept(checkpoint.entries());
            io.github.djllightning.checkpoint.CheckpointWriter.write(checkpoint, target);
        }
        return target;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fitLoop(Map<String, Object> entries) {
        return (Map<String, Object>) ((Map<String, Object>) entries.get("loops")).get("fit_loop");
    }

    @Test
    void damagedTrainingStateNamesTheFieldInsteadOfFailingLater() {
        Path full = root.resolve("full");
        fit(full, null);
        Path mid = full.resolve("steps/epoch=0-step=6.ckpt");
        Path shapes = edited(mid, "shapes.ckpt", e -> e.put("input_shapes", Map.of("encoder", List.of(List.of()))));
        Path cursor = edited(mid, "cursor.ckpt", e -> ((Map<String, Object>) fitLoop(e).get("data_position"))
                .put("batch", 40L));
        Path results = edited(mid, "results.ckpt", e -> fitLoop(e).put("results", List.of(Map.of("hook", "NOPE"))));
        Map<Path, String> expectedField = Map.of(
                shapes, "input_shapes.encoder",
                cursor, "loops.fit_loop.data_position.batch",
                results, "loops.fit_loop");
        for (Map.Entry<Path, String> damaged : expectedField.entrySet()) {
            try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
                Trainer trainer = TestTrainers.quiet(root.resolve("again")).maxEpochs(3).build();
                assertThatThrownBy(() -> trainer.fit(module, trainLoader(), damaged.getKey().toString()))
                        .isInstanceOf(CheckpointException.class)
                        .satisfies(e -> assertThat(((CheckpointException) e).field()).isEqualTo(damaged.getValue()))
                        .hasMessageContaining(damaged.getKey().getFileName().toString());
            }
        }
    }

    @Test
    void maxTimeSpansResumes() {
        Path file = root.resolve("slow.ckpt");
        io.github.djllightning.callback.Callback slow = new io.github.djllightning.callback.Callback() {
            @Override
            public void onTrainBatchEnd(Trainer trainer, LightningModule module, Map<String, Object> outputs,
                    Batch batch, int batchIdx) {
                try {
                    Thread.sleep(60);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(1).callbacks(slow).build();
            trainer.fit(module, trainLoader());
            assertThat(trainer.trainingTime()).isGreaterThanOrEqualTo(java.time.Duration.ofMillis(8 * 60));
            trainer.saveCheckpoint(file);
        }
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            // the checkpointed run trained for more than 0.4 s already: the resumed fit stops after one batch
            Trainer trainer = TestTrainers.quiet(root.resolve("b")).maxEpochs(5)
                    .maxTime(java.time.Duration.ofMillis(400)).build();
            trainer.fit(module, trainLoader(), file.toString());
            assertThat(trainer.globalStep()).isEqualTo(9);
            assertThat(trainer.stopReason()).contains("maxTime");
        }
    }

    /** A data module and a callback with state: both come back from the checkpoint, under their keys. */
    @Test
    void dataModuleAndCallbackStatesComeBack() {
        final class CountingData extends io.github.djllightning.module.LightningDataModule {
            long served;
            Map<String, Object> loaded;

            @Override
            public DataLoader trainDataloader() {
                served++;
                return trainLoader();
            }

            @Override
            public Map<String, Object> stateDict() {
                return Map.of("served", served);
            }

            @Override
            public void loadStateDict(Map<String, Object> state) {
                loaded = state;
            }
        }
        final class CountingCallback implements io.github.djllightning.callback.Callback {
            long batches;
            Map<String, Object> loaded;
            boolean hookSawCheckpoint;

            @Override
            public void onTrainBatchEnd(Trainer trainer, LightningModule module, Map<String, Object> outputs,
                    Batch batch, int batchIdx) {
                batches++;
            }

            @Override
            public Map<String, Object> stateDict() {
                return Map.of("batches", batches);
            }

            @Override
            public void loadStateDict(Map<String, Object> state) {
                loaded = state;
            }

            @Override
            public void onLoadCheckpoint(Trainer trainer, LightningModule module, Checkpoint checkpoint) {
                hookSawCheckpoint = checkpoint.entries().containsKey("callbacks") && loaded == null;
            }
        }
        Path file = root.resolve("dm.ckpt");
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            CountingData data = new CountingData();
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(1).callbacks(new CountingCallback()).build();
            trainer.fit(module, data);
            trainer.saveCheckpoint(file);
        }
        try (DropoutAutoEncoder module = new DropoutAutoEncoder()) {
            CountingData data = new CountingData();
            CountingCallback callback = new CountingCallback();
            Trainer trainer = TestTrainers.quiet(root.resolve("b")).maxEpochs(2).callbacks(callback).build();
            trainer.fit(module, data, file.toString());
            assertThat(data.loaded).isEqualTo(Map.of("served", 1L));
            assertThat(callback.loaded).isEqualTo(Map.of("batches", 8L));
            assertThat(callback.hookSawCheckpoint).as("onLoadCheckpoint runs before loadStateDict").isTrue();
            assertThat(trainer.globalStep()).isEqualTo(16);
        }
    }

    private static void assertSameCheckpoints(Path expectedDir, Path actualDir, long fromStep) throws IOException {
        List<Path> written;
        try (Stream<Path> files = Files.list(actualDir)) {
            written = files.filter(f -> f.getFileName().toString().endsWith(".ckpt")).sorted()
                    .collect(Collectors.toList());
        }
        assertThat(written).as("checkpoints written after resuming in %s", actualDir).isNotEmpty();
        for (Path file : written) {
            Path counterpart = expectedDir.resolve(file.getFileName());
            assertThat(counterpart).as("the uninterrupted run wrote %s too", file.getFileName()).exists();
            try (NDManager scope = manager.newSubManager()) {
                Checkpoint a = CheckpointReader.read(counterpart, scope);
                Checkpoint b = CheckpointReader.read(file, scope);
                assertThat((Long) b.entries().get("global_step")).isGreaterThanOrEqualTo(fromStep);
                for (String key : new String[] {"epoch", "global_step", "loops", "optimizer_states", "lr_schedulers"}) {
                    assertThat(b.entries().get(key)).as("%s of %s", key, file.getFileName())
                            .isEqualTo(a.entries().get(key));
                }
                for (String group : new String[] {"state_dict", "optimizer_states"}) {
                    Map<String, NDArray> ta = a.tensors(group);
                    Map<String, NDArray> tb = b.tensors(group);
                    assertThat(tb.keySet()).isEqualTo(ta.keySet());
                    for (String name : ta.keySet()) {
                        assertThat(tb.get(name).toFloatArray()).as("%s %s of %s", group, name, file.getFileName())
                                .containsExactly(ta.get(name).toFloatArray());
                    }
                }
            }
        }
    }

    private static List<String> metrics(Path dir) throws IOException {
        return Files.readAllLines(dir.resolve("lightning_logs/version_0/metrics.csv"));
    }

    /** The rows at or after a step are identical (same header, same values). */
    private static void assertSameRows(List<String> expected, List<String> actual, long fromStep) {
        assertThat(actual.get(0)).isEqualTo(expected.get(0));
        int stepColumn = List.of(expected.get(0).split(",")).indexOf("step");
        List<String> tail = new ArrayList<>();
        for (String row : expected.subList(1, expected.size())) {
            if (Long.parseLong(row.split(",", -1)[stepColumn]) >= fromStep) {
                tail.add(row);
            }
        }
        assertThat(tail).isNotEmpty();
        assertThat(actual.subList(1, actual.size())).containsExactlyElementsOf(tail);
    }
}
