package io.github.djllightning.optim;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The 1cycle policy, like {@code torch.optim.lr_scheduler.OneCycleLR}: the learning rate rises from
 * {@code maxLr / divFactor} to {@code maxLr} over the first {@code pctStart} of {@code totalSteps}, then falls to
 * {@code initial_lr / finalDivFactor}; momentum (SGD's {@code momentum} or Adam's {@code beta1}) moves the opposite way
 * between {@code maxMomentum} and {@code baseMomentum}. Step it once per optimizer step.
 *
 * <p>Closed form, as in torch: each step finds its phase and anneals between the phase's end values, which are
 * stored in every param group as torch does ({@code initial_lr}, {@code max_lr}, {@code min_lr},
 * {@code max_momentum}, {@code base_momentum}), so they are saved with the optimizer. With {@code threePhase} the
 * rate returns to {@code initial_lr} symmetrically before a third phase anneals it to the minimum. Like torch it
 * may be stepped {@code totalSteps} times; unlike torch, that last step ends at {@code min_lr} instead of annealing
 * past it.
 */
public final class OneCycleLR extends AbstractLrScheduler {

    /** How the learning rate moves between the ends of a phase. */
    public enum AnnealStrategy {
        /** Half a cosine: slow at both ends (torch's {@code "cos"}, the default). */
        COS,
        /** A straight line (torch's {@code "linear"}). */
        LINEAR
    }

    private static final String MAX_LR = "max_lr";
    private static final String MIN_LR = "min_lr";
    private static final String MAX_MOMENTUM = "max_momentum";
    private static final String BASE_MOMENTUM = "base_momentum";

    /** One phase of the cycle: where it ends and which group options it anneals between. */
    private record Phase(double endStep, String startLr, String endLr, String startMomentum, String endMomentum) {}

    private final int totalSteps;
    private final double pctStart;
    private final AnnealStrategy annealStrategy;
    private final boolean cycleMomentum;
    private final boolean useBeta1;
    private final boolean threePhase;
    private final List<Phase> phases;

    private OneCycleLR(Builder builder) {
        super(builder.optimizer);
        Optimizer optimizer = builder.optimizer;
        this.totalSteps = builder.totalSteps;
        this.pctStart = builder.pctStart;
        this.annealStrategy = builder.annealStrategy;
        this.cycleMomentum = builder.cycleMomentum;
        this.threePhase = builder.threePhase;
        double warmupEnd = pctStart * totalSteps - 1;
        if (threePhase) {
            phases = List.of(
                    new Phase(warmupEnd, ParamGroup.INITIAL_LR, MAX_LR, MAX_MOMENTUM, BASE_MOMENTUM),
                    new Phase(2 * pctStart * totalSteps - 2, MAX_LR, ParamGroup.INITIAL_LR, BASE_MOMENTUM,
                            MAX_MOMENTUM),
                    new Phase(totalSteps - 1, ParamGroup.INITIAL_LR, MIN_LR, MAX_MOMENTUM, MAX_MOMENTUM));
        } else {
            phases = List.of(
                    new Phase(warmupEnd, ParamGroup.INITIAL_LR, MAX_LR, MAX_MOMENTUM, BASE_MOMENTUM),
                    new Phase(totalSteps - 1, MAX_LR, MIN_LR, BASE_MOMENTUM, MAX_MOMENTUM));
        }
        checkPhaseLengths();
        boolean hasBetas = optimizer.defaults().containsKey(ParamGroup.BETAS);
        if (cycleMomentum && !hasBetas && !optimizer.defaults().containsKey(ParamGroup.MOMENTUM)) {
            throw new IllegalArgumentException("OneCycleLR cycles momentum, but " + optimizer.name()
                    + " has neither 'momentum' nor 'betas': set cycleMomentum(false)");
        }
        this.useBeta1 = hasBetas;
        for (ParamGroup group : optimizer.paramGroups()) {
            double initialLr = builder.maxLr / builder.divFactor;
            group.set(ParamGroup.INITIAL_LR, initialLr);
            group.set(MAX_LR, builder.maxLr);
            group.set(MIN_LR, initialLr / builder.finalDivFactor);
            if (cycleMomentum) {
                setMomentum(group, builder.maxMomentum);
                group.set(MAX_MOMENTUM, builder.maxMomentum);
                group.set(BASE_MOMENTUM, builder.baseMomentum);
            }
        }
        initialStep();
    }

