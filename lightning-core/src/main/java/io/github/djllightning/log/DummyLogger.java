package io.github.djllightning.log;

import java.nio.file.Path;
import java.util.Map;

/** A logger that records nothing; replaces the loggers under {@code fastDevRun}. */
public final class DummyLogger implements Logger {

    @Override
    public String name() {
        return "";
    }

    @Override
    public String version() {
        return "";
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
    public void logMetrics(Map<String, Double> metrics, long step) {}

    @Override
    public void logHyperparams(Map<String, Object> params) {}

    @Override
    public void save() {}

    @Override
    public void finish(String status) {}
}
