package io.github.djllightning.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.ParamGroup;
import io.github.djllightning.optim.Sgd;
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
 * Fine-tuning an MNIST classifier: the backbone stays frozen until the unfreeze epoch, then joins the optimizer as a
 * new param group whose learning rate grows epoch by epoch; a resumed fit continues with the same groups and rates.
 */
class BackboneFinetuningTest extends EngineTest {

    /** 128 MNIST images in batches of 32: 4 batches per epoch. */
    private static MnistDataset train;

    @TempDir
    Path root;

    @BeforeAll
    static void data() throws IOException {
        train = MnistDataset.builder().usage(Usage.TRAIN).limit(128).build();
    }

    @AfterAll
    static void close() {
        train.close();
    }

    /** A 784-32 backbone and a 32-10 head; SGD (lr 0.1) over the head only, or over every parameter. */
    static final class TransferModel extends LightningModule {
        private final boolean optimizeEverything;
        private final SoftmaxCrossEntropyLoss loss = new SoftmaxCrossEntropyLoss();

        TransferModel(boolean optimizeEverything) {
            this.optimizeEverything = optimizeEverything;
            addChildBlock("backbone", new SequentialBlock().add(Linear.builder().setUnits(32).build())
                    .add(Activation::relu));
            addChildBlock("head", Linear.builder().setUnits(10).build());
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            NDArray x = batch.getData().head().reshape(-1, 784);
            NDArray logits = forward("head", forward("backbone", x));
            return loss.evaluate(new NDList(batch.getLabels().head()), new NDList(logits));
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            List<Parameter> params = optimizeEverything
                    ? parameters()
                    : new ArrayList<>(child("head").getParameters().values());
            return OptimizerConfig.of(new Sgd(params, 0.1));
        }
    }

    /**
     * Records every epoch's param group learning rates (at the epoch start, after the fine-tuning callback) and the
     * backbone's weights before the first step and at every epoch start and end.
     */
    static final class Recorder implements Callback {
        final Map<Integer, List<Double>> lrs = new TreeMap<>();
        final Map<Integer, List<float[]>> backboneAtStart = new TreeMap<>();
        final Map<Integer, List<float[]>> backboneAtEnd = new TreeMap<>();
        List<float[]> initialBackbone;

        static List<float[]> backbone(LightningModule module) {
            List<float[]> out = new ArrayList<>();
            for (Parameter parameter : module.child("backbone").getParameters().values()) {
                out.add(parameter.getArray().toFloatArray());
            }
            return out;
        }

        @Override
        public void onTrainEpochStart(Trainer trainer, LightningModule module) {
            List<Double> groupLrs = new ArrayList<>();
            for (ParamGroup group : trainer.optimizers().get(0).paramGroups()) {
                groupLrs.add(group.lr());
            }
            lrs.put(trainer.currentEpoch(), groupLrs);
            if (module.isInitialized()) {
                backboneAtStart.put(trainer.currentEpoch(), backbone(module));
            }
        }

        @Override
        public void onBeforeOptimizerStep(Trainer trainer, LightningModule module, Optimizer optimizer) {
            if (initialBackbone == null) {
                initialBackbone = backbone(module);
            }
        }

