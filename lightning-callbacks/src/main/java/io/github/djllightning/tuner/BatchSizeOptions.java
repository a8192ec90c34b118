package io.github.djllightning.tuner;

import io.github.djllightning.trainer.MisconfigurationException;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * How the batch-size search runs: Lightning's {@code scale_batch_size} arguments with its defaults, plus the memory
 * budget that stands for the device's memory on the CPU. Validated when created.
 *
 * <p><b>What counts as running out of memory.</b> A trial fails when the engine reports that an allocation failed
 * (PyTorch's {@code "DefaultCPUAllocator: can't allocate memory"}, {@code "CUDA out of memory"}, or cuDNN's {@code
 * CUDNN_STATUS_NOT_SUPPORTED}, which large batches cause), or when one of its training steps holds more tensor bytes
 * than {@code memoryBudgetBytes}. On a GPU the first is the real limit. On the CPU it rarely comes: Linux lends memory
 * it does not have and later ends the process instead of failing the allocation, so without a budget the search on
 * the CPU grows until {@code maxVal} or the dataset's size. The budget counts, when each training step ends, the bytes
 * of every array alive in the step's scope except the module's parameters: the batch, the activations of the forward
 * pass, the loss, and the gradients the step read. It is an estimate of what the batch size costs: an array that is a
 * view of another is counted in full, and memory the engine keeps to itself (autograd buffers, allocator caches) is
 * not counted.
 *
 * @param mode {@code "power"} (default: double until a trial fails, then take the last size that worked) or {@code
 *     "binsearch"} (double until a trial fails, then bisect between the last size that worked and the one that
 *     failed)
 * @param stepsPerTrial optimizer steps run at each batch size (default 3); at least 1
 * @param initVal the first batch size tried (default 2); at least 1
 * @param maxTrials the most batch sizes that succeed before the search ends (default 25); at least 1
 * @param batchArgName the hyperparameter holding the batch size when neither the module nor the data module
 *     implements {@link HasBatchSize} (default {@code "batch_size"})
 * @param margin binsearch only: the found size is reduced by this share, for safety (default 0.05); in {@code [0,
 *     1)}
 * @param maxVal the largest batch size considered (default 8192): reaching it ends the search with it, without a
 *     trial at that size, as in Lightning; at least 1
 * @param memoryBudgetBytes the most tensor bytes one training step may hold, or null for no budget (default)
 */
public record BatchSizeOptions(
        String mode,
        int stepsPerTrial,
        int initVal,
        int maxTrials,
        String batchArgName,
        double margin,
        int maxVal,
        Long memoryBudgetBytes) {

    /** Power mode: double the batch size until a trial fails. */
    public static final String POWER = "power";
    /** Binary-search mode: double until a trial fails, then bisect. */
    public static final String BINSEARCH = "binsearch";

    /** Checks every value; see the class comment for what is valid. */
    public BatchSizeOptions {
        Objects.requireNonNull(mode, "mode");
        mode = mode.toLowerCase(Locale.ROOT);
        if (!POWER.equals(mode) && !BINSEARCH.equals(mode)) {
            throw new MisconfigurationException("The batch-size finder's mode must be \"power\" or \"binsearch\","
                    + " got \"" + mode + "\".");
        }
        if (stepsPerTrial < 1) {
            throw new MisconfigurationException("The batch-size finder's stepsPerTrial must be at least 1, got "
                    + stepsPerTrial + "; the default is 3.");
        }
        if (initVal < 1) {
            throw new MisconfigurationException("The batch-size finder's initVal must be at least 1, got " + initVal
                    + "; the default is 2.");
        }
        if (maxTrials < 1) {
            throw new MisconfigurationException("The batch-size finder's maxTrials must be at least 1, got "
                    + maxTrials + "; the default is 25.");
        }
        if (batchArgName == null || batchArgName.isEmpty()) {
            throw new MisconfigurationException("The batch-size finder's batchArgName must name the hyperparameter"
                    + " that holds the batch size, got " + (batchArgName == null ? "null" : "\"\"")
                    + "; the default is \"batch_size\".");
        }
        if (!(margin >= 0 && margin < 1)) {
            throw new MisconfigurationException("The batch-size finder's margin must be in [0, 1), got " + margin
                    + "; the default is 0.05 (5% smaller than the largest size that worked).");
        }
        if (maxVal < 1) {
            throw new MisconfigurationException("The batch-size finder's maxVal must be at least 1, got " + maxVal
                    + "; the default is 8192.");
        }
        if (memoryBudgetBytes != null && memoryBudgetBytes <= 0) {
            throw new MisconfigurationException("The batch-size finder's memoryBudgetBytes must be > 0, or null for"
                    + " no budget; got " + memoryBudgetBytes + ".");
        }
    }

    /** The defaults: Lightning's {@code scale_batch_size()}, without a memory budget. */
    public static BatchSizeOptions defaults() {
        return builder().build();
    }

    /** Starts a builder with the defaults. */
    public static Builder<BatchSizeOptions> builder() {
        return new Builder<>(Function.identity());
    }

    /**
     * Builds {@link BatchSizeOptions} (or, from {@code BatchSizeFinder.builder()}, the callback), with Lightning's
     * defaults for whatever is not set.
     *
     * @param <T> what {@link #build()} returns
     */
    public static final class Builder<T> {
        private final Function<BatchSizeOptions, T> finisher;
        private String mode = POWER;
        private int stepsPerTrial = 3;
        private int initVal = 2;
        private int maxTrials = 25;
        private String batchArgName = "batch_size";
        private double margin = 0.05;
        private int maxVal = 8192;
        private Long memoryBudgetBytes;

        /**
         * Creates a builder that hands the options to a finisher.
         *
         * @param finisher turns the options into what {@link #build()} returns
         */
        public Builder(Function<BatchSizeOptions, T> finisher) {
            this.finisher = Objects.requireNonNull(finisher, "finisher");
        }

        /** {@code "power"} (default) or {@code "binsearch"}. */
        public Builder<T> mode(String value) {
            mode = value;
            return this;
        }

        /** Optimizer steps run at each batch size (default 3). */
        public Builder<T> stepsPerTrial(int value) {
            stepsPerTrial = value;
            return this;
        }

        /** The first batch size tried (default 2). */
        public Builder<T> initVal(int value) {
            initVal = value;
            return this;
        }

        /** The most batch sizes that succeed before the search ends (default 25). */
        public Builder<T> maxTrials(int value) {
            maxTrials = value;
            return this;
        }

        /** The hyperparameter holding the batch size, when no {@link HasBatchSize} is implemented. */
        public Builder<T> batchArgName(String value) {
            batchArgName = value;
            return this;
        }

        /** Binsearch only: the share the found size is reduced by (default 0.05). */
        public Builder<T> margin(double value) {
            margin = value;
            return this;
        }

        /** The largest batch size considered, taken without a trial when reached (default 8192). */
        public Builder<T> maxVal(int value) {
            maxVal = value;
            return this;
        }

        /** The most tensor bytes one training step may hold; a larger step counts as out of memory. */
        public Builder<T> memoryBudgetBytes(long value) {
            memoryBudgetBytes = value;
            return this;
        }

        /**
         * Validates the values and builds.
         *
         * @return the options, or what the finisher makes of them
         * @throws MisconfigurationException naming the value that is not valid
         */
        public T build() {
            return finisher.apply(new BatchSizeOptions(
                    mode, stepsPerTrial, initVal, maxTrials, batchArgName, margin, maxVal, memoryBudgetBytes));
        }
    }
}
