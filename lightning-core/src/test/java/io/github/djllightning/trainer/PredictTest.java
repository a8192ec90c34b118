package io.github.djllightning.trainer;

import static io.github.djllightning.testing.TestTrainers.indexed;
import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.BoringModule;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code Trainer.predict}: one prediction per batch, kept usable after the run, or discarded on request. */
class PredictTest extends EngineTest {


    @TempDir
    Path root;

    private Trainer trainer(Callback... callbacks) {
        return quiet(root).maxEpochs(1).callbacks(callbacks).build();
    }

    /** The layer's output for rows [from, from + 4) of {@link io.github.djllightning.testing.TestTrainers#indexed}. */
    private static float[] expected(BoringModule module, int from, int rows) {
        try (NDManager scratch = manager.newSubManager()) {
            NDArray x = scratch.arange((float) from, (float) (from + rows)).reshape(rows, 1).repeat(1, 32);
            return module.forward("layer", x).toFloatArray();
        }
    }

    @Test
    void predictReturnsOnePredictionPerBatchUsableAfterTheRun() {
        BoringModule module = new BoringModule();
        try (module) {
            Trainer trainer = trainer();
            trainer.fit(module, BoringModule.data(manager, 2));
            List<Object> predictions = trainer.predict(module, indexed(manager, 10, 4, false));
            assertThat(predictions).hasSize(3).allMatch(p -> p instanceof NDArray);
            // another run must not free them
            trainer.predict(module, indexed(manager, 8, 4, false));
            trainer.validate(module, BoringModule.data(manager, 1));
            NDArray first = (NDArray) predictions.get(0);
            NDArray last = (NDArray) predictions.get(2);
            assertThat(first.getShape()).isEqualTo(new Shape(4, 2));
            assertThat(last.getShape()).isEqualTo(new Shape(2, 2));
            assertThat(first.toFloatArray()).containsExactly(expected(module, 0, 4), offset(1e-5f));
            assertThat(((NDArray) predictions.get(1)).toFloatArray())
                    .containsExactly(expected(module, 4, 4), offset(1e-5f));
            assertThat(last.toFloatArray()).containsExactly(expected(module, 8, 2), offset(1e-5f));
            assertThat(first.hasGradient()).isFalse();
        }
    }

    @Test
    void predictionsInMapsAndListsAreKeptToo() {
        BoringModule module = new BoringModule() {
            @Override
            public Object predictStep(Batch batch, int batchIdx, int dataloaderIdx) {
                NDArray out = forward("layer", batch.getData().head());
                return Map.of("out", out, "both", new NDList(out.argMax(1), out.max(new int[] {1})));
            }
        };
        try (module) {
            List<Object> predictions = trainer().predict(module, BoringModule.data(manager, 2));
            assertThat(predictions).hasSize(2);
            for (Object prediction : predictions) {
                Map<?, ?> map = (Map<?, ?>) prediction;
                assertThat(((NDArray) map.get("out")).toFloatArray()).hasSize(8);
                NDList both = (NDList) map.get("both");
                assertThat(both.get(0).getShape()).isEqualTo(new Shape(4));
                assertThat(both.get(1).toFloatArray()).hasSize(4);
            }
        }
    }

    @Test
    void severalLoadersGiveOneListEach() {
        try (BoringModule module = new BoringModule()) {
            List<List<Object>> predictions = trainer().predict(
                    module, List.of(BoringModule.data(manager, 2), BoringModule.data(manager, 3)), true);
            assertThat(predictions).hasSize(2);
            assertThat(predictions.get(0)).hasSize(2);
            assertThat(predictions.get(1)).hasSize(3);
        }
    }

    @Test
    void returnPredictionsFalseReturnsEmptyListsButCallbacksStillSeeEachPrediction() {
        List<Shape> seen = new ArrayList<>();
        Callback writer = new Callback() {
            @Override
            public void onPredictBatchEnd(
                    Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dlIdx) {
                seen.add(((NDArray) outputs).getShape());
            }
        };
        try (BoringModule module = new BoringModule()) {
            List<List<Object>> predictions = trainer(writer).predict(
                    module, List.of(BoringModule.data(manager, 3)), false);
            assertThat(predictions).hasSize(1);
            assertThat(predictions.get(0)).isEmpty();
        }
        assertThat(seen).containsExactly(new Shape(4, 2), new Shape(4, 2), new Shape(4, 2));
    }

    @Test
    void predictRunsInEvalModeWithoutGradientsAndRestoresTheMode() {
        List<Boolean> trainingDuringPredict = new ArrayList<>();
        List<Boolean> gradientDuringPredict = new ArrayList<>();
        BoringModule module = new BoringModule() {
            @Override
            public Object predictStep(Batch batch, int batchIdx, int dataloaderIdx) {
                trainingDuringPredict.add(isTraining());
                NDArray out = forward("layer", batch.getData().head());
                gradientDuringPredict.add(out.hasGradient());
                return out;
            }
        };
        try (module) {
            Trainer trainer = trainer();
            trainer.fit(module, BoringModule.data(manager, 1));
            assertThat(module.isTraining()).isTrue();
            trainer.predict(module, BoringModule.data(manager, 2));
            assertThat(module.isTraining()).isTrue();
            module.eval();
            trainer.predict(module, BoringModule.data(manager, 1));
            assertThat(module.isTraining()).isFalse();
        }
        assertThat(trainingDuringPredict).containsOnly(false).hasSize(3);
        assertThat(gradientDuringPredict).containsOnly(false);
    }

    @Test
    void predictOnALoaderOfUnknownLengthRunsUntilItEnds() {
        // a loader over a plain Iterable of batches: its length is unknown
        List<Batch> made = new ArrayList<>();
        Iterable<Batch> stream = () -> new java.util.Iterator<>() {
            private int i;

            @Override
            public boolean hasNext() {
                return i < 3;
            }

            @Override
            public Batch next() {
                NDManager batchManager = manager.newSubManager();
                i++;
                Batch batch = new Batch(batchManager, new NDList(batchManager.ones(new Shape(4, 32))), new NDList(),
                        4, null, null, i - 1, 3);
                made.add(batch);
                return batch;
            }
        };
        DataLoader loader = DataLoader.of(new StreamOnly(stream)).build();
        assertThat(loader.numBatches()).isEqualTo(-1);
        try (BoringModule module = new BoringModule()) {
            assertThat(trainer().predict(module, loader)).hasSize(3);
        }
        assertThat(made).hasSize(3);
    }

    /** Hides the collection type of an iterable, so the loader cannot know its length. */
    private record StreamOnly(Iterable<Batch> inner) implements Iterable<Batch> {
        @Override
        public java.util.Iterator<Batch> iterator() {
            return inner.iterator();
        }
    }
}
