package io.github.djllightning.loop;

import java.util.Map;

/** Progress over batches, plus whether the batch in flight is the loader's last. Lightning's {@code _BatchProgress}. */
public final class BatchProgress extends Progress {

    private boolean lastBatch;

    /** Whether the batch in flight is the last one of its loader. */
    public boolean isLastBatch() {
        return lastBatch;
    }

    void setLastBatch(boolean value) {
        lastBatch = value;
    }

    @Override
    void resetOnRun() {
        super.resetOnRun();
        lastBatch = false;
    }

    @Override
    public Map<String, Object> stateDict() {
        Map<String, Object> state = super.stateDict();
        state.put("is_last_batch", lastBatch);
        return state;
    }

    @Override
    public void loadStateDict(Map<String, Object> state) {
        super.loadStateDict(state);
        lastBatch = Boolean.TRUE.equals(state.get("is_last_batch"));
    }
}
