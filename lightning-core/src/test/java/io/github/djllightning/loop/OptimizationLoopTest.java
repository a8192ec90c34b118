package io.github.djllightning.loop;

import static io.github.djllightning.testing.TestTrainers.gradients;
import static io.github.djllightning.testing.TestTrainers.quiet;
import static io.github.djllightning.testing.TestTrainers.sameWeights;
import static io.github.djllightning.testing.TestTrainers.weights;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.LrScheduler;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.ReduceLROnPlateau;
import io.github.djllightning.optim.SchedulerConfig;
import io.github.djllightning.optim.Sgd;
import io.github.djllightning.optim.StepLR;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.trainer.GradientClipAlgorithm;
import io.github.djllightning.trainer.LightningOptimizer;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The optimization inside the training loop: when schedulers step (per optimizer step or per epoch, with frequency,
 * plateau schedulers with the monitored value), gradient clipping by value and by norm, steps skipped for a null
 * loss, and the optimizer really applying the gradients.
 */
class OptimizationLoopTest extends EngineTest {

    private static final double LR = 0.1;


    @TempDir
    Path root;

    /** A BoringModule with scripted optimizer configuration; records the metric of each scheduler step. */
    static class OptModule extends BoringModule {
        final List<Double> schedulerMetrics = new ArrayList<>();
        Optimizer created;
        private final Function<OptModule, OptimizerConfig> config;

        OptModule(Function<OptModule, OptimizerConfig> config) {
            this.config = config;
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return config.apply(this);
        }

        @Override
        public void lrSchedulerStep(LrScheduler scheduler, Double metric) {
            schedulerMetrics.add(metric);
            super.lrSchedulerStep(scheduler, metric);
        }
    }

    /** Records the learning rate each training batch's step uses (read when the batch starts). */
    static final class LrRecorder implements Callback {
        final List<Double> lrs = new ArrayList<>();

