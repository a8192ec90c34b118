package io.github.djllightning.callback;

import io.github.djllightning.trainer.LightningException;

/** A training loss was NaN or infinite; thrown by {@link NonFiniteLossGuard} before the loss's backward pass. */
public class NonFiniteLossException extends LightningException {

    private static final long serialVersionUID = 1L;

    private final int epoch;
    private final int batchIdx;
    private final long globalStep;
    private final double loss;

    /**
     * Creates the exception.
     *
     * @param epoch the epoch of the batch
     * @param batchIdx the batch's index in its epoch
     * @param globalStep the optimizer steps taken before the batch
     * @param loss the loss's value
     * @param message what happened and what to do
     */
    public NonFiniteLossException(int epoch, int batchIdx, long globalStep, double loss, String message) {
        super(message);
        this.epoch = epoch;
        this.batchIdx = batchIdx;
        this.globalStep = globalStep;
        this.loss = loss;
    }

    /** The epoch of the batch. */
    public int epoch() {
        return epoch;
    }

    /** The batch's index in its epoch. */
    public int batchIdx() {
        return batchIdx;
    }

    /** The optimizer steps taken before the batch. */
    public long globalStep() {
        return globalStep;
    }

    /** The loss's value: NaN or an infinity. */
    public double loss() {
        return loss;
    }
}
