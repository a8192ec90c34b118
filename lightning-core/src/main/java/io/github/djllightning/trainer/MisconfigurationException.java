package io.github.djllightning.trainer;

/** The module, data or Trainer configuration cannot work together; raised before the first step. */
public class MisconfigurationException extends LightningException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what is wrong and how to fix it
     */
    public MisconfigurationException(String message) {
        super(message);
    }
}
