package io.github.djllightning.testing;

import java.util.Objects;

/**
 * One recorded hook or step call, with the Trainer counters at that moment; comparable to the events of the
 * conformance traces recorded from PyTorch Lightning.
 *
 * @param event Lightning's name of the hook or step (e.g. {@code on_train_batch_start}, {@code training_step})
 * @param epoch {@code trainer.currentEpoch()}
 * @param globalStep {@code trainer.globalStep()}
 * @param stage the running stage's Lightning name
 * @param batchIdx the batch index, or null for hooks without one
 * @param arg the stage argument of setup/teardown, or null
 */
public record Event(String event, int epoch, long globalStep, String stage, Integer batchIdx, String arg) {

    /** A compact form for failure messages: {@code name/batch@epoch:step[stage]}. */
    @Override
    public String toString() {
        return event + (batchIdx == null ? "" : "/" + batchIdx) + "@" + epoch + ":" + globalStep + "[" + stage + "]"
                + (arg == null ? "" : "(" + arg + ")");
    }

    /** Whether two events are the same call with the same counters. */
    public boolean sameAs(Event other) {
        return event.equals(other.event)
                && epoch == other.epoch
                && globalStep == other.globalStep
                && Objects.equals(stage, other.stage)
                && Objects.equals(batchIdx, other.batchIdx)
                && Objects.equals(arg, other.arg);
    }
}
