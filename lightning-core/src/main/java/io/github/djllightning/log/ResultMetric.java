package io.github.djllightning.log;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.djllightning.trainer.Hook;
import io.github.djllightning.util.HostScalars;
import io.github.djllightning.util.ScalarCache;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One logged metric within one loop: its options and its running values.
 *
 * <p>Array values stay on their device: the last step value is kept by swapping the native handle of a detached view
 * into a long-lived array (no copy, no host sync), and the epoch accumulator is updated in place. The one exception:
 * a CPU array logged per step only is read into a number at once, which costs less than a view and waits for nothing
 * (a CPU array is computed by the time it is logged). Numbers logged as Java doubles are accumulated on the host.
 */
final class ResultMetric {

    final Hook hook;
    final String name;
    final Integer dataloaderIdx;
    final boolean onStep;
    final boolean onEpoch;
    final boolean progBar;
    final boolean logger;
    final Reduce reduce;
    final LogOptions options;
    /** The name loggers see for step values: {@code name_step} when also per epoch. */
    final String stepName;
    /** The name loggers see for epoch values: {@code name_epoch} when also per step. */
    final String epochName;
    /** The callback-metrics name without the step/epoch suffix. */
    final String plainName;

    private final NDManager manager;
    private final ScalarCache scalars;

    private NDArray lastArray;
    private double lastNumber;
    private NDArray accumulator;
    private double numberAccumulator;
    private double cumulatedBatchSize;
    private NDArray computedArray;
    private boolean computed;
    private boolean tensor;
    private boolean updated;
    /** Whether the last step value of an array metric was read into {@link #lastNumber}. */
    private boolean stepOnHost;

    ResultMetric(
            Hook hook,
            String name,
            Integer dataloaderIdx,
            boolean onStep,
            boolean onEpoch,
            LogOptions options,
            NDManager manager,
            ScalarCache scalars) {
        this.hook = hook;
        this.name = name;
        this.dataloaderIdx = dataloaderIdx;
        this.onStep = onStep;
        this.onEpoch = onEpoch;
        this.progBar = options.isProgBar();
        this.logger = options.isLogger();
        this.reduce = options.getReduce();
        this.options = options;
        this.manager = manager;
        this.scalars = scalars;
        String suffix = dataloaderIdx != null && options.isAddDataloaderIdx()
                ? "/dataloader_idx_" + dataloaderIdx
                : "";
        boolean forked = onStep && onEpoch;
        this.plainName = name + suffix;
        this.stepName = (forked ? name + "_step" : name) + suffix;
        this.epochName = (forked ? name + "_epoch" : name) + suffix;
    }

    /** Records an array value. */
    void update(NDArray value, int batchSize) {
        if (updated && !tensor) {
            throw new IllegalArgumentException(
                    "log('" + name + "'): it was logged as a number before in this epoch; log it always as an NDArray"
                            + " or always as a number.");
        }
        tensor = true;
        updated = true;
        computed = false;
        if (onStep && !onEpoch && Device.Type.CPU.equals(value.getDevice().getDeviceType())) {
            lastNumber = HostScalars.read(value);
            stepOnHost = true;
            return;
        }
        stepOnHost = false;
        // one detached view serves the accumulators and the step value: arithmetic on it records no autograd graph,
        // so no switch of the autograd mode is needed
        NDArray detached = value.stopGradient();
        boolean kept = false;
        try {
            if (onEpoch) {
                accumulate(detached, batchSize);
            }
            if (onStep) {
                if (lastArray == null) {
                    detached.attach(manager);
                    lastArray = detached;
                } else {
                    lastArray.intern(detached);
                }
                kept = true;
            }
        } finally {
            if (!kept) {
                detached.close();
            }
        }
    }

    private void accumulate(NDArray value, int batchSize) {
        if (accumulator == null) {
            accumulator = initialAccumulator();
        }
        switch (reduce) {
            case MEAN:
                if (batchSize == 1) {
                    accumulator.addi(value);
                } else {
                    try (NDArray weighted = value.mul(scalars.get(batchSize))) {
                        accumulator.addi(weighted);
                    }
                }
                cumulatedBatchSize += batchSize;
                break;
            case SUM:
                accumulator.addi(value);
                break;
            case MAX:
                accumulator.intern(accumulator.maximum(value));
                break;
            case MIN:
                accumulator.intern(accumulator.minimum(value));
                break;
            default:
                throw new AssertionError(reduce);
        }
    }

