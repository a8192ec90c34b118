package io.github.djllightning.tuner;

import io.github.djllightning.trainer.MisconfigurationException;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * How the learning-rate range test runs: Lightning's {@code lr_find} arguments, with its defaults. Validated when
 * created.
 *
 * @param minLr the learning rate of the first step (default {@code 1e-8}); {@code > 0}, or {@code >= 0} in linear
 *     mode
 * @param maxLr the learning rate of the last step (default 1); larger than {@code minLr}
 * @param numTraining the number of optimizer steps, one learning rate each (default 100); at least 1
 * @param mode how the rate grows from step to step: {@code "exponential"} (default) or {@code "linear"}
 * @param earlyStopThreshold the search stops once the smoothed loss exceeds this many times the best smoothed loss, or
 *     is no longer finite (default 4.0); null searches all {@code numTraining} steps
 * @param updateAttr whether the suggested rate is written to the module afterwards (default true)
 * @param attrName the hyperparameter that holds the learning rate; empty (default) means the module's {@link
 *     HasLearningRate}, else the hyperparameter {@code "lr"} or {@code "learning_rate"}
 */
public record LrFinderOptions(
        double minLr,
        double maxLr,
        int numTraining,
        String mode,
        Double earlyStopThreshold,
        boolean updateAttr,
        String attrName) {

    /** The exponential mode: the rate is multiplied by the same factor at every step. */
    public static final String EXPONENTIAL = "exponential";
    /** The linear mode: the same amount is added to the rate at every step. */
    public static final String LINEAR = "linear";

    /** Checks every value; see the class comment for what is valid. */
    public LrFinderOptions {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(attrName, "attrName");
        mode = mode.toLowerCase(Locale.ROOT);
        if (!EXPONENTIAL.equals(mode) && !LINEAR.equals(mode)) {
            throw new MisconfigurationException("The learning-rate finder's mode must be \"exponential\" or \"linear\","
                    + " got \"" + mode + "\".");
        }
        boolean exponential = EXPONENTIAL.equals(mode);
        if (!Double.isFinite(minLr) || (exponential ? minLr <= 0 : minLr < 0)) {
            throw new MisconfigurationException("The learning-rate finder's minLr must be a finite number "
                    + (exponential ? "> 0 in exponential mode" : ">= 0") + ", got " + minLr + "; the default is 1e-8.");
        }
        if (!Double.isFinite(maxLr) || maxLr <= minLr) {
            throw new MisconfigurationException("The learning-rate finder's maxLr must be a finite number larger than"
                    + " minLr=" + minLr + ", got " + maxLr + "; the default is 1.");
        }
        if (numTraining < 1) {
            throw new MisconfigurationException("The learning-rate finder's numTraining must be at least 1, got "
                    + numTraining + "; the default is 100 steps.");
        }
        if (earlyStopThreshold != null && !(earlyStopThreshold > 0 && Double.isFinite(earlyStopThreshold))) {
            throw new MisconfigurationException("The learning-rate finder's earlyStopThreshold must be a finite"
                    + " number > 0, or null to never stop early; got " + earlyStopThreshold + ". The default is 4.0.");
        }
    }

    /** The defaults: Lightning's {@code lr_find()}. */
    public static LrFinderOptions defaults() {
        return builder().build();
    }

    /** Starts a builder with the defaults. */
    public static Builder<LrFinderOptions> builder() {
        return new Builder<>(Function.identity());
    }

    /**
     * The learning rate of an optimizer step of the search, as Lightning's schedules set it: the first step uses
     * {@code minLr}, step {@code k >= 1} uses the rate at fraction {@code (k + 1) / numTraining} of the way from
     * {@code minLr} to {@code maxLr}, so the last step uses {@code maxLr}.
     *
     * @param step the optimizer step of the search, from 0
     * @return the learning rate
     */
    public double lrAt(long step) {
        if (step == 0) {
            return minLr;
        }
        double fraction = (double) (step + 1) / numTraining;
        return EXPONENTIAL.equals(mode)
                ? minLr * Math.pow(maxLr / minLr, fraction)
                : minLr + fraction * (maxLr - minLr);
    }

    /**
     * Builds {@link LrFinderOptions} (or, from {@code LearningRateFinder.builder()}, the callback), with Lightning's
     * defaults for whatever is not set.
     *
     * @param <T> what {@link #build()} returns
     */
    public static final class Builder<T> {
        private final Function<LrFinderOptions, T> finisher;
        private double minLr = 1e-8;
        private double maxLr = 1;
        private int numTraining = 100;
        private String mode = EXPONENTIAL;
        private Double earlyStopThreshold = 4.0;
        private boolean updateAttr = true;
        private String attrName = "";

        /**
         * Creates a builder that hands the options to a finisher.
         *
         * @param finisher turns the options into what {@link #build()} returns
         */
        public Builder(Function<LrFinderOptions, T> finisher) {
            this.finisher = Objects.requireNonNull(finisher, "finisher");
        }

        /** The learning rate of the first step (default {@code 1e-8}). */
        public Builder<T> minLr(double value) {
            minLr = value;
            return this;
        }

        /** The learning rate of the last step (default 1). */
        public Builder<T> maxLr(double value) {
            maxLr = value;
            return this;
        }

        /** The number of optimizer steps, one learning rate each (default 100). */
        public Builder<T> numTraining(int value) {
            numTraining = value;
            return this;
        }

        /** {@code "exponential"} (default) or {@code "linear"}. */
        public Builder<T> mode(String value) {
            mode = value;
            return this;
        }

        /** Stop once the smoothed loss exceeds this many times the best one (default 4.0); null never stops. */
        public Builder<T> earlyStopThreshold(Double value) {
            earlyStopThreshold = value;
            return this;
        }

        /** Whether the suggested rate is written to the module afterwards (default true). */
        public Builder<T> updateAttr(boolean value) {
            updateAttr = value;
            return this;
        }

        /** The hyperparameter holding the learning rate (default: {@link HasLearningRate}, "lr", "learning_rate"). */
        public Builder<T> attrName(String value) {
            attrName = value;
            return this;
        }

        /**
         * Validates the values and builds.
         *
         * @return the options, or what the finisher makes of them
         * @throws MisconfigurationException naming the value that is not valid
         */
        public T build() {
            return finisher.apply(
                    new LrFinderOptions(minLr, maxLr, numTraining, mode, earlyStopThreshold, updateAttr, attrName));
        }
    }
}
