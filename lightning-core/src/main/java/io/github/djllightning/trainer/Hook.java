package io.github.djllightning.trainer;

/**
 * Every hook and step the Trainer calls, with Lightning's name for it and the rules for calling {@code log(...)}
 * inside it (Lightning's {@code _FxValidator} table).
 */
public enum Hook {
    SETUP("setup", LogRule.FORBIDDEN),
    TEARDOWN("teardown", LogRule.FORBIDDEN),
    PREPARE_DATA("prepare_data", LogRule.FORBIDDEN),
    CONFIGURE_MODEL("configure_model", LogRule.FORBIDDEN),
    CONFIGURE_CALLBACKS("configure_callbacks", LogRule.FORBIDDEN),
    CONFIGURE_OPTIMIZERS("configure_optimizers", LogRule.FORBIDDEN),
    TRAIN_DATALOADER("train_dataloader", LogRule.FORBIDDEN),
    VAL_DATALOADER("val_dataloader", LogRule.FORBIDDEN),
    TEST_DATALOADER("test_dataloader", LogRule.FORBIDDEN),
    PREDICT_DATALOADER("predict_dataloader", LogRule.FORBIDDEN),
    ON_FIT_START("on_fit_start", LogRule.FORBIDDEN),
    ON_FIT_END("on_fit_end", LogRule.FORBIDDEN),
    ON_SANITY_CHECK_START("on_sanity_check_start", LogRule.FORBIDDEN),
    ON_SANITY_CHECK_END("on_sanity_check_end", LogRule.FORBIDDEN),
    ON_TRAIN_START("on_train_start", LogRule.EPOCH_ONLY),
    ON_TRAIN_END("on_train_end", LogRule.FORBIDDEN),
    ON_TRAIN_EPOCH_START("on_train_epoch_start", LogRule.EPOCH_ONLY),
    ON_TRAIN_EPOCH_END("on_train_epoch_end", LogRule.EPOCH_ONLY),
    ON_TRAIN_BATCH_START("on_train_batch_start", LogRule.TRAIN_STEP),
    ON_TRAIN_BATCH_END("on_train_batch_end", LogRule.TRAIN_STEP),
    ON_BEFORE_BATCH_TRANSFER("on_before_batch_transfer", LogRule.FORBIDDEN),
    TRANSFER_BATCH_TO_DEVICE("transfer_batch_to_device", LogRule.FORBIDDEN),
    ON_AFTER_BATCH_TRANSFER("on_after_batch_transfer", LogRule.FORBIDDEN),
    TRAINING_STEP("training_step", LogRule.TRAIN_STEP),
    ON_BEFORE_ZERO_GRAD("on_before_zero_grad", LogRule.TRAIN_STEP),
    OPTIMIZER_ZERO_GRAD("optimizer_zero_grad", LogRule.TRAIN_STEP),
    ON_BEFORE_BACKWARD("on_before_backward", LogRule.TRAIN_STEP),
    BACKWARD("backward", LogRule.TRAIN_STEP),
    ON_AFTER_BACKWARD("on_after_backward", LogRule.TRAIN_STEP),
    ON_BEFORE_OPTIMIZER_STEP("on_before_optimizer_step", LogRule.TRAIN_STEP),
    CONFIGURE_GRADIENT_CLIPPING("configure_gradient_clipping", LogRule.TRAIN_STEP),
    OPTIMIZER_STEP("optimizer_step", LogRule.TRAIN_STEP),
    LR_SCHEDULER_STEP("lr_scheduler_step", LogRule.FORBIDDEN),
    ON_VALIDATION_MODEL_ZERO_GRAD("on_validation_model_zero_grad", LogRule.FORBIDDEN),
    ON_VALIDATION_MODEL_EVAL("on_validation_model_eval", LogRule.FORBIDDEN),
    ON_VALIDATION_MODEL_TRAIN("on_validation_model_train", LogRule.FORBIDDEN),
    ON_VALIDATION_START("on_validation_start", LogRule.EPOCH_ONLY),
    ON_VALIDATION_END("on_validation_end", LogRule.FORBIDDEN),
    ON_VALIDATION_EPOCH_START("on_validation_epoch_start", LogRule.EPOCH_ONLY),
    ON_VALIDATION_EPOCH_END("on_validation_epoch_end", LogRule.EPOCH_ONLY),
    ON_VALIDATION_BATCH_START("on_validation_batch_start", LogRule.EVAL_STEP),
    ON_VALIDATION_BATCH_END("on_validation_batch_end", LogRule.EVAL_STEP),
    VALIDATION_STEP("validation_step", LogRule.EVAL_STEP),
    ON_TEST_MODEL_EVAL("on_test_model_eval", LogRule.FORBIDDEN),
    ON_TEST_MODEL_TRAIN("on_test_model_train", LogRule.FORBIDDEN),
    ON_TEST_START("on_test_start", LogRule.EPOCH_ONLY),
    ON_TEST_END("on_test_end", LogRule.FORBIDDEN),
    ON_TEST_EPOCH_START("on_test_epoch_start", LogRule.EPOCH_ONLY),
    ON_TEST_EPOCH_END("on_test_epoch_end", LogRule.EPOCH_ONLY),
    ON_TEST_BATCH_START("on_test_batch_start", LogRule.EVAL_STEP),
    ON_TEST_BATCH_END("on_test_batch_end", LogRule.EVAL_STEP),
    TEST_STEP("test_step", LogRule.EVAL_STEP),
    ON_PREDICT_MODEL_EVAL("on_predict_model_eval", LogRule.FORBIDDEN),
    ON_PREDICT_START("on_predict_start", LogRule.FORBIDDEN),
    ON_PREDICT_END("on_predict_end", LogRule.FORBIDDEN),
    ON_PREDICT_EPOCH_START("on_predict_epoch_start", LogRule.FORBIDDEN),
    ON_PREDICT_EPOCH_END("on_predict_epoch_end", LogRule.FORBIDDEN),
    ON_PREDICT_BATCH_START("on_predict_batch_start", LogRule.FORBIDDEN),
    ON_PREDICT_BATCH_END("on_predict_batch_end", LogRule.FORBIDDEN),
    PREDICT_STEP("predict_step", LogRule.FORBIDDEN),
    ON_EXCEPTION("on_exception", LogRule.FORBIDDEN),
    ON_SAVE_CHECKPOINT("on_save_checkpoint", LogRule.FORBIDDEN),
    /** After a checkpoint file is written; Lightning has no such callback hook (its loggers get one). */
    ON_CHECKPOINT_SAVED("on_checkpoint_saved", LogRule.FORBIDDEN),
    ON_LOAD_CHECKPOINT("on_load_checkpoint", LogRule.FORBIDDEN);

