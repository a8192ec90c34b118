package io.github.djllightning.trainer;

/** A failure of a Trainer run, with what was running when it happened. */
public class LightningException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what went wrong and how to fix it
     */
    public LightningException(String message) {
        super(message);
    }

    /**
     * Creates an exception with its cause.
     *
     * @param message what went wrong and how to fix it
     * @param cause the underlying failure
     */
    public LightningException(String message, Throwable cause) {
        super(message, cause);
    }
}
