package io.github.djllightning.tuner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.checkpoint.StateDict;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.data.Offset;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learning-rate range test on a real model: a small MLP on 512 MNIST images, plain SGD, batches of 32 (16 per
 * epoch, so the default 100 steps span 7 epochs).
 */
class LrFinderTest {

    @TempDir
    Path root;

    private Trainer trainer() {
        return TestTrainers.quiet(root).seed(42).build();
    }

    @Test
    void suggestsARateWhereTheLossFallsFastestAndTheModelTrainsWithIt() {
        try (MnistClassifier.Typed model = new MnistClassifier.Typed()) {
            Trainer trainer = TestTrainers.quiet(root).seed(42).maxEpochs(2).build();
            LrFinderResult result = new Tuner(trainer).lrFind(model, MnistClassifier.loader(32));

            assertThat(result.lrs()).hasSize(100);
            assertThat(result.losses()).hasSize(100).allMatch(Double::isFinite);
            assertThat(result.diverged()).isFalse();
            assertThat(result.lrs().get(0)).isEqualTo(1e-8);
            for (int k = 1; k < 100; k++) {
                assertThat(result.lrs().get(k)).isCloseTo(1e-8 * Math.pow(1e8, (k + 1) / 100.0),
                        Percentage.withPercentage(1e-9));
            }
            // SGD barely moves this model below 1e-3: the curve is flat there, and the suggestion is past it
            int index = result.suggestionIndex(10, 1).getAsInt();
            double suggestion = result.suggestion().getAsDouble();
            assertThat(suggestion).isBetween(1e-3, 1.0);
            List<Double> losses = result.losses();
            assertThat(losses.get(index + 2)).isLessThan(losses.get(index - 2));
            double plateau = losses.subList(10, 40).stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            assertThat(losses.get(index)).isLessThan(plateau);
            // updateAttr: the module trains with the suggestion from now on, and it trains
            assertThat(model.learningRate()).isEqualTo(suggestion);
            trainer.fit(model, MnistClassifier.loader(32));
            assertThat(trainer.optimizers().get(0).lr()).isEqualTo(suggestion);
            assertThat(trainer.callbackMetrics().get("train_loss")).isLessThan(1.5);
        }
    }

    @Test
    void stopsEarlyWhenTheLossDiverges() {
        try (MnistClassifier model = new MnistClassifier()) {
            LrFinderResult result = new Tuner(trainer()).lrFind(model, MnistClassifier.loader(32),
                    LrFinderOptions.builder().maxLr(1e3).updateAttr(false).build());

            assertThat(result.diverged()).isTrue();
            assertThat(result.losses()).hasSizeLessThan(100).hasSameSizeAs(result.lrs());
            List<Double> losses = result.losses();
            double last = losses.get(losses.size() - 1);
            double best = losses.subList(0, losses.size() - 1).stream().mapToDouble(Double::doubleValue).min()
                    .orElseThrow();
            assertThat(!Double.isFinite(last) || last > 4 * best).isTrue();
            assertThat(result.summary()).contains("stopped early: the loss diverged");
            assertThat(model.hparams().get("lr")).isEqualTo(0.05);
        }
    }

    /** The classifier with Adam handed out again by every configureOptimizers, so the search steps the fit's own. */
    static final class SharedAdam extends MnistClassifier {
        private Adam adam;

        @Override
        public OptimizerConfig configureOptimizers() {
            super.configureOptimizers();
            if (adam == null) {
                adam = new Adam(parameters(), 1e-3);
            }
            return OptimizerConfig.of(adam);
        }
    }

    private static Map<String, Object> snapshot(Optimizer optimizer) {
        StateDict state = optimizer.stateDict();
        Map<String, Object> out = new LinkedHashMap<>(state.values());
        for (Map.Entry<String, NDArray> tensor : state.tensors().entrySet()) {
            out.put(tensor.getKey(), java.util.Arrays.toString(tensor.getValue().toFloatArray()));
        }
        return out;
    }

    private List<String> hiddenFolders() throws IOException {
        try (Stream<Path> files = Files.list(root)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
        }
    }

