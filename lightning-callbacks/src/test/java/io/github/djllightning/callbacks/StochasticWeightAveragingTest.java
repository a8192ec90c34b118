package io.github.djllightning.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.ParamGroup;
import io.github.djllightning.optim.Sgd;
import io.github.djllightning.optim.StepLR;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stochastic weight averaging on a small MNIST autoencoder: the final weights are the mean of the SWA epochs'
 * end-of-epoch weights, the learning rate follows the SWA schedule, and a resumed fit continues the same average.
 */
class StochasticWeightAveragingTest extends EngineTest {

    /** 128 MNIST images in batches of 32: 4 batches per epoch. */
    private static MnistDataset train;
    private static MnistDataset val;

    @TempDir
    Path root;

    @BeforeAll
    static void data() throws IOException {
        train = MnistDataset.builder().usage(Usage.TRAIN).limit(128).build();
        val = MnistDataset.builder().usage(Usage.TEST).limit(32).build();
    }

    @AfterAll
    static void close() {
        train.close();
        val.close();
    }

    /** A 784-16-784 autoencoder trained with SGD (lr 0.5), optionally halving the rate every epoch. */
    static final class TinyAutoEncoder extends LightningModule {
        private final boolean halveEveryEpoch;

        TinyAutoEncoder(boolean halveEveryEpoch) {
            this.halveEveryEpoch = halveEveryEpoch;
            addChildBlock("encoder", Linear.builder().setUnits(16).build());
            addChildBlock("decoder", Linear.builder().setUnits(784).build());
        }

        private NDArray loss(Batch batch) {
            NDArray x = batch.getData().head().reshape(-1, 784);
            return forward("decoder", Activation.relu(forward("encoder", x))).sub(x).square().mean();
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            return loss(batch);
        }

        @Override
        public Object validationStep(Batch batch, int batchIdx) {
            log("val_loss", loss(batch));
            return null;
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            Sgd sgd = new Sgd(parameters(), 0.5);
            return halveEveryEpoch ? OptimizerConfig.of(sgd, new StepLR(sgd, 1, 0.5)) : OptimizerConfig.of(sgd);
        }
    }

    /** Records group 0's learning rate at every epoch start and the weights at every epoch end. */
    static final class Recorder implements Callback {
        final Map<Integer, Double> lrs = new TreeMap<>();
        final Map<Integer, List<float[]>> weights = new TreeMap<>();

        @Override
        public void onTrainEpochStart(Trainer trainer, LightningModule module) {
            lrs.put(trainer.currentEpoch(), trainer.optimizers().get(0).paramGroups().get(0).lr());
        }

