package io.github.djllightning.data;

import ai.djl.training.dataset.Batch;

/**
 * The batches of one epoch, produced one at a time on whichever single thread calls it; the iterators add
 * prefetching, error wrapping and early stopping on top.
 */
interface BatchSource extends AutoCloseable {

    /**
     * Tells whether the epoch has another batch.
     *
     * @return {@code true} if {@link #next()} has a batch to produce
     */
    boolean hasNext();

    /**
     * Produces the next batch; on failure nothing of it is left allocated.
     *
     * @return a batch owned by the caller
     * @throws Exception whatever the dataset threw
     */
    Batch next() throws Exception;

    /**
     * Describes a batch for error messages.
     *
     * @param batchIndex the position of the batch in the epoch
     * @return e.g. "batch 3 of epoch 1 (samples 96..127 of MnistDataset[...])"
     */
    String describe(long batchIndex);

    /** Frees the per-epoch resources; produced batches are not affected. */
    @Override
    void close();
}
