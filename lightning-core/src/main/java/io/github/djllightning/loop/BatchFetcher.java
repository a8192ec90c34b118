package io.github.djllightning.loop;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.data.BatchIterator;

/**
 * Fetches at most {@code limit} batches from a loader's iterator and knows whether the one just fetched is the last
 * (Lightning's data fetcher), timing each fetch when profiling.
 */
final class BatchFetcher implements AutoCloseable {

    private final BatchIterator iterator;
    private final long limit;
    private final Hooks hooks;
    private final String action;
    private long fetched;

    /**
     * @param iterator the loader's iterator
     * @param limit the most batches to fetch, or -1 for all
     */
    BatchFetcher(BatchIterator iterator, long limit, Hooks hooks, String action) {
        this.iterator = iterator;
        this.limit = limit;
        this.hooks = hooks;
        this.action = action;
    }

    boolean hasNext() {
        return (limit < 0 || fetched < limit) && iterator.hasNext();
    }

    /** The next batch, or null at the end. */
    Batch next() {
        if (!hasNext()) {
            return null;
        }
        hooks.start(action);
        try {
            Batch batch = iterator.next();
            fetched++;
            return batch;
        } finally {
            hooks.stop(action);
        }
    }

    /** Whether no batch follows the one fetched last. */
    boolean done() {
        return !hasNext();
    }

    @Override
    public void close() {
        iterator.close();
    }
}
