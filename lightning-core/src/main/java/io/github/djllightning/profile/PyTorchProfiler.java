package io.github.djllightning.profile;

import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records every PyTorch operator the stage runs (name, thread, start, duration, optionally input shapes and memory)
 * with PyTorch's own profiler and writes a Chrome trace: Lightning's {@code PyTorchProfiler}.
 *
 * <p>The trace goes to {@code {dirpath}/{stage}-{filename}.json}; open it in {@code chrome://tracing} or <a
 * href="https://ui.perfetto.dev">Perfetto</a>. Besides the operators ({@code aten::addmm}, {@code aten::linear}, ...,
 * under the process "CPU Functions") it holds the Trainer's actions under the process "Trainer actions", so an
 * operator can be seen inside the {@code training_step} or {@code backward} that ran it. The text report (to {@code
 * {stage}-{filename}.txt}, or printed without a filename) lists the {@code rowLimit} operators with the most total
 * time; an operator's time includes the operators it calls.
 *
 * <p>Limits: the engine's profiler records the whole stage and keeps every event in memory until the stage ends, so
 * profile a few batches ({@code limitTrainBatches}, {@code maxSteps}) rather than a long run. Only operators started
 * from the thread that runs the Trainer are recorded. Only one stage can be profiled at a time in a process. CUDA
 * kernel timing ({@code useCuda}) is not written into the trace by this engine version.
 */
public class PyTorchProfiler extends ReportingProfiler {

    private static final Logger LOG = LoggerFactory.getLogger(PyTorchProfiler.class);
    private static final double MICROS_PER_MILLI = 1000.0;
    /** The engine has one profiling session per process: the profiler that holds it, or null. */
    private static PyTorchProfiler holder;

    private final boolean recordShapes;
    private final boolean profileMemory;
    private final int rowLimit;
    private final List<Object[]> actionSpans = new ArrayList<>();
    private final Map<String, Long> running = new HashMap<>();
    private boolean active;
    private long originNanos;
    private long actionThread;
    private Path traceFile;
    private String lastSummary = "";

    /** A profiler printing the 20 most expensive operators, without shapes or memory. */
    public PyTorchProfiler() {
        this(null, null, false, false, 20);
    }

    /**
     * Creates a PyTorch profiler.
     *
     * @param dirpath the folder of the trace and report, or null for the Trainer's log folder
     * @param filename the base name of the files, or null to name the trace after the stage and print the report
     * @param recordShapes records each operator's input shapes (more overhead)
     * @param profileMemory records the memory each operator allocates
     * @param rowLimit how many operators the report lists, at least 1
     */
    public PyTorchProfiler(Path dirpath, String filename, boolean recordShapes, boolean profileMemory, int rowLimit) {
        super(dirpath, filename);
        if (rowLimit < 1) {
            throw new IllegalArgumentException("PyTorchProfiler rowLimit must be at least 1, got " + rowLimit);
        }
        this.recordShapes = recordShapes;
        this.profileMemory = profileMemory;
        this.rowLimit = rowLimit;
    }

    @Override
    public void setup(String stage, Path logDir) {
        super.setup(stage, logDir);
        synchronized (PyTorchProfiler.class) {
            if (holder != null) {
                // a stage that failed never reached teardown: end its session so that a new one can start
                LOG.warn("PyTorchProfiler: ending the profiling session of an earlier stage that did not finish;"
                        + " its trace is discarded");
                holder.discardSession();
            }
            JniUtils.startProfile(false, recordShapes, profileMemory);
            holder = this;
        }
        actionSpans.clear();
        running.clear();
        active = true;
        originNanos = System.nanoTime();
        actionThread = Thread.currentThread().getId();
    }

    @Override
    public void start(String action) {
        if (running.putIfAbsent(action, System.nanoTime()) != null) {
            throw new IllegalStateException("PyTorchProfiler: action '" + action + "' was started while it was"
                    + " already running; stop it before starting it again");
        }
    }

    @Override
    public void stop(String action) {
        long now = System.nanoTime();
        Long started = running.remove(action);
        if (started == null) {
            throw new IllegalStateException("PyTorchProfiler: action '" + action + "' was stopped but never started");
        }
        actionSpans.add(new Object[] {action, started, now});
    }

    /** Ends the engine's profiling session, writes the trace and the operator report. */
    @Override
    public void teardown(String stage) {
        if (!active) {
            return;
        }
        Path file = outputFile(".json");
        synchronized (PyTorchProfiler.class) {
            active = false;
            holder = null;
            JniUtils.stopProfile(file.toString());
        }
        traceFile = file;
        try {
            JsonArray events = readTrace(file);
            addActions(events);
            try (Writer writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                writer.write(events.toString());
            }
            lastSummary = stageTitle() + "PyTorch Profiler Report" + System.lineSeparator()
                    + "Trace: " + file + " (open it in chrome://tracing or ui.perfetto.dev)" + System.lineSeparator()
                    + operatorTable(events);
        } catch (IOException e) {
            throw new UncheckedIOException("PyTorchProfiler could not rewrite the trace " + file, e);
        }
        writeReport(lastSummary);
    }

    /** The report of the last stage that ended, or an empty string. */
    @Override
    public String summary() {
        return lastSummary;
    }

    /** The trace of the last stage that ended, or null. */
    public Path traceFile() {
        return traceFile;
    }

    private void discardSession() {
        active = false;
        holder = null;
        try {
            Path scratch = Files.createTempFile("djl-lightning-discarded-profile", ".json");
            JniUtils.stopProfile(scratch.toString());
            Files.deleteIfExists(scratch);
        } catch (IOException e) {
            throw new UncheckedIOException("PyTorchProfiler could not end the previous profiling session", e);
        }
    }

    private static JsonArray readTrace(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonElement root = JsonParser.parseReader(reader);
            if (!root.isJsonArray()) {
                throw new IOException("the engine's trace " + file + " is not a JSON array of events");
            }
            return root.getAsJsonArray();
        }
    }

    /** Adds the Trainer's actions as complete events; times are microseconds since the session started. */
    private void addActions(JsonArray events) {
        for (Object[] span : actionSpans) {
            long start = (Long) span[1];
            long end = (Long) span[2];
            JsonObject event = new JsonObject();
            event.addProperty("name", (String) span[0]);
            event.addProperty("ph", "X");
            event.addProperty("ts", (start - originNanos) / 1000.0);
            event.addProperty("dur", (end - start) / 1000.0);
            event.addProperty("tid", actionThread);
            event.addProperty("pid", "Trainer actions");
            event.add("args", new JsonObject());
            events.add(event);
        }
    }

    /** The operators with the most total time: calls, total and mean milliseconds. */
    private String operatorTable(JsonArray events) {
        Map<String, double[]> byName = new LinkedHashMap<>();
        for (JsonElement element : events) {
            JsonObject event = element.getAsJsonObject();
            if (!"CPU Functions".equals(event.get("pid").getAsString())) {
                continue;
            }
            double[] stats = byName.computeIfAbsent(event.get("name").getAsString(), k -> new double[2]);
            stats[0]++;
            stats[1] += event.get("dur").getAsDouble();
        }
        List<Map.Entry<String, double[]>> rows = new ArrayList<>(byName.entrySet());
        rows.sort(Comparator.comparingDouble((Map.Entry<String, double[]> e) -> e.getValue()[1]).reversed());
        int width = "Operator".length();
        for (Map.Entry<String, double[]> row : rows.subList(0, Math.min(rowLimit, rows.size()))) {
            width = Math.max(width, row.getKey().length());
        }
        StringBuilder out = new StringBuilder();
        String format = "%-" + width + "s  %10s  %14s  %14s%n";
        out.append(String.format(Locale.ROOT, format, "Operator", "Calls", "CPU total (ms)", "CPU mean (ms)"));
        for (Map.Entry<String, double[]> row : rows.subList(0, Math.min(rowLimit, rows.size()))) {
            double[] stats = row.getValue();
            out.append(String.format(Locale.ROOT, "%-" + width + "s  %10d  %14.3f  %14.4f%n", row.getKey(),
                    (long) stats[0], stats[1] / MICROS_PER_MILLI, stats[1] / stats[0] / MICROS_PER_MILLI));
        }
        if (rows.isEmpty()) {
            out.append("No operators were recorded.").append(System.lineSeparator());
        }
        return out.toString();
    }
}
