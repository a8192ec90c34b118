package io.github.djllightning.trainer;

import io.github.djllightning.optim.Optimizer;

/**
 * An optimizer as the module sees it during a run: stepping it also fires the {@code onBeforeOptimizerStep} hooks,
 * clips gradients (automatic optimization) and counts the step in {@code globalStep}.
 */
public final class LightningOptimizer {

    private static final Runnable NO_CLOSURE = () -> {};

    private final Optimizer optimizer;
    private final StepHooks hooks;

    /**
     * Wraps an optimizer.
     *
     * @param optimizer the optimizer
     * @param hooks what runs around its steps
     */
    public LightningOptimizer(Optimizer optimizer, StepHooks hooks) {
        this.optimizer = optimizer;
        this.hooks = hooks;
    }

    /**
     * Runs the closure (the training step and backward), the hooks that precede a step, and the step itself.
     *
     * @param closure computes the gradients
     */
    public void step(Runnable closure) {
        closure.run();
        hooks.afterClosure(optimizer);
        if (hooks.hasFreshGradients()) {
            optimizer.step();
        }
        hooks.afterStep(optimizer);
    }

    /** Steps with the gradients already computed (manual optimization). */
    public void step() {
        step(NO_CLOSURE);
    }

    /** Zeroes the gradients of the optimizer's parameters. */
    public void zeroGrad() {
        optimizer.zeroGrad();
        hooks.afterZeroGrad(optimizer);
    }

    /** The wrapped optimizer. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** What the Trainer runs around an optimizer step. */
    public interface StepHooks {

        /** Runs after the closure, before the step: the {@code onBeforeOptimizerStep} hooks and clipping. */
        void afterClosure(Optimizer optimizer);

        /**
         * Whether a backward pass ran since the gradients were last zeroed; without one the step is skipped, as torch
         * skips parameters whose gradient was cleared.
         */
        boolean hasFreshGradients();

        /** Runs after the step (taken or skipped): progress counting. */
        void afterStep(Optimizer optimizer);

        /** Runs after the gradients were zeroed through the wrapper. */
        void afterZeroGrad(Optimizer optimizer);
    }
}
