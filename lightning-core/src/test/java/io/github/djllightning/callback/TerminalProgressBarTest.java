package io.github.djllightning.callback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.djllightning.trainer.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TerminalProgressBarTest {

    private static final long MS = 1_000_000L;

    /** A bar on a captured stream and a hand-moved clock. */
    private static final class Harness {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final long[] now = {0};
        final TerminalProgressBar bar;

        Harness(int refreshRate, boolean leave, boolean terminal) {
            PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
            bar = new TerminalProgressBar(refreshRate, leave, out, () -> now[0], terminal);
        }

        String output() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        /** The texts drawn in place: what follows each '\r' (blank erasures dropped). */
        List<String> frames() {
            List<String> frames = new java.util.ArrayList<>();
            for (String part : output().split("\r", -1)) {
                String frame = part.replace("\n", "").strip();
                if (!frame.isEmpty()) {
                    frames.add(frame);
                }
            }
            return frames;
        }

        long count(char c) {
            return output().chars().filter(ch -> ch == c).count();
        }
    }

    private static Map<String, Object> postfix(Object... keyValues) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            out.put((String) keyValues[i], keyValues[i + 1]);
        }
        return out;
    }

    // ------------------------------------------------------------------ rendering

    @Test
    void rendersAKnownTotal() {
        assertThat(TerminalProgressBar.render(
                        "Epoch 0", 450, 1000, 3.46, postfix("v_num", 0, "train_loss", 0.123456)))
                .isEqualTo("Epoch 0:  45%|████▌     | 450/1000 [00:03<00:04, 130.06it/s, v_num=0, train_loss=0.123]");
    }

    @Test
    void rendersTheStartAndTheEnd() {
        assertThat(TerminalProgressBar.render("Epoch 1", 0, 10, 0, Map.of()))
                .isEqualTo("Epoch 1:   0%|          | 0/10 [00:00<?, ?it/s]");
        assertThat(TerminalProgressBar.render("Testing DataLoader 0", 10, 10, 2, Map.of()))
                .isEqualTo("Testing DataLoader 0: 100%|██████████| 10/10 [00:02<00:00,  5.00it/s]");
    }

    @Test
    void rendersAnUnknownTotal() {
        assertThat(TerminalProgressBar.render("Epoch 0", 450, -1, 3.46, postfix("v_num", 3)))
                .isEqualTo("Epoch 0: 450 [00:03, 130.06it/s, v_num=3]");
        assertThat(TerminalProgressBar.render("Predicting DataLoader 0", 0, 0, 0, Map.of()))
                .isEqualTo("Predicting DataLoader 0: 0 [00:00, ?it/s]");
    }

    @Test
    void slowStagesShowSecondsPerBatch() {
        assertThat(TerminalProgressBar.render("Validation DataLoader 0", 1, 4, 2.5, Map.of()))
                .isEqualTo("Validation DataLoader 0:  25%|██▌       | 1/4 [00:02<00:07,  2.50s/it]");
        assertThat(TerminalProgressBar.rate(0.01)).isEqualTo("100.00s/it");
        assertThat(TerminalProgressBar.rate(1)).isEqualTo(" 1.00it/s");
        assertThat(TerminalProgressBar.rate(12345.678)).isEqualTo("12345.68it/s");
        assertThat(TerminalProgressBar.rate(Double.NaN)).isEqualTo("?it/s");
    }

    @Test
    void partialBlocksFillTheBar() {
        assertThat(TerminalProgressBar.render("", 1, 80, 1, Map.of())).startsWith("  1%|▏         |");
        assertThat(TerminalProgressBar.render("", 7, 80, 1, Map.of())).startsWith("  9%|▉         |");
        assertThat(TerminalProgressBar.render("", 79, 80, 1, Map.of())).startsWith(" 99%|█████████▉|");
        assertThat(TerminalProgressBar.render("", 12, 10, 1, Map.of())).startsWith("120%|██████████|");
    }

    @Test
    void intervalsUseHoursFromOneHourOn() {
        assertThat(TerminalProgressBar.interval(0)).isEqualTo("00:00");
        assertThat(TerminalProgressBar.interval(59.9)).isEqualTo("00:59");
        assertThat(TerminalProgressBar.interval(754)).isEqualTo("12:34");
        assertThat(TerminalProgressBar.interval(3723)).isEqualTo("1:02:03");
        assertThat(TerminalProgressBar.interval(Double.POSITIVE_INFINITY)).isEqualTo("00:00");
    }

    @Test
    void metricValuesUseThreeSignificantDigitsUnlessShorterPlain() {
        assertThat(TerminalProgressBar.formatValue(0.123456)).isEqualTo("0.123");
        assertThat(TerminalProgressBar.formatValue(0.5)).isEqualTo("0.5");
        assertThat(TerminalProgressBar.formatValue(2.0)).isEqualTo("2");
        assertThat(TerminalProgressBar.formatValue(1234.5)).isEqualTo("1234.5");
        assertThat(TerminalProgressBar.formatValue(12345678.9)).isEqualTo("1.23e+7");
        assertThat(TerminalProgressBar.formatValue(1e-5)).isEqualTo("1e-5");
        assertThat(TerminalProgressBar.formatValue(0.000123456)).isEqualTo("0.000123");
        assertThat(TerminalProgressBar.formatValue(Double.NaN)).isEqualTo("nan");
        assertThat(TerminalProgressBar.formatValue(0)).isEqualTo("0");
        assertThat(TerminalProgressBar.formatValue(12345)).isEqualTo("12345");
        assertThat(TerminalProgressBar.formatValue(1234567890L)).isEqualTo("1.23e+9");
        assertThat(TerminalProgressBar.formatValue("a1b2")).isEqualTo("a1b2");
    }

    @Test
    void negativeRefreshRateIsRejectedAndZeroDisables() {
        assertThatThrownBy(() -> new TerminalProgressBar(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        Harness off = new Harness(0, false, true);
        assertThat(off.bar.isEnabled()).isFalse();
        assertThat(off.bar.refreshRate()).isZero();
    }

    // ------------------------------------------------------------------ refresh rules

    @Test
    void terminalRedrawsAtMostTenTimesPerSecondPlusTheEnd() {
        Harness h = new Harness(1, false, true);
        TerminalProgressBar.Bar bar = h.bar.trainBar();
        h.bar.begin(bar, "Epoch 0", 1000, null);
        for (int i = 1; i <= 1000; i++) {
            h.now[0] = i * MS;
            h.bar.update(bar, i);
        }
        h.bar.finishEpoch();
        List<String> frames = h.frames();
        // the first frame at start, one per 100 ms, one at the end
        assertThat(frames).hasSize(12);
        assertThat(frames.get(0)).startsWith("Epoch 0:   0%|");
        assertThat(frames.get(1)).contains(" 100/1000 ");
        assertThat(frames.get(11)).startsWith("Epoch 0: 100%|██████████| 1000/1000 [00:01<00:00, 1000.00it/s]");
        assertThat(h.count('\n')).isZero();
    }

    @Test
    void terminalRespectsTheRefreshRate() {
        Harness h = new Harness(50, false, true);
        TerminalProgressBar.Bar bar = h.bar.trainBar();
        h.bar.begin(bar, "Epoch 0", 1000, null);
        for (int i = 1; i <= 1000; i++) {
            h.now[0] = i * 1000 * MS;
            h.bar.update(bar, i);
        }
        h.bar.finishEpoch();
        assertThat(h.frames()).hasSize(1 + 20 + 1);
        assertThat(h.frames().get(1)).contains(" 50/1000 ");
    }

    @Test
    void plainOutputPrintsOnlyAtTheEndOfAFastStage() {
        Harness h = new Harness(1, false, false);
        TerminalProgressBar.Bar bar = h.bar.trainBar();
        h.bar.begin(bar, "Epoch 0", 1000, null);
        for (int i = 1; i <= 1000; i++) {
            h.now[0] = i * MS;
            h.bar.update(bar, i);
        }
        h.bar.finishEpoch();
        assertThat(h.count('\r')).isZero();
        assertThat(h.output().lines().toList())
                .containsExactly("Epoch 0: 100%|██████████| 1000/1000 [00:01<00:00, 1000.00it/s]");
    }

    @Test
    void plainOutputPrintsEveryTenSecondsWhileRunning() {
        Harness h = new Harness(1, false, false);
        TerminalProgressBar.Bar bar = h.bar.trainBar();
        h.bar.begin(bar, "Epoch 0", 1000, null);
        for (int i = 1; i <= 1000; i++) {
            h.now[0] = i * 100 * MS;
            h.bar.update(bar, i);
        }
        h.bar.finishEpoch();
        List<String> lines = h.output().lines().toList();
        assertThat(lines).hasSize(11);
        assertThat(lines.get(0)).isEqualTo("Epoch 0:  10%|█         | 100/1000 [00:10<01:30, 10.00it/s]");
        assertThat(lines.get(9)).contains("1000/1000 [01:40<00:00");
        assertThat(h.count('\r')).isZero();
    }

    @Test
    void metricsAreReadOnlyWhenDrawing() {
        Harness h = new Harness(1, false, true);
        AtomicInteger reads = new AtomicInteger();
        Supplier<Map<String, Object>> metrics = () -> {
            reads.incrementAndGet();
            return postfix("v_num", 0, "loss", 0.25);
        };
        TerminalProgressBar.Bar bar = h.bar.trainBar();
        h.bar.begin(bar, "Epoch 0", 100, metrics);
        for (int i = 1; i <= 100; i++) {
            h.now[0] = i * MS;
            h.bar.update(bar, i);
        }
        h.bar.finishEpoch();
        // at the start, after 100 ms, at the end
        assertThat(reads.get()).isEqualTo(3);
        assertThat(h.frames().get(1)).endsWith(", v_num=0, loss=0.25]");
    }

    // ------------------------------------------------------------------ lines on a terminal

    @Test
    void validationBorrowsTheTrainingLineAndGivesItBack() {
        Harness h = new Harness(1, false, true);
        TerminalProgressBar.Bar train = h.bar.trainBar();
        TerminalProgressBar.Bar eval = h.bar.evalBar();
        h.bar.begin(train, "Epoch 0", 4, null);
        h.now[0] = 200 * MS;
        h.bar.update(train, 4);
        h.bar.begin(eval, "Validation DataLoader 0", 2, null);
        h.now[0] = 400 * MS;
        h.bar.update(eval, 2);
        h.bar.end(eval, false);
        List<String> frames = h.frames();
        assertThat(frames.get(frames.size() - 1)).startsWith("Epoch 0: 100%|██████████| 4/4");
        assertThat(frames).anyMatch(f -> f.startsWith("Validation DataLoader 0: 100%"));
        assertThat(h.count('\n')).isZero();
    }

    @Test
    void aShorterLineCoversTheLongerOneBeforeIt() {
        Harness h = new Harness(1, false, true);
        TerminalProgressBar.Bar bar = h.bar.trainBar();
        h.bar.begin(bar, "Sanity Checking DataLoader 0", 2, null);
        h.bar.begin(bar, "Epoch 0", 2, null);
        String[] draws = h.output().split("\r", -1);
        assertThat(draws).hasSize(3);
        assertThat(draws[2]).startsWith("Epoch 0:   0%").hasSize(draws[1].length()).endsWith("      ");
    }

    @Test
    void keptBarsEndWithANewLine() {
        Harness h = new Harness(1, true, true);
        TerminalProgressBar.Bar train = h.bar.trainBar();
        h.bar.begin(train, "Epoch 0", 2, null);
        h.bar.update(train, 2);
        h.bar.finishEpoch();
        h.bar.begin(train, "Epoch 1", 2, null);
        h.bar.update(train, 2);
        h.bar.finishEpoch();
        h.bar.closeTrain();
        String[] lines = h.output().split("\n", -1);
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).contains("Epoch 0: 100%");
        assertThat(lines[1]).contains("Epoch 1: 100%");
        assertThat(lines[2]).isEmpty();
    }

    @Test
    void trainingLineIsClosedWhenTrainingEnds() {
        Harness h = new Harness(1, false, true);
        TerminalProgressBar.Bar train = h.bar.trainBar();
        h.bar.begin(train, "Epoch 0", 2, null);
        h.bar.finishEpoch();
        h.bar.begin(train, "Epoch 1", 2, null);
        h.bar.finishEpoch();
        h.bar.closeTrain();
        assertThat(h.output()).endsWith("\n");
        assertThat(h.count('\n')).isEqualTo(1);
    }

    @Test
    void printMovesTheBarBelowTheMessage() {
        Harness h = new Harness(1, false, true);
        TerminalProgressBar.Bar train = h.bar.trainBar();
        h.bar.begin(train, "Epoch 0", 10, null);
        h.bar.print("hello\nworld");
        String out = h.output();
        assertThat(out).contains("\rhello\nworld\n\rEpoch 0:   0%");
        int hello = out.indexOf("hello");
        assertThat(out.substring(0, hello)).matches("(?s)\rEpoch 0:.*\r *\r");
    }

    @Test
    void printWithoutATerminalIsAPlainLine() {
        Harness h = new Harness(1, false, false);
        h.bar.begin(h.bar.trainBar(), "Epoch 0", 10, null);
        h.bar.print("hello");
        assertThat(h.output()).isEqualTo("hello\n");
    }

    @Test
    void anExceptionMovesToAFreshLine() {
        Harness h = new Harness(1, false, true);
        h.bar.begin(h.bar.trainBar(), "Epoch 0", 10, null);
        h.bar.onException(null, null, new RuntimeException("boom"));
        assertThat(h.output()).endsWith("\n");
        assertThat(h.bar.trainBar().active).isFalse();
    }

    // ------------------------------------------------------------------ through the hooks

    @Test
    void hooksDrawAnEpochWithTheLoggerVersion(@TempDir Path root) {
        Trainer trainer = Trainer.builder().defaultRootDir(root).build();
        Harness h = new Harness(1, false, false);
        h.bar.onTrainEpochStart(trainer, null);
        for (int i = 0; i < 3; i++) {
            h.now[0] += 10 * MS;
            h.bar.onTrainBatchEnd(trainer, null, Map.of(), null, i);
        }
        h.bar.onTrainEpochEnd(trainer, null);
        h.bar.onTrainEnd(trainer, null);
        h.bar.teardown(trainer, null, null);
        // the Trainer knows no batch count outside fit, so the total shows as unknown
        assertThat(h.output().lines().toList()).containsExactly("Epoch 0: 3 [00:00, 100.00it/s, v_num=0]");
    }

    @Test
    void evaluationHooksNameTheStageAndLoader(@TempDir Path root) {
        Trainer trainer = Trainer.builder().defaultRootDir(root).build();
        Harness h = new Harness(1, false, false);
        h.bar.onTestStart(trainer, null);
        h.bar.onTestBatchStart(trainer, null, null, 0, 0);
        h.bar.onTestBatchEnd(trainer, null, null, null, 0, 0);
        h.bar.onTestBatchStart(trainer, null, null, 0, 1);
        h.bar.onTestBatchEnd(trainer, null, null, null, 0, 1);
        h.bar.onTestBatchStart(trainer, null, null, 1, 1);
        h.bar.onTestBatchEnd(trainer, null, null, null, 1, 1);
        h.bar.onTestEnd(trainer, null);
        h.bar.onPredictStart(trainer, null);
        h.bar.onPredictBatchStart(trainer, null, null, 0, 0);
        h.bar.onPredictBatchEnd(trainer, null, null, null, 0, 0);
        h.bar.onPredictEnd(trainer, null);
        assertThat(h.output().lines().toList()).containsExactly(
                "Testing DataLoader 0: 1 [00:00, ?it/s]",
                "Testing DataLoader 1: 2 [00:00, ?it/s]",
                "Predicting DataLoader 0: 1 [00:00, ?it/s]");
    }

    @Test
    void disabledBarPrintsNothing(@TempDir Path root) {
        Trainer trainer = Trainer.builder().defaultRootDir(root).build();
        Harness h = new Harness(1, false, true);
        h.bar.disable();
        h.bar.onTrainEpochStart(trainer, null);
        h.bar.onTrainBatchEnd(trainer, null, Map.of(), null, 0);
        h.bar.onTrainEpochEnd(trainer, null);
        h.bar.onTestStart(trainer, null);
        h.bar.onTestBatchStart(trainer, null, null, 0, 0);
        h.bar.onTestEnd(trainer, null);
        assertThat(h.output()).isEmpty();
        h.bar.enable();
        assertThat(h.bar.isEnabled()).isTrue();
    }
}
