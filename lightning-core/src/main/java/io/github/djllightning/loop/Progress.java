package io.github.djllightning.loop;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A loop's progress: counters over the whole run ({@code total}, never reset) and over the current epoch or run
 * ({@code current}). Lightning's {@code _Progress}.
 */
public class Progress {

    private final ProgressCounter total = new ProgressCounter();
    private final ProgressCounter current = new ProgressCounter();

    /** Counters since the loop was created or restored. */
    public ProgressCounter total() {
        return total;
    }

    /** Counters of the current epoch or run. */
    public ProgressCounter current() {
        return current;
    }

    void incrementReady() {
        total.incrementReady();
        current.incrementReady();
    }

    void incrementStarted() {
        total.incrementStarted();
        current.incrementStarted();
    }

    void incrementProcessed() {
        total.incrementProcessed();
        current.incrementProcessed();
    }

    void incrementCompleted() {
        total.incrementCompleted();
        current.incrementCompleted();
    }

    void incrementBy(long n) {
        total.incrementBy(n);
        current.incrementBy(n);
    }

    /** Starts a new run or epoch. */
    void resetOnRun() {
        current.reset();
    }

    /** Rolls back unfinished work after a restart. */
    void resetOnRestart() {
        total.resetOnRestart();
        current.resetOnRestart();
    }

    /** The progress as plain values for checkpoints. */
    public Map<String, Object> stateDict() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("total", total.stateDict());
        state.put("current", current.stateDict());
        return state;
    }

    /** Restores the progress of {@link #stateDict()}. */
    @SuppressWarnings("unchecked")
    public void loadStateDict(Map<String, Object> state) {
        total.loadStateDict((Map<String, Object>) state.get("total"));
        current.loadStateDict((Map<String, Object>) state.get("current"));
    }

    @Override
    public String toString() {
        return "{total=" + total + ", current=" + current + "}";
    }
}
