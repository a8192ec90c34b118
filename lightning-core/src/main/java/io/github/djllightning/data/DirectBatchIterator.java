package io.github.djllightning.data;

import ai.djl.training.dataset.Batch;
import java.util.NoSuchElementException;

/** Loads each batch on the caller's thread when it is asked for: the simplest and, on few cores, often fastest. */
final class DirectBatchIterator implements BatchIterator {

    private final BatchSource source;
    private long nextIndex;
    private Throwable failure;
    private boolean closed;

    DirectBatchIterator(BatchSource source, long startBatch) {
        this.source = source;
        this.nextIndex = startBatch;
    }

    @Override
    public boolean hasNext() {
        if (failure != null) {
            throw DataLoader.failure(source, nextIndex, failure);
        }
        if (closed) {
            return false;
        }
        boolean more;
        try {
            more = source.hasNext();
        } catch (RuntimeException e) {
            failure = e;
            throw DataLoader.failure(source, nextIndex, e);
        }
        if (!more) {
            source.close();
        }
        return more;
    }

    @Override
    public Batch next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the epoch has no batch " + nextIndex);
        }
        try {
            Batch batch = source.next();
            nextIndex++;
            return batch;
        } catch (Error e) {
            failure = e;
            throw e;
        } catch (Exception e) {
            failure = e;
            throw DataLoader.failure(source, nextIndex, e);
        }
    }

    @Override
    public long nextBatchIndex() {
        return nextIndex;
    }

    @Override
    public void close() {
        closed = true;
        source.close();
    }
}
