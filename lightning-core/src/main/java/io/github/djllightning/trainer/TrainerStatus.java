package io.github.djllightning.trainer;

/** The lifecycle of a Trainer run. */
public enum TrainerStatus {
    /** No run has started. */
    INITIALIZING,
    /** A run is in progress. */
    RUNNING,
    /** The last run completed. */
    FINISHED,
    /** The last run ended with an exception. */
    INTERRUPTED
}