        @Override
        public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
            lrs.add(trainer.optimizers().get(0).lr());
        }
    }

    private static OptimizerConfig stepLr(OptModule m, SchedulerConfig.Interval interval, int frequency) {
        Sgd sgd = new Sgd(m.parameters(), LR);
        m.created = sgd;
        return OptimizerConfig.of(sgd, SchedulerConfig.builder(new StepLR(sgd, 1, 0.5))
                .interval(interval).frequency(frequency).build());
    }

    private List<Double> lrsAtBatchStarts(TrainerConfig.Builder<Trainer> builder, OptModule module, int batches) {
        LrRecorder recorder = new LrRecorder();
        Trainer trainer = builder.callbacks(recorder).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, batches));
        }
        return recorder.lrs;
    }

    // ------------------------------------------------------------------ schedulers

    @Test
    void aStepIntervalSchedulerStepsPerOptimizerStepNotOnAccumulatingBatches() {
        OptModule module = new OptModule(m -> stepLr(m, SchedulerConfig.Interval.STEP, 1));
        List<Double> lrs = lrsAtBatchStarts(quiet(root).maxEpochs(1).accumulateGradBatches(2), module, 4);
        // stepped after batches 1 and 3 (the optimizer steps), not after the accumulating batches 0 and 2
        assertThat(lrs).containsExactly(LR, LR, LR * 0.5, LR * 0.5);
        assertThat(module.created.lr()).isCloseTo(LR * 0.25, within(1e-12));
        assertThat(module.schedulerMetrics).hasSize(2).containsOnlyNulls();
    }

    @Test
    void anEpochIntervalSchedulerStepsOncePerEpoch() {
        OptModule module = new OptModule(m -> stepLr(m, SchedulerConfig.Interval.EPOCH, 1));
        List<Double> lrs = lrsAtBatchStarts(quiet(root).maxEpochs(3), module, 2);
        assertThat(lrs).containsExactly(LR, LR, LR * 0.5, LR * 0.5, LR * 0.25, LR * 0.25);
        assertThat(module.created.lr()).isCloseTo(LR * 0.125, within(1e-12));
        assertThat(module.schedulerMetrics).hasSize(3);
    }

    @Test
    void frequencySpacesSchedulerSteps() {
        OptModule perTwoBatches = new OptModule(m -> stepLr(m, SchedulerConfig.Interval.STEP, 2));
        assertThat(lrsAtBatchStarts(quiet(root).maxEpochs(1), perTwoBatches, 4))
                .containsExactly(LR, LR, LR * 0.5, LR * 0.5);
        assertThat(perTwoBatches.schedulerMetrics).hasSize(2);
        OptModule perTwoEpochs = new OptModule(m -> stepLr(m, SchedulerConfig.Interval.EPOCH, 2));
        assertThat(lrsAtBatchStarts(quiet(root).maxEpochs(5), perTwoEpochs, 1))
                .containsExactly(LR, LR, LR * 0.5, LR * 0.5, LR * 0.25);
        assertThat(perTwoEpochs.schedulerMetrics).hasSize(2);
    }

    private static OptimizerConfig plateau(OptModule m, String monitor, boolean strict) {
        Sgd sgd = new Sgd(m.parameters(), LR);
        m.created = sgd;
        ReduceLROnPlateau scheduler = ReduceLROnPlateau.builder(sgd).factor(0.5).patience(0).build();
        return OptimizerConfig.of(sgd, SchedulerConfig.builder(scheduler).monitor(monitor).strict(strict).build());
    }

    @Test
    void reduceLrOnPlateauGetsTheMonitoredValidationValue() {
        OptModule module = new OptModule(m -> plateau(m, "val_loss", true));
        module.valLosses(List.of(3.0, 2.0, 2.0));
        LrRecorder recorder = new LrRecorder();
        Trainer trainer = quiet(root).maxEpochs(3).numSanityValSteps(0).callbacks(recorder).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 1));
        }
        // one plateau step per epoch, after validation, with that epoch's validation loss
        assertThat(module.schedulerMetrics).containsExactly(3.0, 2.0, 2.0);
        // improving, improving, then a plateau: halved at the end of the last epoch only
        assertThat(recorder.lrs).containsExactly(LR, LR, LR);
        assertThat(module.created.lr()).isCloseTo(LR * 0.5, within(1e-12));
    }

    @Test
    void reduceLrOnPlateauLowersTheRateWhenTheValueStalls() {
        OptModule module = new OptModule(m -> plateau(m, "val_loss", true));
        module.valLosses(List.of(1.0));
        LrRecorder recorder = new LrRecorder();
        Trainer trainer = quiet(root).maxEpochs(4).numSanityValSteps(0).callbacks(recorder).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 1));
        }
        // 1.0 is the best at epoch 0; each later epoch stalls and halves the rate for the next
        assertThat(recorder.lrs).containsExactly(LR, LR, LR * 0.5, LR * 0.25);
    }

    @Test
    void aMissingMonitoredMetricWithStrictFailsNamingTheAvailableMetrics() {
        OptModule module = new OptModule(m -> plateau(m, "val_acc", true));
        Trainer trainer = quiet(root).maxEpochs(2).numSanityValSteps(0).build();
        try (module) {
            assertThatThrownBy(() -> trainer.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 1)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("'val_acc'")
                    .hasMessageContaining("val_loss")
                    .hasMessageContaining("train_loss_epoch");
        }
    }

    @Test
    void aMissingMonitoredMetricWithoutStrictSkipsTheStep() {
        OptModule module = new OptModule(m -> plateau(m, "val_acc", false));
        LrRecorder recorder = new LrRecorder();
        Trainer trainer = quiet(root).maxEpochs(3).numSanityValSteps(0).callbacks(recorder).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 1), BoringModule.data(manager, 1));
        }
        assertThat(module.schedulerMetrics).isEmpty();
        assertThat(recorder.lrs).containsOnly(LR);
    }

    // ------------------------------------------------------------------ clipping

    /** Records the gradients before clipping (onBeforeOptimizerStep) and right after it. */
    static final class ClipProbe extends BoringModule {
        final List<float[]> before = new ArrayList<>();
        final List<float[]> after = new ArrayList<>();

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            // a steep loss, so that gradients clearly exceed the limits
            return forward("layer", batch.getData().head()).square().mean().mul(getTrainer().scalar(50));
        }

        @Override
        public void onBeforeOptimizerStep(Optimizer optimizer) {
            before.add(gradients(this));
        }

        @Override
        public void configureGradientClipping(
                Optimizer optimizer, Double gradientClipVal, GradientClipAlgorithm algorithm) {
            super.configureGradientClipping(optimizer, gradientClipVal, algorithm);
            after.add(gradients(this));
        }
    }

    private static double norm(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += (double) v * v;
        }
        return Math.sqrt(sum);
    }

    @Test
    void clippingByValueClampsBothSigns() {
        ClipProbe module = new ClipProbe();
        Trainer trainer = quiet(root).maxEpochs(1).gradientClipVal(0.5).gradientClipAlgorithm("value").build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 2));
        }
        assertThat(module.before).hasSize(2);
        for (int s = 0; s < 2; s++) {
            float[] raw = module.before.get(s);
            float[] clipped = module.after.get(s);
            float rawMax = Float.NEGATIVE_INFINITY;
            float rawMin = Float.POSITIVE_INFINITY;
            for (float v : raw) {
                rawMax = Math.max(rawMax, v);
                rawMin = Math.min(rawMin, v);
            }
            // the probe is meaningful: gradients went past the limit on both sides
            assertThat(rawMax).isGreaterThan(0.5f);
            assertThat(rawMin).isLessThan(-0.5f);
            for (int i = 0; i < raw.length; i++) {
                assertThat(clipped[i]).isCloseTo(Math.max(-0.5f, Math.min(0.5f, raw[i])), within(1e-6f));
            }
        }
    }

    @Test
    void clippingByNormScalesTheTotalNormDownToTheLimit() {
        ClipProbe module = new ClipProbe();
        Trainer trainer = quiet(root).maxEpochs(1).gradientClipVal(1.0).build();
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 2));
        }
        for (int s = 0; s < 2; s++) {
            float[] raw = module.before.get(s);
            float[] clipped = module.after.get(s);
            double rawNorm = norm(raw);
            assertThat(rawNorm).isGreaterThan(1.0);
            assertThat(norm(clipped)).isCloseTo(1.0, within(1e-4));
            // the direction is kept: every element scaled by the same factor
            double scale = 1.0 / rawNorm;
            for (int i = 0; i < raw.length; i++) {
                assertThat((double) clipped[i]).isCloseTo(raw[i] * scale, within(1e-5));
            }
        }
    }

    @Test
    void noClippingWithoutGradientClipVal() {
        ClipProbe module = new ClipProbe();
        try (module) {
            quiet(root).maxEpochs(1).build().fit(module, BoringModule.data(manager, 1));
        }
        assertThat(module.after.get(0)).containsExactly(module.before.get(0));
    }

    // ------------------------------------------------------------------ accumulation

    /**
     * Computes, in plain Java, the gradient each batch's loss (mean of the squared outputs) gives the layer's weight
     * and bias, and records the actual gradients after each backward pass.
     */
    static final class GradientProbe extends BoringModule {
        final List<float[]> expectedPerBatch = new ArrayList<>();
        final List<float[]> actualAfterBackward = new ArrayList<>();

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            float[] x = batch.getData().head().toFloatArray();
            Object loss = super.trainingStep(batch, batchIdx);
            float[] out = forward("layer", batch.getData().head()).toFloatArray();
            int rows = 4;
            int in = 32;
            int units = 2;
            // L = sum(out^2) / (rows * units): dL/dW[j][k] = 2/(rows*units) * sum_i out[i][j] * x[i][k]
            float[] g = new float[units * in + units];
            double c = 2.0 / (rows * units);
            for (int j = 0; j < units; j++) {
                for (int k = 0; k < in; k++) {
                    double sum = 0;
                    for (int i = 0; i < rows; i++) {
                        sum += out[i * units + j] * x[i * in + k];
                    }
                    g[j * in + k] = (float) (c * sum);
                }
                double bias = 0;
                for (int i = 0; i < rows; i++) {
                    bias += out[i * units + j];
                }
                g[units * in + j] = (float) (c * bias);
            }
            expectedPerBatch.add(g);
            return loss;
        }

        @Override
        public void onAfterBackward() {
            actualAfterBackward.add(gradients(this));
        }
    }

    @Test
    void accumulatedGradientsAreTheMeanOverTheWindow() {
        GradientProbe module = new GradientProbe();
        try (module) {
            quiet(root).maxEpochs(1).accumulateGradBatches(2).build().fit(module, BoringModule.data(manager, 2));
        }
        float[] g0 = module.expectedPerBatch.get(0);
        float[] g1 = module.expectedPerBatch.get(1);
        float[] afterFirst = module.actualAfterBackward.get(0);
        float[] afterSecond = module.actualAfterBackward.get(1);
        for (int i = 0; i < g0.length; i++) {
            // each loss is divided by the window size, and the second backward adds to the first
            assertThat(afterFirst[i]).isCloseTo(g0[i] / 2, within(1e-5f));
            assertThat(afterSecond[i]).isCloseTo((g0[i] + g1[i]) / 2, within(1e-5f));
        }
    }

    @Test
    void withoutAccumulationEachBatchStartsFromZeroGradients() {
        GradientProbe module = new GradientProbe();
        try (module) {
            quiet(root).maxEpochs(1).build().fit(module, BoringModule.data(manager, 2));
        }
        for (int b = 0; b < 2; b++) {
            float[] expected = module.expectedPerBatch.get(b);
            float[] actual = module.actualAfterBackward.get(b);
            for (int i = 0; i < expected.length; i++) {
                assertThat(actual[i]).isCloseTo(expected[i], within(1e-5f));
            }
        }
    }

    // ------------------------------------------------------------------ the optimizer step itself

    /** Snapshots the weights at each batch end, and the weights and gradients just before each optimizer step. */
    static final class StepProbe implements Callback {
        final List<List<float[]>> atBatchEnd = new ArrayList<>();
        final List<List<float[]>> beforeStep = new ArrayList<>();
        final List<float[]> gradsBeforeStep = new ArrayList<>();

        @Override
        public void onBeforeOptimizerStep(Trainer trainer, LightningModule module, Optimizer optimizer) {
            beforeStep.add(weights(module));
            gradsBeforeStep.add(gradients(module));
        }

        @Override
        public void onTrainBatchEnd(
                Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
            atBatchEnd.add(weights(module));
        }
    }

    @Test
    void sgdAppliesTheGradientsItWasGiven() {
        StepProbe probe = new StepProbe();
        Trainer trainer = quiet(root).maxEpochs(1).callbacks(probe).build();
        try (BoringModule module = new BoringModule()) {
            trainer.fit(module, BoringModule.data(manager, 2));
        }
        for (int s = 0; s < 2; s++) {
            List<float[]> before = probe.beforeStep.get(s);
            float[] grads = probe.gradsBeforeStep.get(s);
            List<float[]> after = probe.atBatchEnd.get(s);
            int at = 0;
            for (int p = 0; p < before.size(); p++) {
                for (int i = 0; i < before.get(p).length; i++) {
                    assertThat(after.get(p)[i]).isCloseTo((float) (before.get(p)[i] - LR * grads[at++]), within(1e-6f));
                }
            }
        }
    }

    private void nullLossLeavesWeightsUnchanged(Function<List<ai.djl.nn.Parameter>, Optimizer> optimizer) {
        StepProbe probe = new StepProbe();
        Trainer trainer = quiet(root).maxEpochs(1).callbacks(probe).build();
        BoringModule module = new BoringModule() {
            @Override
            public OptimizerConfig configureOptimizers() {
                return OptimizerConfig.of(optimizer.apply(parameters()));
            }
        };
        module.noneAt(Set.of(1, 2));
        try (module) {
            trainer.fit(module, BoringModule.data(manager, 4));
        }
        List<List<float[]>> w = probe.atBatchEnd;
        assertThat(w).hasSize(4);
        // batches 1 and 2 returned null: no backward, and the step leaves every weight as it was
        assertThat(sameWeights(w.get(0), w.get(1))).isTrue();
        assertThat(sameWeights(w.get(1), w.get(2))).isTrue();
        // batch 3 trained as usual
        assertThat(sameWeights(w.get(2), w.get(3))).isFalse();
        // every batch still counts as an optimizer step
        assertThat(trainer.globalStep()).isEqualTo(4);
        assertThat(module.events()).filteredOn(e -> e.event().equals("optimizer_step")).hasSize(4);
    }

    @Test
    void aNullLossSkipsTheSgdUpdateButCountsTheStep() {
        nullLossLeavesWeightsUnchanged(params -> new Sgd(params, LR));
    }

    @Test
    void aNullLossSkipsTheAdamUpdateDespiteItsMomentum() {
        nullLossLeavesWeightsUnchanged(params -> new Adam(params, 0.01));
    }

    @Test
    void aNullLossSkipsTheUpdateOfSgdWithMomentumAndWeightDecay() {
        nullLossLeavesWeightsUnchanged(params -> Sgd.builder().lr(LR).momentum(0.9).weightDecay(0.1).build(params));
    }

    @Test
    void optimizerStepThatForgetsTheClosureIsReported() {
        BoringModule module = new BoringModule() {
            @Override
            public void optimizerStep(int epoch, int batchIdx, LightningOptimizer optimizer, Runnable closure) {
                // forgot optimizer.step(closure)
            }
        };
        try (module) {
            assertThatThrownBy(() -> quiet(root).maxEpochs(1).build().fit(module, BoringModule.data(manager, 1)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("optimizerStep did not run the closure");
        }
    }

    @Test
    void optimizerStepCanSkipUpdatesWhileStillRunningTheClosure() {
        // a warm-up style override: run the closure (training step + backward) but step only on odd batches
        StepProbe probe = new StepProbe();
        BoringModule module = new BoringModule() {
            @Override
            public void optimizerStep(int epoch, int batchIdx, LightningOptimizer optimizer, Runnable closure) {
                if (batchIdx % 2 == 1) {
                    optimizer.step(closure);
                } else {
                    closure.run();
                }
            }
        };
        try (module) {
            quiet(root).maxEpochs(1).callbacks(probe).build().fit(module, BoringModule.data(manager, 3));
        }
        assertThat(sameWeights(probe.atBatchEnd.get(1), probe.atBatchEnd.get(2))).isTrue();
        assertThat(probe.beforeStep).hasSize(1);
        assertThat(module.events()).filteredOn(e -> e.event().equals("training_step")).hasSize(3);
    }
}