    private final String lightningName;
    private final LogRule logRule;

    Hook(String lightningName, LogRule logRule) {
        this.lightningName = lightningName;
        this.logRule = logRule;
    }

    /** Lightning's snake_case name of the hook, as in its traces and profiler reports. */
    public String lightningName() {
        return lightningName;
    }

    /** What {@code log(...)} may do inside this hook. */
    public LogRule logRule() {
        return logRule;
    }

    /** Where {@code log(...)} is allowed and what it defaults to. */
    public enum LogRule {
        /** Logging raises an error. */
        FORBIDDEN(false, false, false, false),
        /** Training-batch hooks: per step by default, per epoch allowed. */
        TRAIN_STEP(true, false, true, true),
        /** Evaluation-batch hooks: per epoch by default, per step allowed. */
        EVAL_STEP(false, true, true, true),
        /** Epoch-level hooks: only per epoch. */
        EPOCH_ONLY(false, true, false, true);

        private final boolean defaultOnStep;
        private final boolean defaultOnEpoch;
        private final boolean onStepAllowed;
        private final boolean allowed;

        LogRule(boolean defaultOnStep, boolean defaultOnEpoch, boolean onStepAllowed, boolean allowed) {
            this.defaultOnStep = defaultOnStep;
            this.defaultOnEpoch = defaultOnEpoch;
            this.onStepAllowed = onStepAllowed;
            this.allowed = allowed;
        }

        /** Whether logging is allowed at all. */
        public boolean allowed() {
            return allowed;
        }

        /** The on_step value used when the caller leaves it unset. */
        public boolean defaultOnStep() {
            return defaultOnStep;
        }

        /** The on_epoch value used when the caller leaves it unset. */
        public boolean defaultOnEpoch() {
            return defaultOnEpoch;
        }

        /** Whether on_step=true is allowed. */
        public boolean onStepAllowed() {
            return onStepAllowed;
        }

        /** Whether on_epoch=false is allowed (epoch-only hooks require an epoch value). */
        public boolean onEpochFalseAllowed() {
            return onStepAllowed;
        }
    }
}
