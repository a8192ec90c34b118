package io.github.djllightning.trainer;

import java.util.Locale;

/** What the Trainer was asked to do: the stage given to {@code setup} and {@code teardown}. */
public enum TrainerFn {
    /** {@code Trainer.fit}. */
    FIT,
    /** {@code Trainer.validate}. */
    VALIDATE,
    /** {@code Trainer.test}. */
    TEST,
    /** {@code Trainer.predict}. */
    PREDICT;

    /** Lightning's name of the stage: {@code fit}, {@code validate}, {@code test} or {@code predict}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
