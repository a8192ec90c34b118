package io.github.djllightning.loggers;

import io.github.djllightning.log.Logger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A logger that keeps every call in memory, to compare what other loggers wrote with what the Trainer sent. */
final class RecordingLogger implements Logger {

    /** One logMetrics call. */
    record Call(Map<String, Double> metrics, long step) {}

    final List<Call> metrics = new ArrayList<>();
    final List<Map<String, Object>> hyperparams = new ArrayList<>();
    final List<String> finished = new ArrayList<>();
    int saves;

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
    }

    @Override
    public void logHyperparams(Map<String, Object> params) {
        hyperparams.add(new LinkedHashMap<>(params));
    }

    @Override
    public void save() {
        saves++;
    }

    @Override
    public void finish(String status) {
        finished.add(status);
    }
}