    /** Records a number value. */
    void update(double value, int batchSize) {
        if (updated && tensor) {
            throw new IllegalArgumentException(
                    "log('" + name + "'): it was logged as an NDArray before in this epoch; log it always as an"
                            + " NDArray or always as a number.");
        }
        if (!updated) {
            numberAccumulator = initialNumber();
        }
        tensor = false;
        updated = true;
        computed = false;
        lastNumber = value;
        if (onEpoch) {
            switch (reduce) {
                case MEAN:
                    numberAccumulator += value * batchSize;
                    cumulatedBatchSize += batchSize;
                    break;
                case SUM:
                    numberAccumulator += value;
                    break;
                case MAX:
                    numberAccumulator = Math.max(numberAccumulator, value);
                    break;
                case MIN:
                    numberAccumulator = Math.min(numberAccumulator, value);
                    break;
                default:
                    throw new AssertionError(reduce);
            }
        }
    }

    private NDArray initialAccumulator() {
        float start = reduce == Reduce.MAX ? Float.NEGATIVE_INFINITY
                : reduce == Reduce.MIN ? Float.POSITIVE_INFINITY : 0f;
        NDArray array = manager.full(new Shape(), start, DataType.FLOAT32);
        return array;
    }

    private double initialNumber() {
        return reduce == Reduce.MAX ? Double.NEGATIVE_INFINITY
                : reduce == Reduce.MIN ? Double.POSITIVE_INFINITY : 0;
    }

    /** Whether this metric received a value since the last reset. */
    boolean hasValue() {
        return updated;
    }

    /** The last step value: an NDArray or a Double; null for a restored metric not updated since. */
    Object stepValue() {
        return tensor && !stepOnHost ? lastArray : (Object) lastNumber;
    }

    /** The epoch value: an NDArray or a Double; computed once per epoch. */
    Object epochValue() {
        if (!tensor) {
            return reduce == Reduce.MEAN ? numberAccumulator / cumulatedBatchSize : numberAccumulator;
        }
        if (!computed) {
            // once per epoch, so a plain number operand is fine here
            NDArray result = reduce == Reduce.MEAN
                    ? accumulator.div((float) cumulatedBatchSize)
                    : accumulator.duplicate();
            if (computedArray == null) {
                result.attach(manager);
                computedArray = result;
            } else {
                // the holders of the previous epoch value see this one instead of a closed array
                computedArray.intern(result);
            }
            computed = true;
        }
        return computedArray;
    }

    /**
     * The epoch accumulator as plain values, so a run resumed in the middle of an epoch reports the same epoch value
     * as an uninterrupted one. Reads the accumulator from the device (once per checkpoint).
     */
    Map<String, Object> stateDict() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("hook", hook.name());
        state.put("name", name);
        state.put("dataloader_idx", dataloaderIdx);
        state.put("on_step", onStep);
        state.put("on_epoch", onEpoch);
        state.put("prog_bar", progBar);
        state.put("logger", logger);
        state.put("reduce", reduce.name());
        state.put("add_dataloader_idx", options.isAddDataloaderIdx());
        state.put("tensor", tensor);
        state.put("value", tensor ? (double) accumulator.getFloat() : numberAccumulator);
        state.put("cumulated_batch_size", cumulatedBatchSize);
        return state;
    }

    /** Restores the accumulator of {@link #stateDict()}; the step value comes with the next update. */
    void loadState(boolean isTensor, double value, double batchSizes) {
        tensor = isTensor;
        updated = true;
        computed = false;
        cumulatedBatchSize = batchSizes;
        if (isTensor) {
            if (accumulator != null) {
                accumulator.close();
            }
            accumulator = manager.full(new Shape(), (float) value, DataType.FLOAT32);
        } else {
            numberAccumulator = value;
        }
    }

    /** Starts a new epoch: the accumulators restart, the last computed values stay readable by their holders. */
    void reset() {
        if (accumulator != null) {
            accumulator.close();
            accumulator = null;
        }
        cumulatedBatchSize = 0;
        numberAccumulator = initialNumber();
        computed = false;
        updated = false;
    }

    /** What differs between these options and those of an earlier call in the same hook, or null when nothing. */
    String differences(boolean otherOnStep, boolean otherOnEpoch, LogOptions other) {
        StringBuilder out = new StringBuilder();
        difference(out, "onStep", onStep, otherOnStep);
        difference(out, "onEpoch", onEpoch, otherOnEpoch);
        difference(out, "progBar", progBar, other.isProgBar());
        difference(out, "logger", logger, other.isLogger());
        difference(out, "reduce", reduce, other.getReduce());
        return out.length() == 0 ? null : out.toString();
    }

    private static void difference(StringBuilder out, String option, Object before, Object now) {
        if (!before.equals(now)) {
            out.append(out.length() == 0 ? "" : ", ").append(option).append(' ').append(before).append(" then ")
                    .append(now);
        }
    }

    /** Whether these options match the ones of an earlier call in the same hook. */
    boolean sameOptions(boolean otherOnStep, boolean otherOnEpoch, LogOptions other) {
        return onStep == otherOnStep
                && onEpoch == otherOnEpoch
                && progBar == other.isProgBar()
                && logger == other.isLogger()
                && reduce == other.getReduce();
    }
}