        @Override
        public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
            backboneAtEnd.put(trainer.currentEpoch(), backbone(module));
        }
    }

    private static DataLoader trainLoader() {
        return DataLoader.of(train).batchSize(32).shuffle(true).seed(11).build();
    }

    @Test
    void theBackboneIsFrozenUntilItsEpochAndThenTrainsInItsOwnGroupAtAGrowingRate() {
        BackboneFinetuning finetuning = BackboneFinetuning.builder().unfreezeBackboneAtEpoch(2)
                .lambdaFunc(epochPlusOne -> epochPlusOne / 2.0).build();
        Recorder recorder = new Recorder();
        try (TransferModel module = new TransferModel(false)) {
            TestTrainers.quiet(root).maxEpochs(6).callbacks(finetuning, recorder).build()
                    .fit(module, trainLoader());
            // the backbone's rate: 0.1 * 0.1 at epoch 2; times (3+1)/2 at epoch 3; times 5/2 at epoch 4; at epoch 5
            // 6/2 * 0.05 = 0.15 exceeds the head's 0.1, so it is aligned to 0.1
            assertThat(recorder.lrs.get(0)).containsExactly(0.1);
            assertThat(recorder.lrs.get(1)).containsExactly(0.1);
            assertThat(recorder.lrs.get(2)).hasSize(2);
            assertThat(recorder.lrs.get(2).get(1)).isCloseTo(0.01, within(1e-12));
            assertThat(recorder.lrs.get(3).get(1)).isCloseTo(0.02, within(1e-12));
            assertThat(recorder.lrs.get(4).get(1)).isCloseTo(0.05, within(1e-12));
            assertThat(recorder.lrs.get(5)).containsExactly(0.1, 0.1);
            assertThat(finetuning.previousBackboneLr()).isEqualTo(0.1);

            // frozen through epochs 0 and 1: the backbone's weights are those before the first step
            assertThat(TestTrainers.sameWeights(recorder.backboneAtEnd.get(0), recorder.initialBackbone)).isTrue();
            assertThat(TestTrainers.sameWeights(recorder.backboneAtEnd.get(1), recorder.initialBackbone)).isTrue();
            assertThat(TestTrainers.sameWeights(recorder.backboneAtStart.get(2), recorder.initialBackbone)).isTrue();
            // from epoch 2 it trains, epoch after epoch
            for (int epoch = 2; epoch < 6; epoch++) {
                assertThat(TestTrainers.sameWeights(recorder.backboneAtEnd.get(epoch),
                        recorder.backboneAtStart.get(epoch))).as("backbone unchanged in epoch %d", epoch).isFalse();
            }
            Block backbone = module.child("backbone");
            assertThat(backbone.getParameters().values()).allMatch(Parameter::requiresGradient);
        }
    }

    @Test
    void aBackboneTheOptimizerAlreadyHoldsIsNotAddedAgainAndItsRateIsLeftAlone() {
        Recorder recorder = new Recorder();
        try (TransferModel module = new TransferModel(true)) {
            TestTrainers.quiet(root).maxEpochs(4)
                    .callbacks(BackboneFinetuning.builder().unfreezeBackboneAtEpoch(2).build(), recorder).build()
                    .fit(module, trainLoader());
            assertThat(recorder.lrs.values()).allMatch(lrs -> lrs.equals(List.of(0.1)));
            // frozen parameters get no gradient, so the optimizer skips them until the unfreeze epoch
            assertThat(TestTrainers.sameWeights(recorder.backboneAtEnd.get(1), recorder.initialBackbone)).isTrue();
            assertThat(TestTrainers.sameWeights(recorder.backboneAtEnd.get(2), recorder.backboneAtStart.get(2)))
                    .isFalse();
        }
    }

    private static Trainer resumable(Path dir, Recorder recorder) {
        return TestTrainers.quiet(dir).enableCheckpointing(true).maxEpochs(6).seed(8)
                .callbacks(BackboneFinetuning.builder().unfreezeBackboneAtEpoch(2).build(), recorder,
                        ModelCheckpoint.builder().dirpath(dir.resolve("steps")).everyNTrainSteps(6).saveTopK(-1)
                                .build(),
                        ModelCheckpoint.builder().dirpath(dir.resolve("epochs")).saveTopK(-1).build())
                .build();
    }

    private List<float[]> fit(Path dir, String ckptPath, Recorder recorder) {
        try (TransferModel module = new TransferModel(false)) {
            resumable(dir, recorder).fit(module, trainLoader(), ckptPath);
            return TestTrainers.weights(module);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aResumedFitGetsTheBackboneGroupBackAndContinuesItsRates() {
        Path full = root.resolve("full");
        Recorder fullRecorder = new Recorder();
        List<float[]> expected = fit(full, null, fullRecorder);

        Map<String, Object> entries = CheckpointReader.readEntries(full.resolve("epochs/epoch=2-step=12.ckpt"));
        Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) entries.get("callbacks")).get("BackboneFinetuning");
        assertThat(state.get("previous_backbone_lr")).isEqualTo(0.010000000000000002);
        List<?> groups = (List<?>) ((Map<?, ?>) state.get("internal_optimizer_metadata")).get("0");
        assertThat(groups).hasSize(2);
        assertThat((List<Object>) ((Map<?, ?>) groups.get(1)).get("params"))
                .containsExactly("backbone.0.weight", "backbone.0.bias");

        for (String checkpoint : List.of(
                // before the unfreeze epoch
                "epochs/epoch=0-step=4.ckpt",
                // at the end of the unfreeze epoch
                "epochs/epoch=2-step=12.ckpt",
                // inside epoch 4
                "steps/epoch=4-step=18.ckpt")) {
            Recorder recorder = new Recorder();
            List<float[]> resumed = fit(root.resolve(checkpoint.replace('/', '_')), full.resolve(checkpoint)
                    .toString(), recorder);
            assertThat(TestTrainers.sameWeights(resumed, expected)).as("weights resumed from %s", checkpoint)
                    .isTrue();
            recorder.lrs.forEach((epoch, lrs) -> assertThat(lrs).as("lrs of epoch %d from %s", epoch, checkpoint)
                    .isEqualTo(fullRecorder.lrs.get(epoch)));
        }
    }

    @Test
    void aMissingBackboneAndBadSettingsAreRejected() {
        assertThatThrownBy(() -> BackboneFinetuning.builder().unfreezeBackboneAtEpoch(-1).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("got -1");
        assertThatThrownBy(() -> BackboneFinetuning.builder().backboneInitialRatioLr(Double.NaN).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("NaN");
        assertThatThrownBy(() -> BackboneFinetuning.builder().lambdaFunc(null).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("lambdaFunc");

        try (TransferModel module = new TransferModel(false)) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(1)
                    .callbacks(BackboneFinetuning.builder().backboneName("encoder").build()).build();
            assertThatThrownBy(() -> trainer.fit(module, trainLoader()))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("'encoder'").hasMessageContaining("backbone");
        }
        try (TransferModel module = new TransferModel(false)) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(3)
                    .callbacks(BackboneFinetuning.builder().unfreezeBackboneAtEpoch(0)
                            .lambdaFunc(epoch -> -1).build()).build();
            assertThatThrownBy(() -> trainer.fit(module, trainLoader()))
                    .isInstanceOf(MisconfigurationException.class).hasMessageContaining("lambdaFunc(2) returned -1");
        }
    }
}
