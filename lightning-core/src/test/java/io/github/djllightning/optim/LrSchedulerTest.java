package io.github.djllightning.optim;

import static io.github.djllightning.optim.OptimTestSupport.asIfReadBack;
import static io.github.djllightning.optim.OptimTestSupport.param;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.github.djllightning.checkpoint.StateDict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LrSchedulerTest {

    private static final double BASE_LR = 0.1;

    private NDManager manager;
    private Parameter weight;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        weight = param(manager, "w", new Shape(2), 1, 2);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private Sgd sgd() {
        return Sgd.builder().lr(BASE_LR).momentum(0.9).build(List.of(weight));
    }

    /** The learning rate right after construction (epoch 0) and after each of {@code steps} steps. */
    private static List<Double> lrs(LrScheduler scheduler, int steps) {
        List<Double> lrs = new ArrayList<>();
        lrs.add(scheduler.optimizer().lr());
        for (int i = 0; i < steps; i++) {
            scheduler.step();
            lrs.add(scheduler.optimizer().lr());
            assertThat(scheduler.lastLr()).containsExactly(scheduler.optimizer().lr());
        }
        return lrs;
    }

    private static void assertSequence(List<Double> actual, IntToDoubleFunction expected) {
        for (int epoch = 0; epoch < actual.size(); epoch++) {
            double want = expected.applyAsDouble(epoch);
            assertThat(actual.get(epoch)).as("epoch " + epoch).isCloseTo(want, within(1e-12 * Math.max(1e-3, want)));
        }
    }

    @Test
    void stepLrDecaysEveryStepSizeEpochs() {
        try (Sgd sgd = sgd()) {
            StepLR scheduler = new StepLR(sgd, 3, 0.5);
            assertSequence(lrs(scheduler, 30), e -> BASE_LR * Math.pow(0.5, e / 3));
            assertThat(scheduler.lastEpoch()).isEqualTo(30);
            assertThat(scheduler.baseLrs()).containsExactly(BASE_LR);
            assertThat(sgd.paramGroups().get(0).getDouble("initial_lr")).isEqualTo(BASE_LR);
        }
    }

    @Test
    void multiStepLrCountsRepeatedMilestones() {
        try (Sgd sgd = sgd()) {
            List<Double> lrs = lrs(new MultiStepLR(sgd, List.of(2, 5, 5, 9)), 30);
            assertSequence(lrs, e -> BASE_LR * Math.pow(0.1, (e >= 2 ? 1 : 0) + (e >= 5 ? 2 : 0) + (e >= 9 ? 1 : 0)));
        }
    }

    @Test
    void exponentialLrDecaysEveryEpoch() {
        try (Sgd sgd = sgd()) {
            assertSequence(lrs(new ExponentialLR(sgd, 0.9), 30), e -> BASE_LR * Math.pow(0.9, e));
        }
    }

    @Test
    void cosineAnnealingFollowsTheHalfCosineAndRisesAgainAfterTMax() {
        try (Sgd sgd = sgd()) {
            double etaMin = 0.001;
            List<Double> lrs = lrs(new CosineAnnealingLR(sgd, 10, etaMin), 30);
            assertSequence(lrs, e -> etaMin + (BASE_LR - etaMin) * (1 + Math.cos(Math.PI * e / 10)) / 2);
            assertThat(lrs.get(10)).isCloseTo(etaMin, within(1e-15));
            assertThat(lrs.get(20)).isCloseTo(BASE_LR, within(1e-15));
        }
    }

    @Test
    void linearLrWarmsUpAndDecays() {
        try (Sgd sgd = sgd()) {
            assertSequence(lrs(new LinearLR(sgd, 0.25, 1.0, 4), 30),
                    e -> BASE_LR * (0.25 + 0.75 * Math.min(e, 4) / 4));
        }
        try (Sgd sgd = sgd()) {
            List<Double> lrs = lrs(new LinearLR(sgd), 30);
            assertSequence(lrs, e -> BASE_LR * (1.0 / 3 + (2.0 / 3) * Math.min(e, 5) / 5));
            assertThat(lrs.get(0)).isCloseTo(BASE_LR / 3, within(1e-15));
        }
        try (Sgd sgd = sgd()) {
            assertSequence(lrs(new LinearLR(sgd, 1.0, 0.1, 9), 30), e -> BASE_LR * (1 - 0.9 * Math.min(e, 9) / 9));
        }
    }

    @Test
    void lambdaLrScalesTheBaseRate() {
        try (Sgd sgd = sgd()) {
            assertSequence(lrs(new LambdaLR(sgd, e -> 1.0 / (e + 1)), 30), e -> BASE_LR / (e + 1));
        }
    }

    private static double cosAnneal(double from, double to, double pct) {
        return to + (from - to) * (1 + Math.cos(Math.PI * pct)) / 2;
    }

    @Test
    void oneCycleLrCyclesRateAndMomentum() {
        try (Sgd sgd = sgd()) {
            OneCycleLR scheduler = new OneCycleLR(sgd, 1.0, 30);
            ParamGroup group = sgd.paramGroups().get(0);
            // initial_lr = 1.0 / 25 = 0.04; the warm-up ends at step 0.3 * 30 - 1 = 8; min_lr = 0.04 / 1e4.
            for (int step = 0; step <= 29; step++) {
                double pct = step <= 8 ? step / 8.0 : (step - 8) / 21.0;
                double lr = step <= 8 ? cosAnneal(0.04, 1.0, pct) : cosAnneal(1.0, 4e-6, pct);
                double momentum = step <= 8 ? cosAnneal(0.95, 0.85, pct) : cosAnneal(0.85, 0.95, pct);
                assertThat(group.lr()).as("lr at step " + step).isCloseTo(lr, within(1e-12));
                assertThat(group.getDouble("momentum")).as("momentum at " + step).isCloseTo(momentum, within(1e-12));
                scheduler.step();
            }
            assertThat(group.options()).containsEntry("initial_lr", 0.04).containsEntry("max_lr", 1.0)
                    .containsEntry("max_momentum", 0.95).containsEntry("base_momentum", 0.85);
            assertThat(group.getDouble("min_lr")).isCloseTo(4e-6, within(1e-18));
            assertThatThrownBy(scheduler::step)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("OneCycleLR was stepped 31 times, but totalSteps is 30");
        }
    }

    @Test
    void oneCycleLrAnchorsAndBeta1OfAdam() {
        try (Adam adam = Adam.builder().lr(0.5).betas(0.9, 0.99).build(List.of(weight))) {
            OneCycleLR scheduler = new OneCycleLR(adam, 1.0, 30);
            List<Double> lrs = new ArrayList<>();
            List<Double> beta1s = new ArrayList<>();
            for (int step = 0; step < 30; step++) {
                lrs.add(adam.lr());
                beta1s.add(adam.paramGroups().get(0).getDouble("betas", 0));
                assertThat(adam.paramGroups().get(0).getDouble("betas", 1)).isEqualTo(0.99);
                scheduler.step();
            }
            assertThat(lrs.get(0)).isCloseTo(0.04, within(1e-15));
            assertThat(lrs.get(8)).isCloseTo(1.0, within(1e-15));
            assertThat(lrs.get(29)).isCloseTo(4e-6, within(1e-15));
            assertThat(beta1s.get(0)).isCloseTo(0.95, within(1e-15));
            assertThat(beta1s.get(8)).isCloseTo(0.85, within(1e-15));
            assertThat(beta1s.get(29)).isCloseTo(0.95, within(1e-15));
        }
    }

    @Test
    void oneCycleLrThreePhasesLinear() {
        try (Sgd sgd = sgd()) {
            OneCycleLR scheduler = OneCycleLR.builder(sgd, 2.0, 20).pctStart(0.25)
                    .annealStrategy(OneCycleLR.AnnealStrategy.LINEAR).threePhase(true).divFactor(10)
                    .finalDivFactor(100).baseMomentum(0.8).maxMomentum(0.9).build();
            ParamGroup group = sgd.paramGroups().get(0);
            // initial 0.2, max 2.0, min 0.002; phases end at steps 4, 8 and 19.
            for (int step = 0; step <= 19; step++) {
                double lr;
                double momentum;
                if (step <= 4) {
                    lr = 0.2 + (2.0 - 0.2) * step / 4;
                    momentum = 0.9 + (0.8 - 0.9) * step / 4;
                } else if (step <= 8) {
                    lr = 2.0 + (0.2 - 2.0) * (step - 4) / 4;
                    momentum = 0.8 + (0.9 - 0.8) * (step - 4) / 4;
                } else {
                    lr = 0.2 + (0.002 - 0.2) * (step - 8) / 11;
                    momentum = 0.9;
                }
                assertThat(group.lr()).as("lr at step " + step).isCloseTo(lr, within(1e-12));
                assertThat(group.getDouble("momentum")).as("momentum at " + step).isCloseTo(momentum, within(1e-12));
                scheduler.step();
            }
            // torch's linear anneal would overshoot to 0.002 - 0.198 / 11 < 0 at the allowed extra step.
            assertThat(group.lr()).isCloseTo(0.002, within(1e-15));
        }
    }

    @Test
    void plateauWaitsForPatienceAndCoolsDown() {
        try (Sgd sgd = Sgd.builder().lr(1.0).build(List.of(weight))) {
            ReduceLROnPlateau plateau = ReduceLROnPlateau.builder(sgd).factor(0.5).patience(1).cooldown(2)
                    .threshold(0.1).minLr(0.1).build();
            double[] metrics = {10, 9.5, 9.5, 9.4, 9.3, 9.3, 9.3, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7};
            // 9.5 is not below 10 * (1 - 0.1); two bad epochs exceed patience 1; two epochs after a cut are ignored;
            // the cut stops at minLr 0.1, and a cut smaller than eps (0 here) is skipped.
            double[] expected = {1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125, 0.125, 0.1,
                0.1, 0.1, 0.1, 0.1, 0.1};
            for (int i = 0; i < metrics.length; i++) {
                plateau.step(metrics[i]);
                assertThat(sgd.lr()).as("after metric " + i).isEqualTo(expected[i]);
            }
            assertThat(plateau.best()).isEqualTo(7.0);
            assertThat(plateau.cooldownCounter()).isEqualTo(1);
            assertThat(plateau.numBadEpochs()).isZero();
            assertThat(plateau.needsMetric()).isTrue();
            assertThatThrownBy(plateau::step).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("ReduceLROnPlateau needs the monitored metric: call step(metric) instead of step()");
        }
    }

    @Test
    void plateauInMaxModeWithAbsoluteThreshold() {
        try (Sgd sgd = Sgd.builder().lr(1.0).build(List.of(weight))) {
            ReduceLROnPlateau plateau = ReduceLROnPlateau.builder(sgd).mode(ReduceLROnPlateau.Mode.MAX)
                    .thresholdMode(ReduceLROnPlateau.ThresholdMode.ABS).threshold(0.5).patience(0).build();
            double[] metrics = {1.0, 1.4, 1.6, Double.NaN};
            double[] expected = {1, 0.1, 0.1, 0.01};
            for (int i = 0; i < metrics.length; i++) {
                plateau.step(metrics[i]);
                assertThat(sgd.lr()).as("after metric " + i).isCloseTo(expected[i], within(1e-15));
            }
            assertThat(plateau.best()).isEqualTo(1.6);
        }
    }

    @Test
    void groupsAddedLaterGetTheirBaseRateOnTheNextStep() {
        try (Sgd sgd = sgd()) {
            StepLR scheduler = new StepLR(sgd, 2, 0.5);
            scheduler.step();
            sgd.addParamGroup(new ParamGroup(List.of(param(manager, "head", new Shape(1), 0)), Map.of("lr", 1.0)));
            scheduler.step();
            assertThat(scheduler.lastLr()).containsExactly(0.05, 0.5);
            assertThat(scheduler.baseLrs()).containsExactly(BASE_LR, 1.0);
        }
    }

    @Test
    void anInvalidComputedRateChangesNothing() {
        try (Sgd sgd = sgd()) {
            LambdaLR scheduler = new LambdaLR(sgd, e -> e < 2 ? 1.0 : -0.5);
            scheduler.step();
            assertThatThrownBy(scheduler::step)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("LambdaLR computed learning rate -0.05 for param group 0 at epoch 2; a learning "
                            + "rate must be finite and >= 0");
            assertThat(sgd.lr()).isEqualTo(BASE_LR);
            assertThat(scheduler.lastEpoch()).isEqualTo(1);
            assertThatThrownBy(() -> scheduler.step(0.5)).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("LambdaLR does not take a metric; call step() instead of step(0.5)");
        }
    }

    /** Steps {@code before} times, saves, resumes into fresh objects and checks the next steps are identical. */
    private void assertResumes(Function<Optimizer, LrScheduler> factory, int before, boolean metric) {
        Parameter resumedWeight = param(manager, "w", new Shape(2), 1, 2);
        try (Sgd original = sgd(); Sgd resumedSgd = Sgd.builder().lr(0.7).momentum(0.3).build(List.of(resumedWeight))) {
            LrScheduler scheduler = factory.apply(original);
            double[] metrics = {5, 4, 4.5, 4.2, 4.1, 4.0, 4.3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1};
            int next = 0;
            for (; next < before; next++) {
                step(scheduler, metric, metrics[next]);
            }
            LrScheduler resumed = factory.apply(resumedSgd);
            resumedSgd.loadStateDict(asIfReadBack(original.stateDict(), manager));
            resumed.loadStateDict(asIfReadBack(scheduler.stateDict(), manager));
            assertThat(resumed.lastLr()).isEqualTo(scheduler.lastLr());
            for (; next < metrics.length; next++) {
                step(scheduler, metric, metrics[next]);
                step(resumed, metric, metrics[next]);
                assertThat(resumedSgd.paramGroups().get(0).options()).as(scheduler + " step " + next)
                        .isEqualTo(original.paramGroups().get(0).options());
                assertThat(resumed.lastLr()).isEqualTo(scheduler.lastLr());
            }
            assertThat(resumed.stateDict().values()).isEqualTo(scheduler.stateDict().values());
        }
    }

    private static void step(LrScheduler scheduler, boolean metric, double value) {
        if (metric) {
            scheduler.step(value);
        } else {
            scheduler.step();
        }
    }

    @Test
    void everySchedulerResumesItsSequence() {
        assertResumes(opt -> new StepLR(opt, 3, 0.5), 7, false);
        assertResumes(opt -> new MultiStepLR(opt, List.of(3, 9, 12), 0.3), 7, false);
        assertResumes(opt -> new ExponentialLR(opt, 0.8), 7, false);
        assertResumes(opt -> new CosineAnnealingLR(opt, 6, 0.01), 7, false);
        assertResumes(opt -> new LinearLR(opt, 0.1, 1.0, 10), 4, false);
        assertResumes(opt -> new LambdaLR(opt, e -> Math.exp(-e / 5.0)), 7, false);
        assertResumes(opt -> OneCycleLR.builder(opt, 1.0, 25).threePhase(true).build(), 7, false);
        assertResumes(opt -> ReduceLROnPlateau.builder(opt).patience(1).cooldown(1).build(), 5, true);
        assertResumes(opt -> ReduceLROnPlateau.builder(opt).patience(1).build(), 0, true);
    }

    @Test
    void stateDictLayoutFollowsTorch() {
        try (Sgd sgd = sgd()) {
            StepLR scheduler = new StepLR(sgd, 3);
            scheduler.step();
            assertThat(scheduler.stateDict().values()).containsExactly(Map.entry("step_size", 3),
                    Map.entry("gamma", 0.1), Map.entry("base_lrs", List.of(BASE_LR)), Map.entry("last_epoch", 1),
                    Map.entry("_last_lr", List.of(BASE_LR)));
            assertThat(scheduler.stateDict().tensors()).isEmpty();
            ReduceLROnPlateau plateau = new ReduceLROnPlateau(sgd);
            assertThat(plateau.stateDict().values()).containsEntry("best", null).containsEntry("mode", "min")
                    .containsEntry("threshold_mode", "rel").containsEntry("patience", 10);
            plateau.step(2.5);
            assertThat(plateau.stateDict().values()).containsEntry("best", 2.5).containsEntry("last_epoch", 1);
            assertThatThrownBy(() -> scheduler.loadStateDict(new StateDict()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("StepLR state dict has no 'base_lrs' entry");
        }
    }

    @Test
    void badArgumentsAreRejectedWithTheValueAndTheRange() {
        try (Sgd sgd = sgd(); Adam adam = new Adam(List.of(weight), 0.1)) {
            assertThatThrownBy(() -> new StepLR(sgd, 0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("StepLR stepSize must be >= 1, but was 0");
            assertThatThrownBy(() -> new StepLR(sgd, 2, -0.1))
                    .hasMessage("StepLR gamma must be a finite number > 0, but was -0.1");
            assertThatThrownBy(() -> new MultiStepLR(sgd, List.of(3, -1)))
                    .hasMessage("MultiStepLR milestones must be epochs >= 0, but were [3, -1]");
            assertThatThrownBy(() -> new ExponentialLR(sgd, 0))
                    .hasMessage("ExponentialLR gamma must be a finite number > 0, but was 0.0");
            assertThatThrownBy(() -> new CosineAnnealingLR(sgd, 0))
                    .hasMessage("CosineAnnealingLR tMax must be >= 1, but was 0");
            assertThatThrownBy(() -> new CosineAnnealingLR(sgd, 10, -1))
                    .hasMessage("CosineAnnealingLR etaMin must be a finite number >= 0, but was -1.0");
            assertThatThrownBy(() -> new LinearLR(sgd, 0, 1, 5))
                    .hasMessage("LinearLR startFactor must be in (0, 1], but was 0.0");
            assertThatThrownBy(() -> new LinearLR(sgd, 0.5, 1.5, 5))
                    .hasMessage("LinearLR endFactor must be in [0, 1], but was 1.5");
            assertThatThrownBy(() -> new LinearLR(sgd, 0.5, 1, 0))
                    .hasMessage("LinearLR totalIters must be >= 1, but was 0");
            assertThatThrownBy(() -> new LambdaLR(sgd, null))
                    .hasMessage("LambdaLR factor must not be null");
            assertThatThrownBy(() -> new StepLR(null, 3))
                    .hasMessage("StepLR optimizer must not be null");
            assertThatThrownBy(() -> OneCycleLR.builder(sgd, 0, 10))
                    .hasMessage("OneCycleLR maxLr must be a finite number > 0, but was 0.0");
            assertThatThrownBy(() -> OneCycleLR.builder(sgd, 1, 0))
                    .hasMessage("OneCycleLR totalSteps must be >= 1, but was 0");
            assertThatThrownBy(() -> OneCycleLR.builder(sgd, 1, 10).pctStart(1.5))
                    .hasMessage("OneCycleLR pctStart must be in [0, 1], but was 1.5");
            assertThatThrownBy(() -> OneCycleLR.builder(sgd, 1, 10).maxMomentum(1.0))
                    .hasMessage("OneCycleLR maxMomentum must be in [0, 1), but was 1.0");
            assertThatThrownBy(() -> OneCycleLR.builder(sgd, 1, 10).pctStart(0.1).build())
                    .hasMessage("OneCycleLR phase 1 has no steps with pctStart 0.1 and totalSteps 10: change "
                            + "pctStart so that pctStart * totalSteps is neither 1 nor totalSteps");
            assertThatThrownBy(() -> OneCycleLR.builder(sgd, 1, 10).pctStart(1.0).build())
                    .hasMessageStartingWith("OneCycleLR phase 2 has no steps");
            try (OptimizerLifecycleTest.SignSgd plain = new OptimizerLifecycleTest.SignSgd(List.of(weight), 0.1)) {
                assertThatThrownBy(() -> new OneCycleLR(plain, 1, 10))
                        .hasMessage("OneCycleLR cycles momentum, but SignSgd has neither 'momentum' nor 'betas': "
                                + "set cycleMomentum(false)");
                OneCycleLR withoutMomentum = OneCycleLR.builder(plain, 1, 10).cycleMomentum(false).build();
                assertThat(withoutMomentum.lastLr().get(0)).isCloseTo(0.04, within(1e-15));
            }
            assertThatThrownBy(() -> ReduceLROnPlateau.builder(adam).factor(1.0))
                    .hasMessage("ReduceLROnPlateau factor must be in [0, 1), but was 1.0");
            assertThatThrownBy(() -> ReduceLROnPlateau.builder(adam).patience(-1))
                    .hasMessage("ReduceLROnPlateau patience must be >= 0, but was -1");
            assertThatThrownBy(() -> ReduceLROnPlateau.builder(adam).minLr(-1e-3))
                    .hasMessage("ReduceLROnPlateau minLr must be a finite number >= 0, but was -0.001");
            assertThatThrownBy(() -> ReduceLROnPlateau.builder(adam).mode(null))
                    .hasMessage("ReduceLROnPlateau mode must not be null");
        }
    }
}
