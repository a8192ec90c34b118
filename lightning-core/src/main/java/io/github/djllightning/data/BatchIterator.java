package io.github.djllightning.data;

import ai.djl.training.dataset.Batch;
import java.util.Iterator;

/**
 * The batches of one epoch of a {@link DataLoader}, in order, with a way to stop early without leaking.
 *
 * <p>Every batch returned by {@link #next()} belongs to the caller, who closes it (which frees all its arrays).
 * {@link #close()} frees what the iterator still holds: batches loaded ahead but not handed out, the per-epoch index
 * array and the prefetch thread. A failure while loading a batch surfaces from {@link #hasNext()} or {@link
 * #next()} as a {@link DataLoaderException} whose cause is the original exception, and the iterator stays failed.
 */
public interface BatchIterator extends Iterator<Batch>, AutoCloseable {

    /**
     * Returns the position within the epoch of the batch the next call to {@link #next()} returns, for progress
     * counters and for resuming mid-epoch with {@link DataLoader#iterator(ai.djl.ndarray.NDManager, int, long)}.
     *
     * @return the index of the next batch of the epoch (0 for the first)
     */
    long nextBatchIndex();

    /** Stops loading and frees every batch loaded but not handed out; safe to call more than once. */
    @Override
    void close();
}
