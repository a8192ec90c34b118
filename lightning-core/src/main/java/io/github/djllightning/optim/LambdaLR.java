package io.github.djllightning.optim;

import java.util.function.IntToDoubleFunction;

/**
 * Sets the learning rate to the base rate times a user function of the epoch, like
 * {@code torch.optim.lr_scheduler.LambdaLR}.
 *
 * <p>Closed form, as in torch: {@code lr = base_lr * factor(epoch)}, from epoch 0 on. The function is not saved in
 * the state dict (torch saves plain functions as {@code None} too); rebuild the scheduler with the same function
 * before loading its state.
 */
public final class LambdaLR extends AbstractLrScheduler {

    private final IntToDoubleFunction factor;

    /**
     * Creates a schedule from a factor function.
     *
     * @param optimizer the optimizer whose learning rate to set
     * @param factor maps the epoch (0, 1, ...) to a finite factor {@code >= 0} of the base learning rate
     */
    public LambdaLR(Optimizer optimizer, IntToDoubleFunction factor) {
        super(optimizer);
        this.factor = Checks.notNull("LambdaLR", "factor", factor);
        initialStep();
    }

    /** {@inheritDoc} */
    @Override
    protected double computeLr(ParamGroup group, double baseLr, int epoch) {
        return baseLr * factor.applyAsDouble(epoch);
    }
}
