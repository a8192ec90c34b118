package io.github.djllightning.callback;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import io.github.djllightning.util.PythonFormat;
import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The default progress bar: one text line per running stage on standard output, in the style of Lightning's {@code
 * TQDMProgressBar}.
 *
 * <pre>
 * Epoch 0:  45%|████▌     | 450/1000 [00:03&lt;00:04, 130.12it/s, v_num=0, train_loss=0.123]
 * </pre>
 *
 * <p>A line shows the stage, the percentage, a 10-cell bar, batches done / total, elapsed &lt; remaining time, the
 * rate (it/s, or s/it below one batch per second) and, on the training bar, {@link #metrics(Trainer) v_num and the
 * progress bar metrics} with 3 significant digits. When the total is unknown it shows {@code 450 [00:03, 130.12it/s]}.
 * The bars are: {@code Epoch N} (total: the epoch's training batches), {@code Sanity Checking DataLoader i}, {@code
 * Validation DataLoader i}, {@code Testing DataLoader i} and {@code Predicting DataLoader i}. Within fit, the
 * validation and sanity-check bars borrow the training bar's line and give it back when they end, unless {@code
 * leave} keeps them; the bars of {@code validate}, {@code test} and {@code predict} are always kept.
 *
 * <p>How it draws depends on whether standard output is a terminal. It is one when {@link System#console()} is
 * non-null (on Java 22 and later: when that console {@code isTerminal()}) and {@code TERM} is not {@code dumb}. The
 * {@code TERM} variable alone is not trusted, since it is inherited by processes whose output goes to a pipe or a file.
 * <ul>
 *   <li>Terminal: the line is redrawn in place with {@code '\r'}, at most every {@code refreshRate} batches and at
 *       most 10 times per second, and always when a stage ends.
 *   <li>Anything else (CI logs, pipes, IDE consoles): plain lines without {@code '\r'}: one when each epoch,
 *       validation, test or predict run ends, and at most one every 10 seconds while it runs.
 * </ul>
 *
 * <p>The per-batch cost is a counter update and a clock read; metrics are read (a device-to-host copy) and the line is
 * built only when it is drawn.
 */
public class TerminalProgressBar extends ProgressBar {

    static final long TERMINAL_INTERVAL_NANOS = 100_000_000L;
    static final long PLAIN_INTERVAL_NANOS = 10_000_000_000L;
    private static final int BAR_CELLS = 10;
    private static final String PARTIAL_BLOCKS = " \u258F\u258E\u258D\u258C\u258B\u258A\u2589";
    private static final char FULL_BLOCK = '\u2588';

    private final int refreshRate;
    private final boolean leave;
    private final PrintStream out;
    private final LongSupplier clock;
    private final boolean terminal;

    private final Bar train = new Bar();
    private final Bar eval = new Bar();
    private Bar shown;
    private int lineLength;
    private long lastDrawNanos;
    private int evalLoader = -1;
    private boolean evalKeep;
    private Trainer trainer;
    private final Supplier<Map<String, Object>> trainerMetrics = this::currentMetrics;

    /** Creates a bar that redraws after every batch (at most 10 times per second) and clears finished eval bars. */
    public TerminalProgressBar() {
        this(1, false);
    }

    /**
     * Creates a bar.
     *
     * @param refreshRate redraw at most every this many batches; 0 disables the bar
     */
    public TerminalProgressBar(int refreshRate) {
        this(refreshRate, false);
    }

    /**
     * Creates a bar.
     *
     * @param refreshRate redraw at most every this many batches; 0 disables the bar
     * @param leave keep each finished epoch's line and the validation bars of fit on the screen
     */
    public TerminalProgressBar(int refreshRate, boolean leave) {
        this(refreshRate, leave, System.out, System::nanoTime, detectTerminal());
    }

    /** Creates a bar on the given stream, clock and terminal mode, for tests. */
    TerminalProgressBar(int refreshRate, boolean leave, PrintStream out, LongSupplier nanoClock, boolean terminal) {
        if (refreshRate < 0) {
            throw new IllegalArgumentException(
                    "TerminalProgressBar refreshRate must be at least 0 (0 disables the bar), got " + refreshRate);
        }
        this.refreshRate = refreshRate;
        this.leave = leave;
        this.out = out;
        this.clock = nanoClock;
        this.terminal = terminal;
        if (refreshRate == 0) {
            super.disable();
        }
    }

    /** Redraw at most every this many batches. */
    public int refreshRate() {
        return refreshRate;
    }

    /** Whether finished epoch lines and fit's validation bars stay on the screen. */
    public boolean leave() {
        return leave;
    }

    /** Whether the bar redraws in place (standard output is a terminal) rather than printing plain lines. */
    public boolean isTerminal() {
        return terminal;
    }

    @Override
    public void disable() {
        closeLine();
        super.disable();
    }

    /** {@inheritDoc} On a terminal the bar's line is cleared, the message printed, and the bar drawn below it. */
    @Override
    public void print(String message) {
        if (!terminal || lineLength == 0) {
            out.println(message);
            return;
        }
        Bar current = shown;
        erase();
        out.println(message);
        if (current != null && current.active) {
            draw(current, clock.getAsLong());
        }
        out.flush();
    }

    // ------------------------------------------------------------------ training

    @Override
    public void onTrainEpochStart(Trainer trainer, LightningModule module) {
        if (!isEnabled()) {
            return;
        }
        this.trainer = trainer;
        begin(train, "Epoch " + trainer.currentEpoch(), trainer.numTrainingBatches(), trainerMetrics);
    }

    @Override
    public void onTrainBatchEnd(
            Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
        if (isEnabled() && train.active) {
            update(train, batchIdx + 1L);
        }
    }

    @Override
    public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
        if (isEnabled() && train.active) {
            finishEpoch();
        }
    }

    @Override
    public void onTrainEnd(Trainer trainer, LightningModule module) {
        if (isEnabled()) {
            closeTrain();
        }
    }

    // ------------------------------------------------------------------ validation, test, predict

    @Override
    public void onValidationStart(Trainer trainer, LightningModule module) {
        startEval(trainer);
    }

    @Override
    public void onValidationBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {
        if (isEnabled() && dataloaderIdx != evalLoader) {
            boolean sanity = trainer.isSanityChecking();
            List<Long> totals = sanity ? trainer.numSanityValBatches() : trainer.numValBatches();
            boolean keep = trainer.fn() == TrainerFn.FIT ? leave : true;
            switchEval(sanity ? "Sanity Checking" : "Validation", dataloaderIdx, total(totals, dataloaderIdx), keep);
        }
    }

    @Override
    public void onValidationBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        if (isEnabled() && eval.active) {
            update(eval, batchIdx + 1L);
        }
    }

    @Override
    public void onValidationEnd(Trainer trainer, LightningModule module) {
        endEval();
    }

    @Override
    public void onTestStart(Trainer trainer, LightningModule module) {
        startEval(trainer);
    }

    @Override
    public void onTestBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {
        if (isEnabled() && dataloaderIdx != evalLoader) {
            switchEval("Testing", dataloaderIdx, total(trainer.numTestBatches(), dataloaderIdx), true);
        }
    }

    @Override
    public void onTestBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        if (isEnabled() && eval.active) {
            update(eval, batchIdx + 1L);
        }
    }

    @Override
    public void onTestEnd(Trainer trainer, LightningModule module) {
        endEval();
    }

    @Override
    public void onPredictStart(Trainer trainer, LightningModule module) {
        startEval(trainer);
    }

    @Override
    public void onPredictBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {
        if (isEnabled() && dataloaderIdx != evalLoader) {
            switchEval("Predicting", dataloaderIdx, total(trainer.numPredictBatches(), dataloaderIdx), true);
        }
    }

    @Override
    public void onPredictBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        if (isEnabled() && eval.active) {
            update(eval, batchIdx + 1L);
        }
    }

    @Override
    public void onPredictEnd(Trainer trainer, LightningModule module) {
        endEval();
    }

    @Override
    public void onException(Trainer trainer, LightningModule module, Throwable exception) {
        closeLine();
    }

    @Override
    public void teardown(Trainer trainer, LightningModule module, TrainerFn stage) {
        closeLine();
        this.trainer = null;
    }

    private void startEval(Trainer trainer) {
        this.trainer = trainer;
        evalLoader = -1;
    }

    private void switchEval(String stage, int dataloaderIdx, long total, boolean keep) {
        if (eval.active) {
            end(eval, evalKeep);
        }
        evalLoader = dataloaderIdx;
        evalKeep = keep;
        begin(eval, stage + " DataLoader " + dataloaderIdx, total, null);
    }

    private void endEval() {
        if (isEnabled() && eval.active) {
            end(eval, evalKeep);
        }
        evalLoader = -1;
    }

    private static long total(List<Long> totals, int dataloaderIdx) {
        if (totals == null || dataloaderIdx < 0 || dataloaderIdx >= totals.size() || totals.get(dataloaderIdx) == null) {
            return -1;
        }
        return totals.get(dataloaderIdx);
    }

    private Map<String, Object> currentMetrics() {
        return trainer == null ? Map.of() : metrics(trainer);
    }

    // ------------------------------------------------------------------ drawing (package-private for tests)

    /**
     * Starts a bar at 0; on a terminal it is drawn at once.
     *
     * @param postfix supplies what follows the counts, or null for nothing
     */
    void begin(Bar bar, String description, long total, Supplier<Map<String, Object>> postfix) {
        long now = clock.getAsLong();
        bar.description = description;
        bar.total = total;
        bar.n = 0;
        bar.startNanos = now;
        bar.drawnN = 0;
        bar.lastPrintNanos = now;
        bar.postfix = postfix;
        bar.active = true;
        if (terminal) {
            draw(bar, now);
        }
    }

    /** Records progress; the hot path: draws only when the refresh rules allow it. */
    void update(Bar bar, long n) {
        bar.n = n;
        if (terminal) {
            if (n - bar.drawnN >= refreshRate) {
                long now = clock.getAsLong();
                if (now - lastDrawNanos >= TERMINAL_INTERVAL_NANOS) {
                    draw(bar, now);
                }
            }
        } else {
            long now = clock.getAsLong();
            if (now - bar.lastPrintNanos >= PLAIN_INTERVAL_NANOS) {
                printLine(bar, now);
            }
        }
    }

    /**
     * Ends a bar: draws it a last time, then keeps its line or clears it; on a terminal, a training bar that was
     * interrupted by this one is drawn again.
     */
    void end(Bar bar, boolean keep) {
        long now = clock.getAsLong();
        bar.active = false;
        if (!terminal) {
            printLine(bar, now);
            return;
        }
        draw(bar, now);
        if (keep) {
            newLine();
        } else {
            erase();
        }
        if (bar != train && train.active) {
            draw(train, now);
        }
        out.flush();
    }

    /** Draws the training bar at the end of an epoch; with {@code leave}, its line is kept and closed. */
    void finishEpoch() {
        long now = clock.getAsLong();
        if (!terminal) {
            train.active = false;
            printLine(train, now);
            return;
        }
        draw(train, now);
        if (leave) {
            train.active = false;
            newLine();
        }
        out.flush();
    }

    /** Ends the training bar's line when training ends. */
    void closeTrain() {
        train.active = false;
        if (terminal && shown == train) {
            newLine();
            out.flush();
        }
    }

    /** Moves to a fresh line if a bar is drawn on the current one, e.g. before an exception's stack trace. */
    void closeLine() {
        if (terminal && lineLength > 0) {
            newLine();
            out.flush();
        }
        train.active = false;
        eval.active = false;
        evalLoader = -1;
    }

    Bar trainBar() {
        return train;
    }

    Bar evalBar() {
        return eval;
    }

    private void draw(Bar bar, long now) {
        Map<String, Object> postfix = bar.postfix == null ? Map.of() : bar.postfix.get();
        String text = render(bar.description, bar.n, bar.total, (now - bar.startNanos) / 1e9, postfix);
        StringBuilder line = new StringBuilder(text.length() + 8);
        line.append('\r').append(text);
        for (int i = text.length(); i < lineLength; i++) {
            line.append(' ');
        }
        out.print(line);
        out.flush();
        lineLength = text.length();
        shown = bar;
        bar.drawnN = bar.n;
        lastDrawNanos = now;
    }

    private void printLine(Bar bar, long now) {
        Map<String, Object> postfix = bar.postfix == null ? Map.of() : bar.postfix.get();
        out.println(render(bar.description, bar.n, bar.total, (now - bar.startNanos) / 1e9, postfix));
        out.flush();
        bar.lastPrintNanos = now;
    }

    private void newLine() {
        out.print('\n');
        lineLength = 0;
        shown = null;
    }

    private void erase() {
        StringBuilder blank = new StringBuilder(lineLength + 2).append('\r');
        for (int i = 0; i < lineLength; i++) {
            blank.append(' ');
        }
        out.print(blank.append('\r'));
        lineLength = 0;
        shown = null;
    }

    // ------------------------------------------------------------------ rendering

    /**
     * Renders one bar line.
     *
     * @param description the stage, e.g. {@code Epoch 0}
     * @param n batches done
     * @param total batches in all, or 0 or less when unknown
     * @param elapsedSeconds time since the stage began
     * @param postfix name to value shown after the counts (numbers with 3 significant digits)
     * @return e.g. {@code Epoch 0:  45%|████▌     | 450/1000 [00:03<00:04, 130.12it/s, v_num=0]}
     */
    static String render(String description, long n, long total, double elapsedSeconds, Map<String, Object> postfix) {
        StringBuilder line = new StringBuilder(96);
        if (description != null && !description.isEmpty()) {
            line.append(description).append(": ");
        }
        double rate = n > 0 && elapsedSeconds > 0 ? n / elapsedSeconds : Double.NaN;
        if (total > 0) {
            double fraction = (double) n / total;
            String percent = Long.toString((long) Math.rint(fraction * 100));
            for (int i = percent.length(); i < 3; i++) {
                line.append(' ');
            }
            line.append(percent).append("%|");
            appendBar(line, fraction);
            line.append("| ").append(n).append('/').append(total).append(" [");
            line.append(interval(elapsedSeconds)).append('<');
            line.append(Double.isNaN(rate) ? "?" : interval(Math.max(0, total - n) / rate));
        } else {
            line.append(n).append(" [").append(interval(elapsedSeconds));
        }
        line.append(", ").append(rate(rate));
        if (postfix != null) {
            for (Map.Entry<String, Object> entry : postfix.entrySet()) {
                line.append(", ").append(entry.getKey()).append('=').append(formatValue(entry.getValue()));
            }
        }
        return line.append(']').toString();
    }

    private static void appendBar(StringBuilder line, double fraction) {
        double clamped = Math.max(0, Math.min(1, fraction));
        int eighths = (int) (clamped * BAR_CELLS * 8);
        int full = Math.min(BAR_CELLS, eighths / 8);
        for (int i = 0; i < full; i++) {
            line.append(FULL_BLOCK);
        }
        if (full < BAR_CELLS) {
            line.append(PARTIAL_BLOCKS.charAt(eighths % 8));
            for (int i = full + 1; i < BAR_CELLS; i++) {
                line.append(' ');
            }
        }
    }

    /** Formats a duration as {@code MM:SS}, or {@code H:MM:SS} from one hour on. */
    static String interval(double seconds) {
        long total = Double.isFinite(seconds) ? Math.max(0, (long) seconds) : 0;
        long hours = total / 3600;
        long minutes = total / 60 % 60;
        long secs = total % 60;
        StringBuilder out = new StringBuilder(8);
        if (hours > 0) {
            out.append(hours).append(':');
        }
        return out.append(twoDigits(minutes)).append(':').append(twoDigits(secs)).toString();
    }

    private static String twoDigits(long value) {
        return value < 10 ? "0" + value : Long.toString(value);
    }

    /** Formats a rate as {@code 130.12it/s}, or {@code  2.50s/it} below one batch per second; {@code ?it/s} unknown. */
    static String rate(double perSecond) {
        if (Double.isNaN(perSecond) || perSecond <= 0 || Double.isInfinite(perSecond)) {
            return "?it/s";
        }
        if (perSecond < 1) {
            return fixed2(1 / perSecond) + "s/it";
        }
        return fixed2(perSecond) + "it/s";
    }

    private static String fixed2(double value) {
        String text = new BigDecimal(value).setScale(2, RoundingMode.HALF_EVEN).toPlainString();
        return text.length() < 5 ? " ".repeat(5 - text.length()) + text : text;
    }

    /**
     * Formats a postfix value: numbers with 3 significant digits (e.g. {@code 0.123}, {@code 1.23e+7}) unless the
     * plain form is shorter ({@code 1234.5}, {@code 0}); other values as their text.
     */
    static String formatValue(Object value) {
        if (value instanceof Double || value instanceof Float) {
            double number = ((Number) value).doubleValue();
            return shorter(compactExponent(PythonFormat.general(number, 3)), PythonFormat.repr(number));
        }
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            long number = ((Number) value).longValue();
            return shorter(compactExponent(PythonFormat.general(number, 3)), Long.toString(number));
        }
        return String.valueOf(value);
    }

    private static String shorter(String general, String plain) {
        return general.length() < plain.length() ? general : plain;
    }

    private static String compactExponent(String text) {
        int e = text.indexOf('e');
        if (e < 0 || e + 2 >= text.length() || text.charAt(e + 2) != '0') {
            return text;
        }
        return text.substring(0, e + 2) + text.substring(e + 3);
    }

    /**
     * Whether standard output is a terminal that can redraw a line in place: a console is attached (on Java 22 and
     * later, one that {@code isTerminal()}) and {@code TERM} is not {@code dumb}.
     */
    static boolean detectTerminal() {
        if ("dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            // Java 22+ returns a console even when output is redirected; its isTerminal() tells the two apart.
            Method isTerminal = Console.class.getMethod("isTerminal");
            return Boolean.TRUE.equals(isTerminal.invoke(console));
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /** The state of one bar line. */
    static final class Bar {
        String description = "";
        long total = -1;
        long n;
        long startNanos;
        long drawnN;
        long lastPrintNanos;
        boolean active;
        Supplier<Map<String, Object>> postfix;
    }
}
