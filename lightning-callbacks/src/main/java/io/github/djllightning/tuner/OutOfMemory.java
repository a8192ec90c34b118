package io.github.djllightning.tuner;

import io.github.djllightning.trainer.LightningException;

/**
 * Tells out-of-memory failures from other failures, as Lightning's {@code is_oom_error} does: by the engine's
 * message, since the engine reports them as generic errors, and by the batch-size finder's own budget.
 */
final class OutOfMemory {

    private OutOfMemory() {}

    /** A training step held more tensor bytes than the batch-size finder's budget allows. */
    static final class BudgetExceeded extends LightningException {
        private static final long serialVersionUID = 1L;

        BudgetExceeded(long bytes, long budget) {
            super("a training step held " + bytes + " bytes of tensors, more than memoryBudgetBytes=" + budget);
        }
    }

    /**
     * Whether a failure, or one of its causes, is an out-of-memory failure.
     *
     * @param failure the failure
     * @return true for engine allocation failures and exceeded budgets
     */
    static boolean is(Throwable failure) {
        return find(failure) != null;
    }

    /** The first line of the out-of-memory message, for the log. */
    static String describe(Throwable failure) {
        Throwable found = find(failure);
        return (found != null ? found : failure).getMessage().lines().findFirst().orElse("");
    }

    private static Throwable find(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof BudgetExceeded) {
                return t;
            }
            String message = t.getMessage();
            if (message != null && (message.contains("DefaultCPUAllocator: can't allocate memory")
                    || message.contains("CUDA") && message.contains("out of memory")
                    || message.contains("cuDNN error: CUDNN_STATUS_NOT_SUPPORTED"))) {
                return t;
            }
        }
        return null;
    }
}
