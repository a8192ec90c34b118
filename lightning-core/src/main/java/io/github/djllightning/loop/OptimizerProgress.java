package io.github.djllightning.loop;

import java.util.LinkedHashMap;
import java.util.Map;

/** Progress of the optimizer: steps taken and gradient zeroings. Lightning's {@code _OptimizerProgress}. */
public final class OptimizerProgress {

    private final Progress step = new Progress();
    private final Progress zeroGrad = new Progress();

    /** Optimizer steps: {@code total.completed} is the global step of automatic optimization. */
    public Progress step() {
        return step;
    }

    /** Gradient zeroings. */
    public Progress zeroGrad() {
        return zeroGrad;
    }

    void resetOnRun() {
        step.resetOnRun();
        zeroGrad.resetOnRun();
    }

    void resetOnRestart() {
        step.resetOnRestart();
        zeroGrad.resetOnRestart();
    }

    /** The progress as plain values. */
    public Map<String, Object> stateDict() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("step", step.stateDict());
        state.put("zero_grad", zeroGrad.stateDict());
        return state;
    }

    /** Restores {@link #stateDict()}. */
    @SuppressWarnings("unchecked")
    public void loadStateDict(Map<String, Object> state) {
        step.loadStateDict((Map<String, Object>) state.get("step"));
        zeroGrad.loadStateDict((Map<String, Object>) state.get("zero_grad"));
    }
}