    /**
     * Creates a 1cycle schedule with torch's defaults (see {@link Builder}).
     *
     * @param optimizer the optimizer whose learning rate and momentum to set
     * @param maxLr the peak learning rate, a finite number {@code > 0}
     * @param totalSteps the number of steps in the cycle, {@code >= 1}
     */
    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps) {
        this(builder(optimizer, maxLr, totalSteps));
    }

    /**
     * Starts a builder with torch's defaults: pctStart 0.3, cosine annealing, momentum cycled between 0.85 and 0.95,
     * divFactor 25, finalDivFactor 1e4, two phases.
     *
     * @param optimizer the optimizer whose learning rate and momentum to set
     * @param maxLr the peak learning rate, a finite number {@code > 0}
     * @param totalSteps the number of steps in the cycle, {@code >= 1} (for example epochs * steps per epoch)
     * @return a new builder
     */
    public static Builder builder(Optimizer optimizer, double maxLr, int totalSteps) {
        return new Builder(optimizer, maxLr, totalSteps);
    }

    private void checkPhaseLengths() {
        double start = 0;
        for (int i = 0; i < phases.size(); i++) {
            // torch divides by each phase's length and fails with a ZeroDivisionError mid-training; fail here.
            if (phases.get(i).endStep() == start) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "OneCycleLR phase %d has no steps with pctStart %s and totalSteps %d: change pctStart so "
                                + "that pctStart * totalSteps is neither 1 nor totalSteps", i + 1, pctStart,
                        totalSteps));
            }
            start = phases.get(i).endStep();
        }
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalStateException if the cycle has already run {@code totalSteps} steps
     */
    @Override
    protected double computeLr(ParamGroup group, double baseLr, int epoch) {
        if (epoch > totalSteps) {
            throw new IllegalStateException("OneCycleLR was stepped " + epoch + " times, but totalSteps is "
                    + totalSteps + ": set totalSteps to the number of optimizer steps of the whole run");
        }
        double start = 0;
        for (int i = 0; i < phases.size(); i++) {
            Phase phase = phases.get(i);
            if (epoch <= phase.endStep() || i == phases.size() - 1) {
                // torch lets the last phase run one step past its end, where a linear anneal overshoots below
                // min_lr (negative for small ones); stopping at the phase's end keeps that last rate valid.
                double pct = Math.min((epoch - start) / (phase.endStep() - start), 1);
                if (cycleMomentum) {
                    setMomentum(group, anneal(group.getDouble(phase.startMomentum()),
                            group.getDouble(phase.endMomentum()), pct));
                }
                return anneal(group.getDouble(phase.startLr()), group.getDouble(phase.endLr()), pct);
            }
            start = phase.endStep();
        }
        throw new AssertionError("the last phase always matches");
    }

    private double anneal(double from, double to, double pct) {
        if (annealStrategy == AnnealStrategy.COS) {
            return to + (from - to) / 2.0 * (Math.cos(Math.PI * pct) + 1);
        }
        return (to - from) * pct + from;
    }

    private void setMomentum(ParamGroup group, double momentum) {
        if (useBeta1) {
            group.set(ParamGroup.BETAS, List.of(momentum, group.getDouble(ParamGroup.BETAS, 1)));
        } else {
            group.set(ParamGroup.MOMENTUM, momentum);
        }
    }

    /** {@inheritDoc} */
    @Override
    protected void putSettings(Map<String, Object> values) {
        values.put("total_steps", totalSteps);
        values.put("pct_start", pctStart);
        values.put("anneal_strategy", annealStrategy.name().toLowerCase(Locale.ROOT));
        values.put("cycle_momentum", cycleMomentum);
        values.put("use_beta1", useBeta1);
        values.put("three_phase", threePhase);
    }

    /** Collects OneCycleLR's settings; each setter checks its value at once. */
    public static final class Builder {

        private final Optimizer optimizer;
        private final double maxLr;
        private final int totalSteps;
        private double pctStart = 0.3;
        private AnnealStrategy annealStrategy = AnnealStrategy.COS;
        private boolean cycleMomentum = true;
        private double baseMomentum = 0.85;
        private double maxMomentum = 0.95;
        private double divFactor = 25;
        private double finalDivFactor = 1e4;
        private boolean threePhase;

        private Builder(Optimizer optimizer, double maxLr, int totalSteps) {
            this.optimizer = Checks.notNull("OneCycleLR", "optimizer", optimizer);
            this.maxLr = Checks.positive("OneCycleLR", "maxLr", maxLr);
            this.totalSteps = Checks.positive("OneCycleLR", "totalSteps", totalSteps);
        }

        /**
         * Sets the fraction of the cycle spent raising the learning rate.
         *
         * @param pctStart in {@code [0, 1]}; default 0.3
         * @return this builder
         */
        public Builder pctStart(double pctStart) {
            this.pctStart = Checks.closedUnitInterval("OneCycleLR", "pctStart", pctStart);
            return this;
        }

        /**
         * Sets how the learning rate moves within a phase.
         *
         * @param annealStrategy {@link AnnealStrategy#COS} (default) or {@link AnnealStrategy#LINEAR}
         * @return this builder
         */
        public Builder annealStrategy(AnnealStrategy annealStrategy) {
            this.annealStrategy = Checks.notNull("OneCycleLR", "annealStrategy", annealStrategy);
            return this;
        }

        /**
         * Chooses whether to cycle momentum inversely to the learning rate; the optimizer needs a {@code momentum}
         * or {@code betas} option for it.
         *
         * @param cycleMomentum whether to cycle momentum; default true
         * @return this builder
         */
        public Builder cycleMomentum(boolean cycleMomentum) {
            this.cycleMomentum = cycleMomentum;
            return this;
        }

        /**
         * Sets the momentum at the learning-rate peak.
         *
         * @param baseMomentum in {@code [0, 1)}; default 0.85
         * @return this builder
         */
        public Builder baseMomentum(double baseMomentum) {
            this.baseMomentum = Checks.unitInterval("OneCycleLR", "baseMomentum", baseMomentum);
            return this;
        }

        /**
         * Sets the momentum at the start and end of the cycle.
         *
         * @param maxMomentum in {@code [0, 1)}; default 0.95
         * @return this builder
         */
        public Builder maxMomentum(double maxMomentum) {
            this.maxMomentum = Checks.unitInterval("OneCycleLR", "maxMomentum", maxMomentum);
            return this;
        }

        /**
         * Sets the initial learning rate as {@code maxLr / divFactor}.
         *
         * @param divFactor a finite number {@code > 0}; default 25
         * @return this builder
         */
        public Builder divFactor(double divFactor) {
            this.divFactor = Checks.positive("OneCycleLR", "divFactor", divFactor);
            return this;
        }

        /**
         * Sets the final learning rate as {@code initial_lr / finalDivFactor}.
         *
         * @param finalDivFactor a finite number {@code > 0}; default 1e4
         * @return this builder
         */
        public Builder finalDivFactor(double finalDivFactor) {
            this.finalDivFactor = Checks.positive("OneCycleLR", "finalDivFactor", finalDivFactor);
            return this;
        }

        /**
         * Chooses the paper's three phases instead of fastai's two.
         *
         * @param threePhase whether to use three phases; default false
         * @return this builder
         */
        public Builder threePhase(boolean threePhase) {
            this.threePhase = threePhase;
            return this;
        }

        /**
         * Builds the scheduler and sets the initial learning rate and momentum on the optimizer.
         *
         * @return the scheduler
         * @throws IllegalArgumentException if a phase would have no steps, or momentum cannot be cycled
         */
        public OneCycleLR build() {
            return new OneCycleLR(this);
        }
    }
}
