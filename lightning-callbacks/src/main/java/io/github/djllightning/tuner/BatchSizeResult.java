package io.github.djllightning.tuner;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a batch-size search found: the batch size to train with, and every trial that led there.
 */
public final class BatchSizeResult {

    /**
     * One batch size tried.
     *
     * @param batchSize the batch size
     * @param fits whether its steps ran without running out of memory
     * @param peakStepBytes the most tensor bytes one of its training steps held (counted as for {@link
     *     BatchSizeOptions#memoryBudgetBytes()}), or -1 when no step finished
     */
    public record Trial(int batchSize, boolean fits, long peakStepBytes) {}

    private final int batchSize;
    private final List<Trial> trials;

    /**
     * Creates a result.
     *
     * @param batchSize the batch size found
     * @param trials the trials, in the order they ran
     */
    public BatchSizeResult(int batchSize, List<Trial> trials) {
        this.batchSize = batchSize;
        this.trials = Collections.unmodifiableList(new ArrayList<>(trials));
    }

    /** The batch size found, now set on the module or data module. */
    public int batchSize() {
        return batchSize;
    }

    /** The trials, in the order they ran. */
    public List<Trial> trials() {
        return trials;
    }

    @Override
    public String toString() {
        return "BatchSizeResult(batchSize=" + batchSize + ", trials=" + trials + ")";
    }
}
