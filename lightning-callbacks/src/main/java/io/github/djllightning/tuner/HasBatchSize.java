package io.github.djllightning.tuner;

/**
 * A module or data module whose batch size the batch-size finder can read and set: the typed alternative to recording
 * the size as the hyperparameter {@code "batch_size"}.
 *
 * <pre>{@code
 * class MnistData extends LightningDataModule implements HasBatchSize {
 *     private int batchSize = 32;
 *
 *     public int batchSize() { return batchSize; }
 *     public void setBatchSize(int batchSize) { this.batchSize = batchSize; }
 *
 *     public DataLoader trainDataloader() { return DataLoader.of(train).batchSize(batchSize).shuffle(true).build(); }
 * }
 * }</pre>
 *
 * <p>The training loader hook ({@code trainDataloader()}) must build its loader with the value it holds: the finder
 * asks for a new loader at every batch size it tries.
 */
public interface HasBatchSize {

    /**
     * Returns the batch size the training loader is built with.
     *
     * @return the batch size
     */
    int batchSize();

    /**
     * Sets the batch size the training loader is built with from now on.
     *
     * @param batchSize the new batch size, at least 1
     */
    void setBatchSize(int batchSize);
}
