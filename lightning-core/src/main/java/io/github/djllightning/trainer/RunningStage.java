package io.github.djllightning.trainer;

import java.util.Locale;

/** What the Trainer is running at this moment. */
public enum RunningStage {
    /** Training batches of {@code fit}. */
    TRAIN,
    /** The validation batches run before the first training epoch. */
    SANITY_CHECK,
    /** Validation, inside {@code fit} or from {@code validate}. */
    VALIDATE,
    /** {@code test}. */
    TEST,
    /** {@code predict}. */
    PREDICT;

    /** Lightning's name of the stage, e.g. {@code sanity_check}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
