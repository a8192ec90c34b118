package io.github.djllightning.profile;

import io.github.djllightning.util.PythonFormat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times every Trainer action with {@link System#nanoTime} and reports, per action, the mean duration, the number of
 * calls, the total time and its share of the stage's wall time: Lightning's {@code SimpleProfiler}, same table.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder().profiler("simple").build();
 * // or, to write lightning_logs/version_0/fit-perf.txt:
 * Trainer.builder().profiler(new SimpleProfiler(null, "perf", true))
 * }</pre>
 *
 * <p>The stage's total is the wall time from the start of the stage ({@link #setup}) to the report. Actions nest
 * ({@code run_training_batch} holds {@code optimizer_step}, which holds {@code training_step} and {@code backward}),
 * so the percentages add up to more than 100. Each stage reports on its own actions only. The report is written when
 * the stage ends (see {@link ReportingProfiler} for where it goes).
 *
 * <p>Not thread-safe: it times the actions of one Trainer. Starting an action that is already running, or stopping
 * one that is not, throws {@link IllegalStateException}.
 */
public class SimpleProfiler extends ReportingProfiler {

    /** One action's running clock and totals. */
    private static final class Timing {
        long startedAt = -1;
        long calls;
        long totalNanos;
    }

    private static final double NANOS_PER_SECOND = 1e9;

    private final boolean extended;
    private final Map<String, Timing> timings = new LinkedHashMap<>();
    private long stageStart = System.nanoTime();

    /** A profiler printing the extended report to standard output when a stage ends. */
    public SimpleProfiler() {
        this(null, null, true);
    }

    /**
     * Creates a simple profiler.
     *
     * @param dirpath the report's folder, or null for the Trainer's log folder
     * @param filename writes the report to {@code {dirpath}/{stage}-{filename}.txt}; null prints it instead
     * @param extended true for the columns mean, number of calls, total and percentage sorted by percentage; false for
     *     mean and total sorted by mean
     */
    public SimpleProfiler(Path dirpath, String filename, boolean extended) {
        super(dirpath, filename);
        this.extended = extended;
    }

    @Override
    public void setup(String stage, Path logDir) {
        super.setup(stage, logDir);
        timings.clear();
        stageStart = System.nanoTime();
    }

    @Override
    public void start(String action) {
        Timing timing = timings.computeIfAbsent(action, a -> new Timing());
        if (timing.startedAt >= 0) {
            throw new IllegalStateException("SimpleProfiler: action '" + action + "' was started while it was"
                    + " already running; stop it before starting it again");
        }
        timing.startedAt = System.nanoTime();
    }

    @Override
    public void stop(String action) {
        long now = System.nanoTime();
        Timing timing = timings.get(action);
        if (timing == null || timing.startedAt < 0) {
            throw new IllegalStateException("SimpleProfiler: action '" + action + "' was stopped but never started");
        }
        timing.calls++;
        timing.totalNanos += now - timing.startedAt;
        timing.startedAt = -1;
    }

    /**
     * The number of completed calls of an action so far in this stage.
     *
     * @param action the action's name
     * @return the count, 0 for an action never run
     */
    public long calls(String action) {
        Timing timing = timings.get(action);
        return timing == null ? 0 : timing.calls;
    }

    /**
     * The total time spent in an action so far in this stage.
     *
     * @param action the action's name
     * @return the time in seconds, 0 for an action never run
     */
    public double totalSeconds(String action) {
        Timing timing = timings.get(action);
        return timing == null ? 0 : timing.totalNanos / NANOS_PER_SECOND;
    }

    /** The actions measured so far in this stage, in the order they first ran. */
    public List<String> actions() {
        List<String> out = new ArrayList<>();
        timings.forEach((action, timing) -> {
            if (timing.calls > 0) {
                out.add(action);
            }
        });
        return out;
    }

    /** The report table; see the class comment. */
    @Override
    public String summary() {
        String sep = System.lineSeparator();
        StringBuilder out = new StringBuilder(stageTitle()).append("Profiler Report").append(sep);
        List<Row> rows = rows();
        if (rows.isEmpty()) {
            return out.append(sep).toString();
        }
        int width = "Action".length();
        for (Row row : rows) {
            width = Math.max(width, row.action.length());
        }
        if (extended) {
            String header = row(sep, width, "Action", "Mean duration (s)", "Num calls", "Total time (s)",
                    "Percentage %");
            String line = sep + "-".repeat(expandTabs(header.substring(sep.length())).length());
            double stageSeconds = (System.nanoTime() - stageStart) / NANOS_PER_SECOND;
            long totalCalls = 0;
            for (Row row : rows) {
                totalCalls += row.calls;
            }
            rows.sort(Comparator.comparingDouble((Row r) -> r.totalSeconds).reversed());
            out.append(line).append(header).append(line);
            out.append(row(sep, width, "Total", "-", Long.toString(totalCalls), number(stageSeconds), "100 %"));
            out.append(line);
            for (Row row : rows) {
                out.append(row(sep, width, row.action, number(row.meanSeconds()), Long.toString(row.calls),
                        number(row.totalSeconds), number(100 * row.totalSeconds / stageSeconds)));
            }
            out.append(line);
        } else {
            String header = row(sep, width, "Action", "Mean duration (s)", "Total time (s)");
            String line = sep + "-".repeat(expandTabs(header.substring(sep.length())).length());
            rows.sort(Comparator.comparingDouble(Row::meanSeconds).reversed());
            out.append(line).append(header).append(line);
            for (Row row : rows) {
                out.append(row(sep, width, row.action, number(row.meanSeconds()), number(row.totalSeconds)));
            }
            out.append(line);
        }
        return out.append(sep).toString();
    }

    /** Writes the report of the stage that ends. */
    @Override
    public void teardown(String stage) {
        writeReport(summary());
    }

    private record Row(String action, long calls, double totalSeconds) {
        double meanSeconds() {
            return totalSeconds / calls;
        }
    }

    private List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        timings.forEach((action, timing) -> {
            if (timing.calls > 0) {
                rows.add(new Row(action, timing.calls, timing.totalNanos / NANOS_PER_SECOND));
            }
        });
        return rows;
    }

    /** One table row: the first cell padded to the widest action, the others to 15, cells ended by a tab. */
    private static String row(String sep, int width, String action, String... cells) {
        StringBuilder out = new StringBuilder(sep).append("|  ").append(pad(action, width)).append("\t|");
        for (String cell : cells) {
            out.append("  ").append(pad(cell, 15)).append("\t|");
        }
        return out.toString();
    }

    private static String pad(String text, int width) {
        return text.length() >= width ? text : text + " ".repeat(width - text.length());
    }

    /** The line as a terminal shows it with tab stops every 8 columns, to size the rule under the header. */
    private static String expandTabs(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\t') {
                out.append(" ".repeat(8 - out.length() % 8));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** A number with five significant digits, as Python's {@code format(x, ".5")} writes it. */
    static String number(double value) {
        String text = PythonFormat.general(value, 5);
        boolean plain = text.chars().allMatch(c -> c == '-' || Character.isDigit(c));
        return plain ? text + ".0" : text;
    }
}
