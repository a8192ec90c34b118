package io.github.djllightning.profile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Records the stage with Java Flight Recorder and reports the hottest methods of each Trainer action: the JVM
 * counterpart of Lightning's {@code AdvancedProfiler} (which runs cProfile per action).
 *
 * <p>When a stage begins, a recording with the JDK's {@code profile} settings starts; each Trainer action is written
 * into it as an {@code io.github.djllightning.Action} event. When the stage ends the recording is dumped to {@code
 * {dirpath}/{stage}-{filename}.jfr} (open it in JDK Mission Control, or with {@code jfr print}), then read back: every
 * {@code jdk.ExecutionSample} (a thread running Java code) and {@code jdk.NativeMethodSample} (a thread inside a
 * native call, such as a PyTorch operator) is attributed to the innermost action running on the sampled thread at
 * that moment, and the report lists, per action, its sample count and the {@code topN} methods on top of the stacks.
 * The report goes to {@code {dirpath}/{stage}-{filename}.txt}, or to standard output without a filename.
 *
 * <p>Sampling and its limits: each thread is sampled once per {@code samplingInterval} (default 10 ms, as in the
 * {@code profile} settings; the JVM does not sample faster than about every millisecond, and may sample only a
 * bounded number of threads per period). A sample is worth about one interval of that thread's time, so actions much
 * shorter than the interval get few or no samples unless they repeat often; counts are statistical. Native samples
 * show the Java method that made the native call (e.g. {@code PyTorchLibrary.torchNNLinear}), not the C++ frames
 * below it; use the PyTorch profiler for operators. Samples of the Trainer's thread between actions are reported as
 * {@code (outside any action)}; samples of threads that never run an action (a stream reader blocked in native code,
 * the JVM's own threads) are only counted.
 *
 * <p>Not thread-safe: it records the actions of one Trainer. Starting an action that is already running, or stopping
 * one that is not, throws {@link IllegalStateException}.
 */
public class AdvancedProfiler extends ReportingProfiler {

    /** The default sampling interval. */
    public static final Duration DEFAULT_SAMPLING_INTERVAL = Duration.ofMillis(10);
    /** The label of samples taken while no action ran. */
    public static final String OUTSIDE = "(outside any action)";

    private static final String EXECUTION_SAMPLE = "jdk.ExecutionSample";
    private static final String NATIVE_SAMPLE = "jdk.NativeMethodSample";

    private final int topN;
    private final Duration samplingInterval;
    private final Map<String, ActionEvent> running = new HashMap<>();
    private Recording recording;
    private Path recordingFile;
    private String lastSummary = "";

    /** A profiler printing the ten hottest methods per action, sampling every 10 ms. */
    public AdvancedProfiler() {
        this(null, null);
    }

    /**
     * A profiler with the default sampling interval and ten methods per action.
     *
     * @param dirpath the folder of the recording and report, or null for the Trainer's log folder
     * @param filename the base name of the files, or null to name the recording after the stage and print the report
     */
    public AdvancedProfiler(Path dirpath, String filename) {
        this(dirpath, filename, 10, DEFAULT_SAMPLING_INTERVAL);
    }

    /**
     * Creates an advanced profiler.
     *
     * @param dirpath the folder of the recording and report, or null for the Trainer's log folder
     * @param filename the base name of the files, or null to name the recording after the stage and print the report
     * @param topN how many methods to list per action, at least 1
     * @param samplingInterval how often each thread is sampled, at least 1 ms
     */
    public AdvancedProfiler(Path dirpath, String filename, int topN, Duration samplingInterval) {
        super(dirpath, filename);
        if (topN < 1) {
            throw new IllegalArgumentException("AdvancedProfiler topN must be at least 1, got " + topN);
        }
        Objects.requireNonNull(samplingInterval, "samplingInterval");
        if (samplingInterval.compareTo(Duration.ofMillis(1)) < 0) {
            throw new IllegalArgumentException("AdvancedProfiler samplingInterval must be at least 1 ms (the JVM"
                    + " samples no faster), got " + samplingInterval);
        }
        this.topN = topN;
        this.samplingInterval = samplingInterval;
    }

    @Override
    public void setup(String stage, Path logDir) {
        super.setup(stage, logDir);
        // a stage that failed never reached teardown: its recording is dropped rather than left running
        closeRecording();
        running.clear();
        Configuration settings;
        try {
            settings = Configuration.getConfiguration("profile");
        } catch (IOException | ParseException e) {
            throw new IllegalStateException("AdvancedProfiler could not read the JDK's 'profile' recording settings", e);
        }
        recording = new Recording(settings);
        recording.setName("djl-lightning " + stage);
        recording.setToDisk(true);
        recording.enable(EXECUTION_SAMPLE).withPeriod(samplingInterval);
        recording.enable(NATIVE_SAMPLE).withPeriod(samplingInterval);
        recording.enable(ActionEvent.class).withoutStackTrace();
        recording.start();
    }

    @Override
    public void start(String action) {
        ActionEvent event = new ActionEvent();
        event.action = action;
        if (running.putIfAbsent(action, event) != null) {
            throw new IllegalStateException("AdvancedProfiler: action '" + action + "' was started while it was"
                    + " already running; stop it before starting it again");
        }
        event.begin();
    }

    @Override
    public void stop(String action) {
        ActionEvent event = running.remove(action);
        if (event == null) {
            throw new IllegalStateException("AdvancedProfiler: action '" + action + "' was stopped but never started");
        }
        event.commit();
    }

    /** Dumps the recording, reads it back and writes the per-action report. */
    @Override
    public void teardown(String stage) {
        if (recording == null) {
            return;
        }
        Path file = outputFile(".jfr");
        try {
            recording.stop();
            recording.dump(file);
        } catch (IOException e) {
            throw new UncheckedIOException("AdvancedProfiler could not write the recording " + file, e);
        } finally {
            closeRecording();
        }
        recordingFile = file;
        try {
            lastSummary = stageTitle() + "Advanced Profiler Report" + System.lineSeparator()
                    + "Recording: " + file + " (open it in JDK Mission Control)" + System.lineSeparator()
                    + summarize(file, topN, samplingInterval);
        } catch (IOException e) {
            throw new UncheckedIOException("AdvancedProfiler could not read back the recording " + file, e);
        }
        writeReport(lastSummary);
    }

    /** The report of the last stage that ended, or an empty string. */
    @Override
    public String summary() {
        return lastSummary;
    }

    /** The recording of the last stage that ended, or null. */
    public Path recordingFile() {
        return recordingFile;
    }

    private void closeRecording() {
        if (recording != null) {
            recording.close();
            recording = null;
        }
    }

    /** One action's run on one thread, in recording time. */
    private record Span(long start, long end, String action) {}

    /** One sample: when, on which thread, which method on top, whether in native code. */
    private record Sample(long time, String method, boolean inNative) {}

    /**
     * Attributes a recording's execution samples to the Trainer actions running when they were taken.
     *
     * @param file a recording made by this profiler
     * @param topN how many methods to list per action
     * @param interval the sampling interval, for the report's header
     * @return the report's body: per action, its samples and hottest methods
     * @throws IOException when the file cannot be read
     */
    static String summarize(Path file, int topN, Duration interval) throws IOException {
        Map<Long, List<Span>> spans = new HashMap<>();
        Map<Long, List<Sample>> samples = new HashMap<>();
        try (RecordingFile recordingFile = new RecordingFile(file)) {
            while (recordingFile.hasMoreEvents()) {
                RecordedEvent event = recordingFile.readEvent();
                String type = event.getEventType().getName();
                if (ActionEvent.NAME.equals(type)) {
                    RecordedThread thread = event.getThread();
                    if (thread != null) {
                        spans.computeIfAbsent(thread.getJavaThreadId(), k -> new ArrayList<>()).add(new Span(
                                nanos(event.getStartTime()), nanos(event.getEndTime()), event.getString("action")));
                    }
                } else if (EXECUTION_SAMPLE.equals(type) || NATIVE_SAMPLE.equals(type)) {
                    RecordedThread thread = event.getThread("sampledThread");
                    String method = topMethod(event.getStackTrace());
                    if (thread != null && method != null) {
                        samples.computeIfAbsent(thread.getJavaThreadId(), k -> new ArrayList<>()).add(new Sample(
                                nanos(event.getStartTime()), method, NATIVE_SAMPLE.equals(type)));
                    }
                }
            }
        }
        Map<String, Map<String, int[]>> byAction = new HashMap<>();
        Map<String, int[]> totals = new HashMap<>();
        int elsewhere = 0;
        for (Map.Entry<Long, List<Sample>> thread : samples.entrySet()) {
            List<Span> threadSpans = spans.get(thread.getKey());
            if (threadSpans == null) {
                // threads that run no action (e.g. one blocked reading a stream) only add noise to the report
                elsewhere += thread.getValue().size();
            } else {
                attribute(threadSpans, thread.getValue(), byAction, totals);
            }
        }
        return format(byAction, totals, elsewhere, topN, interval);
    }

    /** Walks a thread's samples and actions in time order, keeping the stack of actions running at each sample. */
    private static void attribute(List<Span> spans, List<Sample> samples, Map<String, Map<String, int[]>> byAction,
            Map<String, int[]> totals) {
        List<Span> ordered = new ArrayList<>(spans);
        // outer actions first when two start at the same instant
        ordered.sort(Comparator.comparingLong(Span::start).thenComparing(Comparator.comparingLong(Span::end).reversed()));
        samples.sort(Comparator.comparingLong(Sample::time));
        Deque<Span> open = new ArrayDeque<>();
        int next = 0;
        for (Sample sample : samples) {
            while (next < ordered.size() && ordered.get(next).start() <= sample.time()) {
                Span span = ordered.get(next++);
                while (!open.isEmpty() && open.peek().end() < span.start()) {
                    open.pop();
                }
                open.push(span);
            }
            while (!open.isEmpty() && open.peek().end() < sample.time()) {
                open.pop();
            }
            String action = open.isEmpty() ? OUTSIDE : open.peek().action();
            String method = sample.inNative() ? sample.method() + " (native)" : sample.method();
            byAction.computeIfAbsent(action, k -> new HashMap<>()).computeIfAbsent(method, k -> new int[1])[0]++;
            int[] total = totals.computeIfAbsent(action, k -> new int[2]);
            total[sample.inNative() ? 1 : 0]++;
        }
    }

    private static String format(Map<String, Map<String, int[]>> byAction, Map<String, int[]> totals,
            int elsewhere, int topN, Duration interval) {
        String sep = System.lineSeparator();
        StringBuilder out = new StringBuilder();
        out.append("Each thread sampled every ").append(interval.toMillis()).append(" ms; a sample is attributed to"
                + " the innermost action running on its thread.").append(sep);
        if (elsewhere > 0) {
            out.append(elsewhere).append(" samples of threads that ran no action are left out.").append(sep);
        }
        if (totals.isEmpty()) {
            return out.append("No samples were taken: the stage was shorter than the sampling interval.")
                    .append(sep).toString();
        }
        List<String> actions = new ArrayList<>(totals.keySet());
        actions.sort(Comparator.comparingInt((String a) -> totals.get(a)[0] + totals.get(a)[1]).reversed()
                .thenComparing(Comparator.naturalOrder()));
        for (String action : actions) {
            int[] total = totals.get(action);
            int count = total[0] + total[1];
            out.append(sep).append("Profile stats for: ").append(action).append(" (").append(count)
                    .append(count == 1 ? " sample: " : " samples: ").append(total[0]).append(" Java, ")
                    .append(total[1]).append(" native)").append(sep);
            out.append(String.format(Locale.ROOT, "  %8s  %6s  %s%n", "samples", "%", "method"));
            List<Map.Entry<String, int[]>> methods = new ArrayList<>(byAction.get(action).entrySet());
            methods.sort(Comparator.comparingInt((Map.Entry<String, int[]> e) -> e.getValue()[0]).reversed()
                    .thenComparing(Map.Entry.comparingByKey()));
            for (Map.Entry<String, int[]> method : methods.subList(0, Math.min(topN, methods.size()))) {
                out.append(String.format(Locale.ROOT, "  %8d  %5.1f%%  %s%n", method.getValue()[0],
                        100.0 * method.getValue()[0] / count, method.getKey()));
            }
        }
        return out.toString();
    }

    private static String topMethod(RecordedStackTrace stack) {
        if (stack == null || stack.getFrames().isEmpty()) {
            return null;
        }
        RecordedFrame frame = stack.getFrames().get(0);
        RecordedMethod method = frame.getMethod();
        if (method == null) {
            return null;
        }
        return method.getType().getName() + "." + method.getName();
    }

    private static long nanos(Instant instant) {
        return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
    }
}
