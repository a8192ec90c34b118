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
     * @param alreadyFetched batches of this epoch fetched before (when resuming mid-epoch)
     */
    BatchFetcher(BatchIterator iterator, long limit, long alreadyFetched, Hooks hooks, String action) {
        this.iterator = iterator;
        this.limit = limit;
        this.fetched = alreadyFetched;
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

    long fetched() {
        return fetched;
    }

    @Override
    public void close() {
        iterator.close();
    }
}
