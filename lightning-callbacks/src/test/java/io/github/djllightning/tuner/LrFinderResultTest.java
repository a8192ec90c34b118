package io.github.djllightning.tuner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.djllightning.trainer.MisconfigurationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The suggestion's arithmetic, the text summary, the stored form and the validation of the options. */
class LrFinderResultTest {

    private static final LrFinderOptions EXPONENTIAL = LrFinderOptions.defaults();

    /** Lightning's exponential ladder: 100 rates from 1e-8 to 1. */
    private static List<Double> ladder() {
        List<Double> lrs = new ArrayList<>();
        for (int k = 0; k < 100; k++) {
            lrs.add(EXPONENTIAL.lrAt(k));
        }
        return lrs;
    }

    /** A loss that is flat, then falls fastest at step 60, then flattens again. */
    private static List<Double> drop() {
        List<Double> losses = new ArrayList<>();
        for (int k = 0; k < 100; k++) {
            losses.add(2 - Math.tanh((k - 60) / 5.0));
        }
        return losses;
    }

    @Test
    void theLadderStartsAtMinLrEndsAtMaxLrAndSkipsTheFirstRungAsLightningDoes() {
        List<Double> lrs = ladder();
        assertThat(lrs.get(0)).isEqualTo(1e-8);
        assertThat(lrs.get(1)).isCloseTo(1e-8 * Math.pow(1e8, 2 / 100.0), org.assertj.core.data.Percentage.withPercentage(1e-9));
        assertThat(lrs.get(99)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
        LrFinderOptions linear = LrFinderOptions.builder().mode("LINEAR").minLr(0).maxLr(1).numTraining(10).build();
        assertThat(linear.mode()).isEqualTo("linear");
        assertThat(linear.lrAt(0)).isEqualTo(0.0);
        assertThat(linear.lrAt(1)).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(linear.lrAt(9)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
    }

    @Test
    void suggestsTheRateWhereTheSmoothedLossFallsFastest() {
        LrFinderResult result = new LrFinderResult(EXPONENTIAL, ladder(), drop(), false);
        assertThat(result.suggestionIndex(10, 1)).hasValue(60);
        assertThat(result.suggestion()).hasValue(ladder().get(60));
    }

    @Test
    void noiseAmongTheSmallestRatesDoesNotWinInExponentialMode() {
        // Lightning 2.6 differentiates with respect to the rate itself: a wiggle of 0.01 between 1e-7 and 1e-6 then
        // is a slope of about -1e4 and beats the real drop (slope about -2 per unit of rate)
        List<Double> losses = drop();
        for (int k = 10; k < 30; k++) {
            losses.set(k, losses.get(k) + (k % 2 == 0 ? 0.01 : -0.01));
        }
        LrFinderResult result = new LrFinderResult(EXPONENTIAL, ladder(), losses, false);
        assertThat(result.suggestionIndex(10, 1)).hasValue(60);
    }

    @Test
    void linearModeDifferentiatesWithRespectToTheRateLikeTorchGradient() {
        LrFinderOptions linear = LrFinderOptions.builder().mode("linear").minLr(0).maxLr(12).build();
        // numpy.gradient(y, x) = [-0.5, -0.583, -0.477, -0.113, 0.125, 0.2]: steepest at 1; by index it would be 2
        List<Double> lrs = List.of(1.0, 2.0, 4.0, 7.0, 11.0, 12.0);
        List<Double> losses = List.of(3.0, 2.5, 1.0, 0.8, 0.1, 0.3);
        LrFinderResult result = new LrFinderResult(linear, lrs, losses, false);
        assertThat(result.suggestionIndex(0, 0)).hasValue(1);
        assertThat(result.suggestion(0, 0)).hasValue(2.0);
    }

    @Test
    void leavesOutNonFinitePointsAndSkippedEnds() {
        List<Double> losses = new ArrayList<>(drop());
        losses.set(60, Double.NaN);
        losses.set(99, -1000.0);
        LrFinderResult result = new LrFinderResult(EXPONENTIAL, ladder(), losses, false);
        int index = result.suggestionIndex(10, 1).getAsInt();
        assertThat(index).isIn(59, 61);
        assertThat(result.suggestionIndex(10, 0)).hasValue(99);
    }

    @Test
    void hasNoSuggestionWithFewerThanTwoFinitePoints() {
        List<Double> lrs = ladder().subList(0, 12);
        List<Double> losses = new ArrayList<>(drop().subList(0, 12));
        losses.set(10, Double.POSITIVE_INFINITY);
        LrFinderResult result = new LrFinderResult(EXPONENTIAL, lrs, losses, true);
        assertThat(result.suggestion()).isEqualTo(OptionalDouble.empty());
        assertThat(result.summary()).contains("No suggestion").contains("stopped early");
        assertThatThrownBy(() -> result.suggestion(-1, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("skipBegin=-1");
    }

    @Test
    void theSummaryListsTheCurveAndMarksTheSuggestion() {
        String summary = new LrFinderResult(EXPONENTIAL, ladder(), drop(), false).summary();
        assertThat(summary).contains("100 of 100 steps, exponential from 1.00e-08 to 1.00")
                .contains("Suggested learning rate: " + String.format(java.util.Locale.ROOT, "%.3g", ladder().get(60)));
        List<String> rows = summary.lines().filter(line -> line.matches("\\s*\\d+\\s+\\d.*")).toList();
        assertThat(rows).hasSizeBetween(20, 22);
        assertThat(rows).filteredOn(row -> row.endsWith("<- suggestion")).singleElement()
                .satisfies(row -> assertThat(row.trim()).startsWith("60 "));
        // bars grow with the loss: the first row's loss (near 3) has the longest bar, the last (near 1) the shortest
        assertThat(rows.get(0).chars().filter(c -> c == '#').count())
                .isGreaterThan(rows.get(rows.size() - 1).chars().filter(c -> c == '#').count());
    }

    @Test
    void survivesTheStoredFormWithNonFiniteLosses() {
        List<Double> losses = new ArrayList<>(drop());
        losses.set(3, Double.NaN);
        LrFinderResult result = new LrFinderResult(EXPONENTIAL, ladder(), losses, true);
        Map<String, Object> state = result.stateDict();
        assertThat((List<?>) state.get("losses")).element(3).isNull();
        LrFinderResult back = LrFinderResult.fromStateDict(EXPONENTIAL, state);
        assertThat(back.lrs()).isEqualTo(result.lrs());
        assertThat(back.losses().get(3)).isNaN();
        assertThat(back.losses().subList(4, 100)).isEqualTo(result.losses().subList(4, 100));
        assertThat(back.diverged()).isTrue();
        assertThatThrownBy(() -> LrFinderResult.fromStateDict(EXPONENTIAL, Map.of("lrs", List.of("x"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'lrs'");
    }

    @Test
    void rejectsSettingsThatCannotWorkNamingTheValue() {
        assertThatThrownBy(() -> LrFinderOptions.builder().mode("cosine").build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("\"cosine\"");
        assertThatThrownBy(() -> LrFinderOptions.builder().minLr(0).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("minLr").hasMessageContaining("> 0");
        assertThatThrownBy(() -> LrFinderOptions.builder().minLr(0.1).maxLr(0.01).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("0.01");
        assertThatThrownBy(() -> LrFinderOptions.builder().numTraining(0).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("numTraining");
        assertThatThrownBy(() -> LrFinderOptions.builder().earlyStopThreshold(-1.0).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("-1.0");
        assertThat(LrFinderOptions.builder().earlyStopThreshold(null).build().earlyStopThreshold()).isNull();
        assertThatThrownBy(() -> BatchSizeOptions.builder().mode("linear").build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("\"linear\"");
        assertThatThrownBy(() -> BatchSizeOptions.builder().margin(1).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("margin");
        assertThatThrownBy(() -> BatchSizeOptions.builder().initVal(0).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("initVal");
        assertThatThrownBy(() -> BatchSizeOptions.builder().memoryBudgetBytes(0).build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("memoryBudgetBytes");
        assertThatThrownBy(() -> BatchSizeOptions.builder().batchArgName("").build())
                .isInstanceOf(MisconfigurationException.class).hasMessageContaining("batchArgName");
    }
}
