package io.github.djllightning.loop;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Four counters a loop moves through for each unit of work (a batch, an epoch, an optimizer step): ready, started,
 * processed, completed. Lightning's {@code _ProcessedTracker}; comparing them tells where a run was interrupted.
 */
public final class ProgressCounter {

    private long ready;
    private long started;
    private long processed;
    private long completed;

    /** Units fetched or about to run. */
    public long ready() {
        return ready;
    }

    /** Units whose work began. */
    public long started() {
        return started;
    }

    /** Units whose work ran (their end hooks may not have run yet). */
    public long processed() {
        return processed;
    }

    /** Units fully done. */
    public long completed() {
        return completed;
    }

    void incrementReady() {
        ready++;
    }

    void incrementStarted() {
        started++;
    }

    void incrementProcessed() {
        processed++;
    }

    void incrementCompleted() {
        completed++;
    }

    void setCompleted(long value) {
        completed = value;
    }

    void setAll(long value) {
        ready = value;
        started = value;
        processed = value;
        completed = value;
    }

    void setReadyAndStarted(long value) {
        ready = value;
        started = value;
    }

    void reset() {
        ready = 0;
        started = 0;
        processed = 0;
        completed = 0;
    }

    /** Rolls back work that began but did not complete, as after a restart. */
    void resetOnRestart() {
        ready = completed;
        started = completed;
        processed = completed;
    }

    void incrementBy(long n) {
        ready += n;
        started += n;
        processed += n;
        completed += n;
    }

    /** The counters as plain values for checkpoints. */
    public Map<String, Object> stateDict() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("ready", ready);
        state.put("started", started);
        state.put("processed", processed);
        state.put("completed", completed);
        return state;
    }

    /** Restores the counters of {@link #stateDict()}. */
    public void loadStateDict(Map<String, Object> state) {
        ready = number(state, "ready");
        started = number(state, "started");
        processed = number(state, "processed");
        completed = number(state, "completed");
    }

    static long number(Map<String, Object> state, String key) {
        Object value = state.get(key);
        if (!(value instanceof Number)) {
            throw new IllegalArgumentException("progress counter '" + key + "' is missing or not a number: " + value);
        }
        return ((Number) value).longValue();
    }

    @Override
    public String toString() {
        return "{ready=" + ready + ", started=" + started + ", processed=" + processed + ", completed=" + completed + "}";
    }
}
