package io.github.djllightning.callbacks;

import io.github.djllightning.trainer.Trainer;

/**
 * When callbacks that write to the loggers themselves do so: on the same batches as the Trainer's own step metrics,
 * so their rows line up with the rest of the run.
 */
final class LogSchedule {

    private LogSchedule() {}

    /**
     * Lightning's {@code should_update_logs} for a training batch: every {@code logEveryNSteps}-th optimizer-stepping
     * batch (counting the batch in flight), or any batch once a stop was requested; never with
     * {@code logEveryNSteps(0)}.
     *
     * @param trainer the Trainer
     * @return whether this batch's values go to the loggers
     */
    static boolean trainBatchDue(Trainer trainer) {
        int every = trainer.config().output().logEveryNSteps();
        if (every == 0) {
            return false;
        }
        return (trainer.fitLoop().epochLoop().batchesThatStepped() + 1) % every == 0 || trainer.shouldStop();
    }

    /**
     * The same rule for an evaluation batch, which counts the batches of the evaluation run instead.
     *
     * @param trainer the Trainer
     * @param evalBatches the batches of this evaluation run started so far, this one included
     * @return whether this batch's values go to the loggers
     */
    static boolean evalBatchDue(Trainer trainer, long evalBatches) {
        int every = trainer.config().output().logEveryNSteps();
        if (every == 0) {
            return false;
        }
        return evalBatches % every == 0 || trainer.shouldStop();
    }

    /**
     * The x value of rows written by callbacks: the optimizer-stepping batches so far, as for the step metrics.
     *
     * @param trainer the Trainer
     * @return the step
     */
    static long step(Trainer trainer) {
        return trainer.fitLoop().epochLoop().batchesThatStepped();
    }
}
