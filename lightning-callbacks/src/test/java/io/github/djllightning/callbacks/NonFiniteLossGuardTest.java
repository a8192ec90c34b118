package io.github.djllightning.callbacks;

import io.github.djllightning.callback.NonFiniteLossException;
import io.github.djllightning.callback.NonFiniteLossGuard;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.LightningOptimizer;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The guard on real fits of a BoringModule whose loss is made NaN or infinite at chosen batches. */
class NonFiniteLossGuardTest extends EngineTest {

    @TempDir
    Path root;

    /** A BoringModule whose training loss is multiplied by {@code factor} (NaN, infinity) at chosen batches. */
    private static class PoisonedModule extends BoringModule {
        private final Set<String> poisoned;
        private final float factor;

        /** @param poisoned "epoch:batch" pairs */
        PoisonedModule(float factor, String... poisoned) {
            this.factor = factor;
            this.poisoned = Set.of(poisoned);
        }

        boolean poisoned(int batchIdx) {
            return poisoned.contains(getTrainer().currentEpoch() + ":" + batchIdx);
        }

        NDArray loss(Batch batch, int batchIdx) {
            NDArray loss = forward("layer", batch.getData().head()).square().mean();
            return poisoned(batchIdx) ? loss.mul(factor) : loss;
        }

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            NDArray loss = loss(batch, batchIdx);
            log("train_loss", loss);
            return loss;
        }
    }

    /** Manual optimization: zero-grad, backward, step; {@code skipAt} leaves out backward and step entirely. */
    private static final class ManualModule extends PoisonedModule {
        private final Set<Integer> skipAt;

        ManualModule(Set<Integer> skipAt, String... poisoned) {
            super(Float.NaN, poisoned);
            this.skipAt = skipAt;
            setAutomaticOptimization(false);
        }

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            LightningOptimizer opt = optimizers().get(0);
            opt.zeroGrad();
            NDArray loss = loss(batch, batchIdx);
            if (!skipAt.contains(batchIdx)) {
                manualBackward(loss);
                opt.step();
            }
            return loss;
        }
    }

    private Trainer trainer(int maxEpochs, NonFiniteLossGuard guard, UnaryOperator<TrainerConfig.Builder<Trainer>> f) {
        TrainerConfig.Builder<Trainer> b = TestTrainers.quiet(root).maxEpochs(maxEpochs).seed(11);
        if (guard != null) {
            b.callbacks(guard);
        }
        return f.apply(b).build();
    }

    /** Fits and returns the final weights. */
    private List<float[]> fit(BoringModule module, DataLoader data, int maxEpochs, NonFiniteLossGuard guard,
            UnaryOperator<TrainerConfig.Builder<Trainer>> flags) {
        try (module) {
            trainer(maxEpochs, guard, flags).fit(module, data);
            return TestTrainers.weights(module);
        }
    }

    private static boolean allFinite(List<float[]> weights) {
        for (float[] w : weights) {
            for (float v : w) {
                if (!Float.isFinite(v)) {
                    return false;
                }
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ FAIL

    @Test
    void byDefaultTheFirstNonFiniteLossFailsFitNamingEpochBatchAndLoss() {
        DataLoader data = BoringModule.data(manager, 3);
        PoisonedModule module = new PoisonedModule(Float.NaN, "1:2");
        Trainer trainer = trainer(5, new NonFiniteLossGuard(), b -> b);
        try (module) {
            assertThatThrownBy(() -> trainer.fit(module, data))
                    .isInstanceOfSatisfying(NonFiniteLossException.class, e -> {
                        assertThat(e.epoch()).isEqualTo(1);
                        assertThat(e.batchIdx()).isEqualTo(2);
                        assertThat(e.globalStep()).isEqualTo(5);
                        assertThat(e.loss()).isNaN();
                    })
                    .hasMessageStartingWith("Non-finite loss at epoch 1, batch 2 (global step 5): the loss from"
                            + " trainingStep is NaN.")
                    .hasMessageContaining("Logged metrics that are not finite: train_loss=NaN")
                    .hasMessageContaining("SKIP_BATCH");
            // it stopped before the backward pass: the weights are those of step 5
            assertThat(allFinite(TestTrainers.weights(module))).isTrue();
            assertThat(trainer.globalStep()).isEqualTo(5);
        }
    }

    @Test
    void anInfiniteLossFailsToo() {
        PoisonedModule module = new PoisonedModule(Float.POSITIVE_INFINITY, "0:0");
        Trainer trainer = trainer(1, new NonFiniteLossGuard(), b -> b);
        try (module) {
            assertThatThrownBy(() -> trainer.fit(module, BoringModule.data(manager, 2)))
                    .isInstanceOf(NonFiniteLossException.class)
                    .hasMessageStartingWith("Non-finite loss at epoch 0, batch 0 (global step 0): the loss from"
                            + " trainingStep is Infinity.");
        }
    }

    // ------------------------------------------------------------------ SKIP_BATCH

    @Test
    void skippingABatchLeavesTheWeightsAsIfItHadNoLoss() {
        DataLoader data = BoringModule.data(manager, 3);
        NonFiniteLossGuard guard = new NonFiniteLossGuard(NonFiniteLossGuard.Action.SKIP_BATCH);
        AtomicReference<List<float[]>> skipped = new AtomicReference<>();
        String log = TestTrainers.capturingStderr(() -> skipped.set(
                fit(new PoisonedModule(Float.NaN, "0:1", "1:0", "1:2"), data, 2, guard, b -> b)));
        // the same run where trainingStep returns null at those batches (Lightning's way to skip one)
        List<float[]> reference = fit(new EveryEpochNone(Set.of("0:1", "1:0", "1:2")), data, 2, null, b -> b);
        List<float[]> unguarded = fit(new BoringModule(), data, 2, null, b -> b);

        assertThat(allFinite(skipped.get())).isTrue();
        assertThat(TestTrainers.sameWeights(skipped.get(), reference)).isTrue();
        assertThat(TestTrainers.sameWeights(skipped.get(), unguarded)).isFalse();
        assertThat(guard.nonFiniteBatches()).isEqualTo(3);
        assertThat(log).contains("Non-finite loss at epoch 0, batch 1 (global step 1)")
                .contains("The batch is skipped")
                .contains("Non-finite loss at epoch 1, batch 0 (global step 3)")
                .contains("Epoch 1: 2 training batches had a non-finite loss and were skipped (batch indices [0, 2])")
                .doesNotContain("Non-finite loss at epoch 1, batch 2");
    }

    /** Returns null from trainingStep at chosen "epoch:batch" pairs. */
    private static final class EveryEpochNone extends BoringModule {
        private final Set<String> at;

        EveryEpochNone(Set<String> at) {
            this.at = at;
        }

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            Object loss = super.trainingStep(batch, batchIdx);
            return at.contains(getTrainer().currentEpoch() + ":" + batchIdx) ? null : loss;
        }
    }

    @Test
    void whenAccumulatingTheWindowStepsWithItsOtherBatches() {
        DataLoader data = BoringModule.data(manager, 4);
        NonFiniteLossGuard guard = new NonFiniteLossGuard(NonFiniteLossGuard.Action.SKIP_BATCH);
        List<float[]> skipped = fit(new PoisonedModule(Float.NaN, "0:1", "0:2", "0:3"), data, 1, guard,
                b -> b.accumulateGradBatches(2));
        List<float[]> reference = fit(new EveryEpochNone(Set.of("0:1", "0:2", "0:3")), data, 1, null,
                b -> b.accumulateGradBatches(2));
        List<float[]> untrained = fit(new PoisonedModule(Float.NaN, "0:0", "0:1", "0:2", "0:3"), data, 1,
                new NonFiniteLossGuard(NonFiniteLossGuard.Action.SKIP_BATCH), b -> b.accumulateGradBatches(2));

        assertThat(TestTrainers.sameWeights(skipped, reference)).isTrue();
        // batch 0 made the first window step; the second window (batches 2 and 3) had nothing to step with
        assertThat(TestTrainers.sameWeights(skipped, untrained)).isFalse();
        assertThat(allFinite(skipped)).isTrue();
    }

    @Test
    void manualOptimizationSkipsTheBackwardAndSoTheStep() {
        DataLoader data = BoringModule.data(manager, 3);
        NonFiniteLossGuard guard = new NonFiniteLossGuard(NonFiniteLossGuard.Action.SKIP_BATCH);
        List<float[]> skipped = fit(new ManualModule(Set.of(), "0:1"), data, 1, guard, b -> b);
        List<float[]> reference = fit(new ManualModule(Set.of(1)), data, 1, null, b -> b);

        assertThat(guard.nonFiniteBatches()).isEqualTo(1);
        assertThat(allFinite(skipped)).isTrue();
        assertThat(TestTrainers.sameWeights(skipped, reference)).isTrue();
    }

    @Test
    void theCountIsCheckpointedAndContinuesOnResume() {
        DataLoader data = BoringModule.data(manager, 2);
        Path ckpt = root.resolve("guard.ckpt");
        NonFiniteLossGuard first = new NonFiniteLossGuard(NonFiniteLossGuard.Action.SKIP_BATCH);
        try (PoisonedModule module = new PoisonedModule(Float.NaN, "0:1", "1:1")) {
            Trainer trainer = trainer(1, first, b -> b);
            trainer.fit(module, data);
            trainer.saveCheckpoint(ckpt);
        }
        Map<?, ?> callbacks = (Map<?, ?>) CheckpointReader.readEntries(ckpt).get("callbacks");
        Map<?, ?> state = (Map<?, ?>) callbacks.get("NonFiniteLossGuard");
        assertThat(((Number) state.get("non_finite_batches")).longValue()).isEqualTo(1);

        NonFiniteLossGuard resumed = new NonFiniteLossGuard(NonFiniteLossGuard.Action.SKIP_BATCH);
        try (PoisonedModule module = new PoisonedModule(Float.NaN, "0:1", "1:1")) {
            trainer(2, resumed, b -> b).fit(module, data, ckpt.toString());
        }
        assertThat(resumed.nonFiniteBatches()).isEqualTo(2);
    }

    // ------------------------------------------------------------------ WARN

    @Test
    void warnOnlyReportsAndTrainsOnAsLightningDoes() {
        DataLoader data = BoringModule.data(manager, 3);
        NonFiniteLossGuard guard = NonFiniteLossGuard.of("warn");
        AtomicReference<List<float[]>> weights = new AtomicReference<>();
        String log = TestTrainers.capturingStderr(
                () -> weights.set(fit(new PoisonedModule(Float.NaN, "0:1"), data, 2, guard, b -> b)));

        // one NaN step makes every weight NaN, and every later loss with them
        assertThat(allFinite(weights.get())).isFalse();
        assertThat(guard.nonFiniteBatches()).isEqualTo(5);
        assertThat(log).contains("Non-finite loss at epoch 0, batch 1 (global step 1)")
                .contains("Training goes on with it")
                .contains("Epoch 0: 2 training batches had a non-finite loss and were trained on (batch indices [1, 2])")
                .contains("Non-finite loss at epoch 1, batch 0 (global step 3)")
                .contains("Epoch 1: 3 training batches had a non-finite loss and were trained on (batch indices"
                        + " [0, 1, 2])");
    }

    // ------------------------------------------------------------------ arguments

    @Test
    void actionsAreNamedAndBadOnesRejected() {
        assertThat(new NonFiniteLossGuard().action()).isEqualTo(NonFiniteLossGuard.Action.FAIL);
        assertThat(NonFiniteLossGuard.of("Skip_Batch").action()).isEqualTo(NonFiniteLossGuard.Action.SKIP_BATCH);
        assertThatThrownBy(() -> NonFiniteLossGuard.of("skip"))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("'skip'")
                .hasMessageContaining("fail, skip_batch, warn");
        assertThatThrownBy(() -> new NonFiniteLossGuard(null)).isInstanceOf(MisconfigurationException.class);
    }
}
