package io.github.djllightning.data;

/**
 * Reports that a {@link DataLoader} could not produce a batch; the cause is what the dataset (or the batch source)
 * threw, and the message names the epoch, the batch and the samples involved.
 */
public class DataLoaderException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception about a failed batch.
     *
     * @param message what was being loaded
     * @param cause what the dataset threw
     */
    public DataLoaderException(String message, Throwable cause) {
        super(message, cause);
    }
}
