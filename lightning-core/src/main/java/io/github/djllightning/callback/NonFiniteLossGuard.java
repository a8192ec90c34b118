package io.github.djllightning.callback;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.util.HostScalars;
import io.github.djllightning.trainer.TrainerFn;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the training loss for NaN and infinity, before its backward pass. Lightning has no such check: a NaN loss
 * trains on and turns every weight into NaN.
 *
 * <ul>
 *   <li>{@link Action#FAIL} (the default) ends fit at once with a {@link NonFiniteLossException} that names the
 *       epoch, the batch index, the global step, the loss and any logged metric that is not finite either. The weights
 *       are those of the last good step.
 *   <li>{@link Action#SKIP_BATCH} cancels the batch's backward pass ({@link Trainer#skipBackward()}), so the batch
 *       adds no gradient and, without gradient accumulation, the optimizer does not step for it; training goes on.
 *       When accumulating, the window's step uses its other batches. As for a {@code trainingStep} that returns
 *       null, {@code globalStep} still counts the batch, and what the module logged for it (a NaN {@code
 *       train_loss}) stays in its metrics.
 *   <li>{@link Action#WARN} only reports, and training goes on with the non-finite loss, as in Lightning.
 *   <li>{@link Action#OFF} does not look at the loss at all (no host read per step).
 * </ul>
 *
 * <p>Skipped and warned batches are reported once per epoch with their details, then summed up at the epoch's end,
 * so a run whose every loss is NaN does not flood the log. The count is kept in checkpoints.
 *
 * <p>The check reads the loss on the host once per training batch; on a GPU that waits for the step's forward pass.
 * It covers automatic optimization and {@code manualBackward}.
 */
public class NonFiniteLossGuard implements Callback {

    /** What to do about a training batch whose loss is NaN or infinite. */
    public enum Action {
        /** End fit with a {@link NonFiniteLossException}. */
        FAIL,
        /** Skip the batch's backward pass (and so its optimizer step), and go on. */
        SKIP_BATCH,
        /** Log a warning and go on with the non-finite loss. */
        WARN,
        /**
         * No check at all, as in Lightning: the loss is not read on the host, so a GPU run keeps queueing work
         * without one synchronization per step.
         */
        OFF
    }

    private static final Logger LOG = LoggerFactory.getLogger(NonFiniteLossGuard.class);
    private static final int LISTED_BATCHES = 10;

    private final Action action;
    private long nonFiniteBatches;
    private int batchIdx = -1;
    private final List<Integer> epochBatches = new ArrayList<>();
    private int epochCount;

    /** A guard that fails fit at the first non-finite loss. */
    public NonFiniteLossGuard() {
        this(Action.FAIL);
    }

    /**
     * A guard with the given action.
     *
     * @param action what to do about a non-finite loss
     */
    public NonFiniteLossGuard(Action action) {
        if (action == null) {
            throw new MisconfigurationException("NonFiniteLossGuard needs an action: FAIL, SKIP_BATCH, WARN or OFF,"
                    + " got null.");
        }
        this.action = action;
    }

    /**
     * A guard from an action's name, as a configuration file would give it.
     *
     * @param action {@code "fail"}, {@code "skip_batch"}, {@code "warn"} or {@code "off"} (any case)
     * @return the guard
     */
    public static NonFiniteLossGuard of(String action) {
        String name = action == null ? "" : action.trim().toUpperCase(Locale.ROOT);
        for (Action candidate : Action.values()) {
            if (candidate.name().equals(name)) {
                return new NonFiniteLossGuard(candidate);
            }
        }
        throw new MisconfigurationException("NonFiniteLossGuard action must be one of fail, skip_batch, warn, off; got '"
                + action + "'.");
    }

    /** What the guard does about a non-finite loss. */
    public Action action() {
        return action;
    }

    /** The training batches with a non-finite loss so far, over all fits and resumes of this run. */
    public long nonFiniteBatches() {
        return nonFiniteBatches;
    }

    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        batchIdx = -1;
        epochBatches.clear();
        epochCount = 0;
    }

    @Override
    public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
        this.batchIdx = batchIdx;
    }

    @Override
    public void onBeforeBackward(Trainer trainer, LightningModule module, NDArray loss) {
        if (action == Action.OFF) {
            return;
        }
        double value = hostValue(loss);
        if (Double.isFinite(value)) {
            return;
        }
        if (action == Action.FAIL) {
            throw new NonFiniteLossException(trainer.currentEpoch(), batchIdx, trainer.globalStep(), value,
                    describe(trainer, value) + " Training stopped before its backward pass, so the weights are those"
                            + " of the last good step. Find the cause (learning rate too high, a log or division of"
                            + " zero, bad input rows), or configure NonFiniteLossGuard with SKIP_BATCH to skip such"
                            + " batches.");
        }
        nonFiniteBatches++;
        epochCount++;
        if (epochBatches.size() < LISTED_BATCHES) {
            epochBatches.add(batchIdx);
        }
        if (action == Action.SKIP_BATCH) {
            trainer.skipBackward();
        }
        if (epochCount == 1) {
            LOG.warn("{} {}", describe(trainer, value), action == Action.SKIP_BATCH
                    ? "The batch is skipped: no backward pass, no optimizer step for it."
                    : "Training goes on with it; the weights may become NaN.");
        }
    }

    @Override
    public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
        if (epochCount > 1) {
            LOG.warn("Epoch {}: {} training batches had a non-finite loss and were {} (batch indices {}{}).",
                    trainer.currentEpoch(), epochCount, action == Action.SKIP_BATCH ? "skipped" : "trained on",
                    epochBatches, epochCount > epochBatches.size() ? ", ..." : "");
        }
        epochBatches.clear();
        epochCount = 0;
    }

    private String describe(Trainer trainer, double value) {
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT,
                "Non-finite loss at epoch %d, batch %d (global step %d): the loss from trainingStep is %s.",
                trainer.currentEpoch(), batchIdx, trainer.globalStep(), value));
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, Double> metric : trainer.callbackMetrics().entrySet()) {
            if (!Double.isFinite(metric.getValue())) {
                bad.add(metric.getKey() + "=" + metric.getValue());
            }
        }
        if (!bad.isEmpty()) {
            text.append(" Logged metrics that are not finite: ").append(String.join(", ", bad)).append('.');
        }
        return text.toString();
    }

    /** The loss as a number; the one host read per batch. */
    private static double hostValue(NDArray loss) {
        return HostScalars.read(loss);
    }

    @Override
    public Map<String, Object> stateDict() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("non_finite_batches", nonFiniteBatches);
        return state;
    }

    @Override
    public void loadStateDict(Map<String, Object> state) {
        nonFiniteBatches = ((Number) state.get("non_finite_batches")).longValue();
    }
}
