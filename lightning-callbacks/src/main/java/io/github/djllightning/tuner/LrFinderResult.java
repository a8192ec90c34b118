package io.github.djllightning.tuner;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a learning-rate range test measured: the learning rate of each optimizer step and the smoothed training loss
 * after it, and the rate where the loss falls fastest. Lightning's {@code _LRFinder} results, without the plot: {@link
 * #summary()} draws the curve as text.
 *
 * <p>The losses are smoothed as in Lightning, by an exponential moving average with {@code beta = 0.98} and bias
 * correction: {@code avg = beta * avg + (1 - beta) * loss; smoothed = avg / (1 - beta^n)} after the n-th loss.
 * <b>Better than Lightning</b>: Lightning divides by {@code 1 - beta^(n + 1)}, so its first smoothed loss is about half
 * the real one and its curve climbs over the first ~30 points (Lightning issue #14167), and its early stop compares
 * with that halved value. A step whose {@code trainingStep} returned no loss has a NaN loss.
 */
public final class LrFinderResult {

    private static final Logger LOG = LoggerFactory.getLogger(LrFinderResult.class);

    /** The default number of leading points {@link #suggestion()} leaves out. */
    public static final int SKIP_BEGIN = 10;
    /** The default number of trailing points {@link #suggestion()} leaves out. */
    public static final int SKIP_END = 1;

    private static final int SUMMARY_ROWS = 20;
    private static final int BAR_WIDTH = 30;

    private final LrFinderOptions options;
    private final List<Double> lrs;
    private final List<Double> losses;
    private final boolean diverged;

    /**
     * Creates a result.
     *
     * @param options how the search ran
     * @param lrs the learning rate of each recorded step
     * @param losses the smoothed loss of each recorded step (as many as {@code lrs})
     * @param diverged whether the search stopped early because the loss diverged
     * @throws IllegalArgumentException when the lists differ in length
     */
    public LrFinderResult(LrFinderOptions options, List<Double> lrs, List<Double> losses, boolean diverged) {
        if (lrs.size() != losses.size()) {
            throw new IllegalArgumentException("a learning-rate finder result needs one loss per learning rate, got "
                    + lrs.size() + " learning rates and " + losses.size() + " losses");
        }
        this.options = options;
        this.lrs = Collections.unmodifiableList(new ArrayList<>(lrs));
        this.losses = Collections.unmodifiableList(new ArrayList<>(losses));
        this.diverged = diverged;
    }

    /** How the search ran. */
    public LrFinderOptions options() {
        return options;
    }

    /** The learning rate of each recorded optimizer step, in order. */
    public List<Double> lrs() {
        return lrs;
    }

    /** The smoothed training loss after each recorded step, in order; NaN where the step gave no loss. */
    public List<Double> losses() {
        return losses;
    }

    /** Whether the search stopped before {@code numTraining} steps because the smoothed loss diverged. */
    public boolean diverged() {
        return diverged;
    }

    /**
     * The suggested learning rate with Lightning's defaults: the first 10 and the last point left out.
     *
     * @return the rate where the smoothed loss falls fastest, or empty when fewer than 2 finite points remain
     */
    public OptionalDouble suggestion() {
        return suggestion(SKIP_BEGIN, SKIP_END);
    }

    /**
     * The suggested learning rate: the recorded rate at which the smoothed loss falls fastest, that is where its
     * gradient is the most negative. The gradient is taken over the finite points left after skipping, with
     * second-order central differences for unevenly spaced points inside and one-sided differences at the two ends
     * (as {@code torch.gradient} computes it), with respect to the learning rate in linear mode and to its logarithm
     * in exponential mode. <b>Better than Lightning</b>: Lightning 2.6 differentiates with respect to the learning rate
     * in both modes; with exponentially spaced rates that divides the noise of the first points by tiny spacings, so
     * its suggestion lands among the smallest rates whenever the loss is noisy (Lightning issue #21141).
     *
     * @param skipBegin leading points left out (they are noisy: the model has barely moved)
     * @param skipEnd trailing points left out (the loss may already be diverging); unlike Lightning, 0 leaves out
     *     nothing rather than everything
     * @return the rate where the smoothed loss falls fastest, or empty when fewer than 2 finite points remain
     * @throws IllegalArgumentException for negative skips
     */
    public OptionalDouble suggestion(int skipBegin, int skipEnd) {
        OptionalInt index = suggestionIndex(skipBegin, skipEnd);
        return index.isPresent() ? OptionalDouble.of(lrs.get(index.getAsInt())) : OptionalDouble.empty();
    }

    /**
     * The step whose learning rate {@link #suggestion(int, int)} returns.
     *
     * @param skipBegin leading points left out
     * @param skipEnd trailing points left out
     * @return the index into {@link #lrs()}, or empty when fewer than 2 finite points remain
     * @throws IllegalArgumentException for negative skips
     */
    public OptionalInt suggestionIndex(int skipBegin, int skipEnd) {
        if (skipBegin < 0 || skipEnd < 0) {
            throw new IllegalArgumentException("suggestion skips must be >= 0, got skipBegin=" + skipBegin
                    + " and skipEnd=" + skipEnd);
        }
        List<Integer> points = new ArrayList<>();
        for (int i = skipBegin; i < losses.size() - skipEnd; i++) {
            if (Double.isFinite(losses.get(i))) {
                points.add(i);
            }
        }
        if (points.size() < 2) {
            LOG.error("Failed to compute a learning-rate suggestion: {} finite points remain after skipping {} and {},"
                    + " and at least 2 are needed. Raise numTraining, or give the search more training batches.",
                    points.size(), skipBegin, skipEnd);
            return OptionalInt.empty();
        }
        int steepest = -1;
        double steepestGradient = Double.POSITIVE_INFINITY;
        int n = points.size();
        for (int k = 0; k < n; k++) {
            double gradient = gradient(points, k);
            if (steepest < 0 || gradient < steepestGradient) {
                steepest = k;
                steepestGradient = gradient;
            }
        }
        return OptionalInt.of(points.get(steepest));
    }

    /** Where a point lies on the axis the gradient is taken along: the rate, or its logarithm in exponential mode. */
    private double coordinate(int index) {
        double lr = lrs.get(index);
        return LrFinderOptions.EXPONENTIAL.equals(options.mode()) ? Math.log10(lr) : lr;
    }

    /** The gradient at the k-th of the given points, as {@code torch.gradient} computes it for uneven spacing. */
    private double gradient(List<Integer> points, int k) {
        int n = points.size();
        if (k == 0 || k == n - 1) {
            int a = points.get(k == 0 ? 0 : n - 2);
            int b = points.get(k == 0 ? 1 : n - 1);
            return (losses.get(b) - losses.get(a)) / (coordinate(b) - coordinate(a));
        }
        int previous = points.get(k - 1);
        int here = points.get(k);
        int next = points.get(k + 1);
        double left = coordinate(here) - coordinate(previous);
        double right = coordinate(next) - coordinate(here);
        return (left * left * losses.get(next) - right * right * losses.get(previous)
                        + (right * right - left * left) * losses.get(here))
                / (left * right * (left + right));
    }

    /**
     * The result as text: the settings, the suggestion, and about 20 evenly spaced points of the curve with a bar
     * per loss (longer is higher), the suggested step marked. The plot-free counterpart of Lightning's {@code plot}.
     *
     * @return several lines of text
     */
    public String summary() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Learning-rate finder: %d of %d steps, %s from %.3g to %.3g%s%n",
                lrs.size(), options.numTraining(), options.mode(), options.minLr(), options.maxLr(),
                diverged ? ", stopped early: the loss diverged" : ""));
        OptionalInt suggested = lrs.isEmpty() ? OptionalInt.empty() : quietSuggestionIndex();
        if (suggested.isPresent()) {
            out.append(String.format(Locale.ROOT, "Suggested learning rate: %.3g (step %d, where the smoothed loss"
                    + " falls fastest)%n", lrs.get(suggested.getAsInt()), suggested.getAsInt()));
        } else {
            out.append(String.format(Locale.ROOT, "No suggestion: fewer than 2 finite points after leaving out the"
                    + " first %d and the last %d.%n", SKIP_BEGIN, SKIP_END));
        }
        if (lrs.isEmpty()) {
            return out.toString();
        }
        double low = Double.POSITIVE_INFINITY;
        double high = Double.NEGATIVE_INFINITY;
        for (double loss : losses) {
            if (Double.isFinite(loss)) {
                low = Math.min(low, loss);
                high = Math.max(high, loss);
            }
        }
        out.append(String.format(Locale.ROOT, "%6s  %13s  %13s%n", "step", "learning rate", "smoothed loss"));
        int stride = Math.max(1, (lrs.size() + SUMMARY_ROWS - 1) / SUMMARY_ROWS);
        for (int i = 0; i < lrs.size(); i++) {
            boolean isSuggestion = suggested.isPresent() && suggested.getAsInt() == i;
            if (i % stride != 0 && i != lrs.size() - 1 && !isSuggestion) {
                continue;
            }
            double loss = losses.get(i);
            int bar = !Double.isFinite(loss) ? 0
                    : high > low ? 1 + (int) Math.round((loss - low) / (high - low) * (BAR_WIDTH - 1)) : 1;
            out.append(String.format(Locale.ROOT, "%6d  %13.3e  %13.5g  %-" + BAR_WIDTH + "s%s%n", i, lrs.get(i), loss,
                    "#".repeat(bar), isSuggestion ? "  <- suggestion" : ""));
        }
        return out.toString();
    }

    private OptionalInt quietSuggestionIndex() {
        int finite = 0;
        for (int i = SKIP_BEGIN; i < losses.size() - SKIP_END; i++) {
            if (Double.isFinite(losses.get(i))) {
                finite++;
            }
        }
        return finite < 2 ? OptionalInt.empty() : suggestionIndex(SKIP_BEGIN, SKIP_END);
    }

    /**
     * The result as plain values, for checkpoints: {@code lrs}, {@code losses} (non-finite losses as null, which JSON
     * can hold) and {@code diverged}.
     *
     * @return a new map
     */
    public Map<String, Object> stateDict() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("lrs", new ArrayList<>(lrs));
        List<Object> storedLosses = new ArrayList<>();
        for (double loss : losses) {
            storedLosses.add(Double.isFinite(loss) ? loss : null);
        }
        state.put("losses", storedLosses);
        state.put("diverged", diverged);
        return state;
    }

    /**
     * Rebuilds a result from {@link #stateDict()}.
     *
     * @param options how the search ran
     * @param state the stored values
     * @return the result; non-finite losses come back as NaN
     * @throws IllegalArgumentException naming the entry that is missing or malformed
     */
    public static LrFinderResult fromStateDict(LrFinderOptions options, Map<String, Object> state) {
        List<Double> lrs = numbers(state, "lrs", false);
        List<Double> losses = numbers(state, "losses", true);
        Object diverged = state.get("diverged");
        if (!(diverged instanceof Boolean)) {
            throw new IllegalArgumentException("'diverged' must be true or false, found " + diverged);
        }
        return new LrFinderResult(options, lrs, losses, (Boolean) diverged);
    }

    private static List<Double> numbers(Map<String, Object> state, String key, boolean nullIsNaN) {
        Object value = state.get(key);
        if (!(value instanceof List)) {
            throw new IllegalArgumentException("'" + key + "' must be a list of numbers, found " + value);
        }
        List<Double> out = new ArrayList<>();
        for (Object item : (List<?>) value) {
            if (item instanceof Number) {
                out.add(((Number) item).doubleValue());
            } else if (item == null && nullIsNaN) {
                out.add(Double.NaN);
            } else {
                throw new IllegalArgumentException("'" + key + "' must be a list of numbers, found " + item);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        OptionalInt index = lrs.isEmpty() ? OptionalInt.empty() : quietSuggestionIndex();
        return "LrFinderResult(" + lrs.size() + " steps, suggestion="
                + (index.isPresent() ? String.valueOf(lrs.get(index.getAsInt())) : "none") + ")";
    }
}