        @Override
        public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
            weights.put(trainer.currentEpoch(), TestTrainers.weights(module));
        }
    }

    private static DataLoader trainLoader() {
        return DataLoader.of(train).batchSize(32).shuffle(true).seed(5).build();
    }

    /** The element-wise mean of the recorded weights of the given epochs, in double precision. */
    private static List<double[]> mean(Map<Integer, List<float[]>> weights, int from, int to) {
        List<double[]> sum = new ArrayList<>();
        for (float[] parameter : weights.get(from)) {
            sum.add(new double[parameter.length]);
        }
        for (int epoch = from; epoch <= to; epoch++) {
            List<float[]> snapshot = weights.get(epoch);
            for (int p = 0; p < sum.size(); p++) {
                for (int i = 0; i < sum.get(p).length; i++) {
                    sum.get(p)[i] += snapshot.get(p)[i];
                }
            }
        }
        for (double[] parameter : sum) {
            for (int i = 0; i < parameter.length; i++) {
                parameter[i] /= to - from + 1;
            }
        }
        return sum;
    }

    private static double maxDifference(List<float[]> actual, List<double[]> expected) {
        double max = 0;
        for (int p = 0; p < actual.size(); p++) {
            for (int i = 0; i < actual.get(p).length; i++) {
                max = Math.max(max, Math.abs(actual.get(p)[i] - expected.get(p)[i]));
            }
        }
        return max;
    }

    @Test
    void theFinalWeightsAreTheMeanOfTheEndOfEpochWeightsOfTheSwaEpochs() {
        StochasticWeightAveraging swa = StochasticWeightAveraging.builder(0.05).swaEpochStart(3)
                .annealingEpochs(2).build();
        Recorder recorder = new Recorder();
        try (TinyAutoEncoder module = new TinyAutoEncoder(false)) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(6).seed(1).callbacks(swa, recorder).build();
            trainer.fit(module, trainLoader());

            // swaEpochStart 3 is the third epoch: epochs 2..5 (0-based) are averaged
            assertThat(swa.swaStart()).isEqualTo(2);
            assertThat(swa.nAveraged()).isEqualTo(4);
            List<float[]> finalWeights = TestTrainers.weights(module);
            List<double[]> expected = mean(recorder.weights, 2, 5);
            assertThat(maxDifference(finalWeights, expected)).isLessThan(1e-6);
            // the average differs measurably from the last epoch's weights and from a window shifted by one epoch
            assertThat(maxDifference(finalWeights, mean(recorder.weights, 5, 5))).isGreaterThan(1e-4);
            assertThat(maxDifference(finalWeights, mean(recorder.weights, 1, 4))).isGreaterThan(1e-4);
        }
    }

    @Test
    void theScheduleReplacesTheModulesSchedulerAndAnnealsToTheSwaRate() {
        StochasticWeightAveraging swa = StochasticWeightAveraging.builder(0.01).swaEpochStart(3)
                .annealingEpochs(2).annealingStrategy("cos").build();
        Recorder recorder = new Recorder();
        try (TinyAutoEncoder module = new TinyAutoEncoder(true)) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(6).callbacks(swa, recorder).build();
            trainer.fit(module, trainLoader());
            // StepLR halves 0.5 twice; from epoch 2 SwaLR goes from 0.125 to 0.01 in two cosine steps
            assertThat(recorder.lrs.values()).hasSize(6);
            double[] expected = {0.5, 0.25, 0.125, 0.5 * 0.01 + 0.5 * 0.125, 0.01, 0.01};
            recorder.lrs.forEach((epoch, lr) -> assertThat(lr).as("lr of epoch %d", epoch)
                    .isCloseTo(expected[epoch], within(1e-12)));
            assertThat(trainer.lrSchedulers()).singleElement().isInstanceOf(SwaLR.class);
            assertThat(trainer.optimizers().get(0).paramGroups().get(0).getDouble(SwaLR.SWA_LR)).isEqualTo(0.01);
        }

        StochasticWeightAveraging linear = StochasticWeightAveraging.builder(0.01).swaEpochStart(0.5)
                .annealingEpochs(3).annealingStrategy("linear").build();
        Recorder linearRecorder = new Recorder();
        try (TinyAutoEncoder module = new TinyAutoEncoder(true)) {
            TestTrainers.quiet(root).maxEpochs(6).callbacks(linear, linearRecorder).build()
                    .fit(module, trainLoader());
            // 0.5 of 6 epochs is the third epoch, index 2; no scheduler step has happened at its start
            double[] lrs = linearRecorder.lrs.values().stream().mapToDouble(Double::doubleValue).toArray();
            assertThat(lrs[2]).isEqualTo(0.125);
            assertThat(lrs[3]).isCloseTo(0.125 * 2 / 3 + 0.01 / 3, within(1e-12));
            assertThat(lrs[4]).isCloseTo(0.125 / 3 + 0.01 * 2 / 3, within(1e-12));
            assertThat(lrs[5]).isCloseTo(0.01, within(1e-12));
        }
    }

    private Trainer resumableTrainer(Path dir, StochasticWeightAveraging swa, Recorder recorder) {
        return TestTrainers.quiet(dir)
                .enableCheckpointing(true)
                .maxEpochs(6)
                .seed(42)
                .callbacks(swa, recorder,
                        ModelCheckpoint.builder().dirpath(dir.resolve("steps")).everyNTrainSteps(6).saveTopK(-1)
                                .build(),
                        ModelCheckpoint.builder().dirpath(dir.resolve("epochs")).saveTopK(-1).build(),
                        ModelCheckpoint.builder().dirpath(dir.resolve("validation")).monitor("val_loss")
                                .saveTopK(-1).saveOnTrainEpochEnd(false).build())
                .build();
    }

    private static StochasticWeightAveraging resumableSwa() {
        return StochasticWeightAveraging.builder(0.05).swaEpochStart(3).annealingEpochs(2).build();
    }

    private List<float[]> fit(Path dir, String ckptPath, Recorder recorder) {
        try (TinyAutoEncoder module = new TinyAutoEncoder(true)) {
            resumableTrainer(dir, resumableSwa(), recorder)
                    .fit(module, trainLoader(), DataLoader.of(val).batchSize(32).build(), ckptPath);
            return TestTrainers.weights(module);
        }
    }

    @Test
    void aResumedFitContinuesTheSameAverage() {
        Path full = root.resolve("full");
        Recorder fullRecorder = new Recorder();
        List<float[]> expected = fit(full, null, fullRecorder);

        // the epoch-end checkpoint of epoch 3 holds the average of epochs 2 and 3 and the SWA schedule
        Path epochEnd = full.resolve("epochs/epoch=3-step=16.ckpt");
        Map<String, Object> entries = CheckpointReader.readEntries(epochEnd);
        Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) entries.get("callbacks")).get("StochasticWeightAveraging");
        assertThat(state.get("n_averaged")).isEqualTo(2L);
        assertThat(state.get("latest_update_epoch")).isEqualTo(3L);
        assertThat(state.get("scheduler_state")).isNotNull();

        for (String checkpoint : List.of(
                "epochs/epoch=3-step=16.ckpt",
                // mid-epoch: batch 2 of epoch 4
                "steps/epoch=4-step=18.ckpt",
                // written on validation end, before the epoch-end hooks of epoch 2 (the first SWA epoch)
                "validation/epoch=2-step=12.ckpt")) {
            Recorder recorder = new Recorder();
            List<float[]> resumed = fit(root.resolve(checkpoint.replace('/', '_')), full.resolve(checkpoint)
                    .toString(), recorder);
            assertThat(TestTrainers.sameWeights(resumed, expected)).as("weights resumed from %s", checkpoint)
                    .isTrue();
            recorder.lrs.forEach((epoch, lr) -> assertThat(lr).as("lr of epoch %d", epoch)
                    .isEqualTo(fullRecorder.lrs.get(epoch)));
        }
    }

    @Test
    void theAveragedTensorsAreSavedUnderTheirParameterNames() {
        Path dir = root.resolve("names");
        fit(dir, null, new Recorder());
        try (NDManager scope = manager.newSubManager()) {
            Checkpoint checkpoint = CheckpointReader.read(dir.resolve("epochs/epoch=5-step=24.ckpt"), scope);
            assertThat(checkpoint.tensors(StochasticWeightAveraging.TENSOR_FILE).keySet())
                    .containsExactlyInAnyOrder("encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias");
        }
    }

    @Test
    void withoutAnnealingTheSwaRateHoldsFromTheStartAndTheStateRoundTrips() {
        try (BoringModule module = new TwoGroups()) {
            Sgd sgd = (Sgd) module.configureOptimizers().optimizers().get(0);
            SwaLR swa = new SwaLR(sgd, List.of(0.02, 0.03), 0, "linear");
            assertThat(sgd.paramGroups()).extracting(ParamGroup::lr).containsExactly(0.02, 0.03);
            swa.step();
            assertThat(swa.lastLr()).containsExactly(0.02, 0.03);
            assertThat(swa.stateDict().values()).containsEntry("anneal_epochs", 0)
                    .containsEntry("anneal_strategy", "linear").containsEntry("last_epoch", 1);

            SwaLR restored = new SwaLR(sgd, List.of(0.02, 0.03), 0, "linear");
            restored.loadStateDict(swa.stateDict());
            assertThat(restored.lastEpoch()).isEqualTo(1);
            assertThatThrownBy(() -> new SwaLR(sgd, List.of(0.1, 0.2, 0.3), 1, "cos"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 param groups");
        }
    }

    @Test
    void badSettingsAreRejectedWithTheValue() {
        assertThatThrownBy(() -> new StochasticWeightAveraging(0))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("swaLrs").hasMessageContaining("0");
        assertThatThrownBy(() -> StochasticWeightAveraging.builder(List.of(0.1, -1.0)).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("[0.1, -1.0]");
        assertThatThrownBy(() -> StochasticWeightAveraging.builder(0.1).swaEpochStart(0))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("got 0");
        assertThatThrownBy(() -> StochasticWeightAveraging.builder(0.1).swaEpochStart(1.5))
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("got 1.5");
        assertThatThrownBy(() -> StochasticWeightAveraging.builder(0.1).annealingStrategy("exp").build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("\"exp\"");
        assertThatThrownBy(() -> StochasticWeightAveraging.builder(0.1).annealingEpochs(-1).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("-1");

        try (BoringModule module = new BoringModule()) {
            Trainer unlimited = TestTrainers.quiet(root).maxEpochs(-1).maxSteps(4)
                    .callbacks(new StochasticWeightAveraging(0.1)).build();
            assertThatThrownBy(() -> unlimited.fit(module, BoringModule.data(manager, 2)))
                    .isInstanceOf(MisconfigurationException.class).hasMessageContaining("maxEpochs");
        }
        try (BoringModule module = new TwoGroups()) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(2)
                    .callbacks(StochasticWeightAveraging.builder(List.of(0.1, 0.2, 0.3)).swaEpochStart(1).build())
                    .build();
            assertThatThrownBy(() -> trainer.fit(module, BoringModule.data(manager, 2)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("3 swaLrs").hasMessageContaining("2 param groups");
        }
    }

    /** A boring module whose weight and bias are in separate param groups. */
    static final class TwoGroups extends BoringModule {
        @Override
        public OptimizerConfig configureOptimizers() {
            List<ai.djl.nn.Parameter> params = parameters();
            return OptimizerConfig.of(Sgd.builder().lr(0.1).build(List.of(
                    new ParamGroup(List.of(params.get(0))), new ParamGroup(List.of(params.get(1))))));
        }
    }
}