    @Test
    void leavesTheModuleTheOptimizerAndTheTrainerExactlyAsTheyWere() throws IOException {
        try (SharedAdam model = new SharedAdam()) {
            ModelCheckpoint checkpoints = ModelCheckpoint.builder().dirpath(root.resolve("ckpt")).build();
            Trainer trainer = TestTrainers.quiet(root).seed(42).maxEpochs(1).enableCheckpointing(true)
                    .callbacks(checkpoints).build();
            trainer.fit(model, MnistClassifier.loader(32));
            List<float[]> weights = TestTrainers.weights(model);
            Map<String, Object> adam = snapshot(trainer.optimizers().get(0));
            Map<String, Object> loops = trainer.fitLoop().stateDict();
            Map<String, Object> checkpointState = checkpoints.stateDict();
            long step = trainer.globalStep();
            int epoch = trainer.currentEpoch();

            LrFinderResult result = new Tuner(trainer).lrFind(model, MnistClassifier.loader(32),
                    LrFinderOptions.builder().numTraining(40).updateAttr(false).build());

            assertThat(result.lrs()).hasSize(40);
            assertThat(TestTrainers.sameWeights(TestTrainers.weights(model), weights)).isTrue();
            assertThat(snapshot(trainer.optimizers().get(0))).isEqualTo(adam);
            assertThat(trainer.optimizers().get(0).lr()).isEqualTo(1e-3);
            assertThat(trainer.fitLoop().stateDict()).isEqualTo(loops);
            assertThat(checkpoints.stateDict()).isEqualTo(checkpointState);
            assertThat(trainer.globalStep()).isEqualTo(step).isEqualTo(16);
            assertThat(trainer.currentEpoch()).isEqualTo(epoch).isEqualTo(1);
            assertThat(model.getTrainer()).isSameAs(trainer);
            assertThat(model.isTraining()).isTrue();
            assertThat(hiddenFolders()).isEmpty();
            // the search did train: its losses moved once the rate grew
            assertThat(result.losses().get(39)).isNotEqualTo(result.losses().get(0));
        }
    }

    @Test
    void writesTheSuggestionToTheHyperparameterOrExplainsWhereItCannot() {
        LrFinderOptions quick = LrFinderOptions.builder().minLr(1e-4).numTraining(20).build();
        try (MnistClassifier model = new MnistClassifier()) {
            LrFinderResult result = new Tuner(trainer()).lrFind(model, MnistClassifier.loader(32), quick);
            assertThat(model.hparams().get("lr")).isEqualTo(result.suggestion().getAsDouble());
        }
        try (MnistClassifier model = new MnistClassifier(false)) {
            assertThatThrownBy(() -> new Tuner(trainer()).lrFind(model, MnistClassifier.loader(32), quick))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("HasLearningRate")
                    .hasMessageContaining("\"learning_rate\"")
                    .hasMessageContaining("updateAttr(false)");
            LrFinderResult result = new Tuner(trainer()).lrFind(model, MnistClassifier.loader(32),
                    LrFinderOptions.builder().minLr(1e-4).numTraining(20).updateAttr(false).build());
            assertThat(result.lrs()).hasSize(20);
            assertThat(model.hparams()).isEmpty();
        }
        try (MnistClassifier model = new MnistClassifier()) {
            assertThatThrownBy(() -> new Tuner(trainer()).lrFind(model, MnistClassifier.loader(32),
                    LrFinderOptions.builder().attrName("base_lr").build()))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("\"base_lr\"")
                    .hasMessageContaining("[lr, batch_size]");
        }
    }

    @Test
    void linearModeAndGradientAccumulationRecordOneRatePerOptimizerStep() {
        try (MnistClassifier model = new MnistClassifier()) {
            Trainer trainer = TestTrainers.quiet(root).seed(42).accumulateGradBatches(2).build();
            LrFinderResult result = new Tuner(trainer).lrFind(model, MnistClassifier.loader(32),
                    LrFinderOptions.builder().mode("linear").minLr(0.01).maxLr(0.2).numTraining(20)
                            .updateAttr(false).build());
            assertThat(result.lrs()).hasSize(20);
            assertThat(result.lrs().get(0)).isEqualTo(0.01);
            for (int k = 2; k < 20; k++) {
                assertThat(result.lrs().get(k) - result.lrs().get(k - 1)).isCloseTo(0.19 / 20, Offset.offset(1e-12));
            }
            assertThat(result.lrs().get(19)).isCloseTo(0.2, Offset.offset(1e-12));
        }
    }

    @Test
    void isSkippedUnderFastDevRun() {
        try (MnistClassifier model = new MnistClassifier()) {
            Trainer trainer = TestTrainers.quiet(root).fastDevRun(true).build();
            LrFinderResult result = new Tuner(trainer).lrFind(model, MnistClassifier.loader(32));
            assertThat(result.lrs()).isEmpty();
            assertThat(result.suggestion()).isEmpty();
            assertThat(model.isInitialized()).isFalse();
            assertThat(model.hparams().get("lr")).isEqualTo(0.05);
        }
    }
}
