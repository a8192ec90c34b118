package io.github.djllightning.testing;

import io.github.djllightning.log.Logger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A logger that keeps every call in memory: to compare what other loggers wrote with what the Trainer sent, and to see
 * when the Trainer asks for a save.
 */
public final class RecordingLogger implements Logger {

    /** One logMetrics call. */
    public record Call(Map<String, Double> metrics, long step) {}

    /** The logMetrics calls in order. */
    public final List<Call> metrics = new ArrayList<>();
    /** The logHyperparams calls in order. */
    public final List<Map<String, Object>> hyperparams = new ArrayList<>();
    /** The statuses given to finish. */
    public final List<String> finished = new ArrayList<>();
    /** Every call by kind, in order: {@code log}, {@code save}, {@code finish}. */
    public final List<String> events = new ArrayList<>();
    /** The number of save calls. */
    public int saves;

    @Override
    public String name() {
        return "recording";
    }

    @Override
    public String version() {
        return "0";
    }

    @Override
    public Path saveDir() {
        return null;
    }

    @Override
    public Path logDir() {
        return null;
    }

    @Override
    public void logMetrics(Map<String, Double> values, long step) {
        metrics.add(new Call(new LinkedHashMap<>(values), step));
        events.add("log");
    }

    @Override
    public void logHyperparams(Map<String, Object> params) {
        hyperparams.add(new LinkedHashMap<>(params));
    }

    @Override
    public void save() {
        saves++;
        events.add("save");
    }

    @Override
    public void finish(String status) {
        finished.add(status);
        events.add("finish");
    }
}
