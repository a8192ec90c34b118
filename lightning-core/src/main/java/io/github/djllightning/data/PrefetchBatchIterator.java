package io.github.djllightning.data;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.util.Denormals;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads batches on a daemon thread that keeps up to {@code prefetch} of them ready, so loading overlaps the training
 * step.
 *
 * <p>Every batch the thread produces ends up either handed out by {@link #next()} or closed: by {@link #close()},
 * or by the thread itself when it finds the iterator closed after queueing one. The thread also frees the epoch's
 * resources when it stops.
 */
final class PrefetchBatchIterator implements BatchIterator {

    /** How long {@link #close()} waits for a thread that is inside the dataset's code before leaving it to finish. */
    private static final Logger LOG = LoggerFactory.getLogger(PrefetchBatchIterator.class);
    private static final long JOIN_MILLIS = 5_000;

    private static final Object END = new Object();

    private final BatchSource source;
    private final BlockingQueue<Object> queue;
    private final Thread worker;
    /** Whether the thread that started the worker flushes denormals: the worker then does too. */
    private final boolean flushDenormals;
    private volatile boolean closed;
    private Object pending;
    private long nextIndex;
    private Throwable failure;

    /** What the worker thread hands over when the source threw. */
    private static final class Failure {
        final Throwable cause;

        Failure(Throwable cause) {
            this.cause = cause;
        }
    }

    PrefetchBatchIterator(BatchSource source, long startBatch, int prefetch, String threadName) {
        this.source = source;
        this.nextIndex = startBatch;
        this.queue = new ArrayBlockingQueue<>(prefetch);
        this.flushDenormals = Denormals.isRequested();
        this.worker = new Thread(this::produce, threadName);
        worker.setDaemon(true);
        worker.start();
    }

    private void produce() {
        if (flushDenormals) {
            Denormals.enter();
        }
        try {
            disableGradMode();
            while (!closed && source.hasNext()) {
                if (!hand(source.next())) {
                    return;
                }
            }
            hand(END);
        } catch (Throwable t) {
            hand(new Failure(t));
        } finally {
            try {
                source.close();
            } finally {
                if (flushDenormals) {
                    Denormals.exit();
                }
            }
        }
    }

    /** Grad mode is per thread in libtorch and starts on in new threads: data preparation must not build graphs. */
    private static void disableGradMode() {
        if ("PyTorch".equals(Engine.getInstance().getEngineName())) {
            JniUtils.setGradMode(false);
        }
    }

    /** Queues an item; returns false (having freed it) when the consumer has gone. */
    private boolean hand(Object item) {
        try {
            queue.put(item);
        } catch (InterruptedException e) {
            discard(item);
            return false;
        }
        if (closed) {
            // close() may have drained the queue before this item arrived; whichever side drains last frees it
            drain();
            return false;
        }
        return true;
    }

    @Override
    public boolean hasNext() {
        if (failure != null) {
            throw DataLoader.failure(source, nextIndex, failure);
        }
        if (closed) {
            return false;
        }
        if (pending == null) {
            try {
                pending = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DataLoaderException(
                        "interrupted while waiting for " + source.describe(nextIndex), e);
            }
        }
        if (pending instanceof Failure) {
            failure = ((Failure) pending).cause;
            pending = null;
            if (failure instanceof Error) {
                throw (Error) failure;
            }
            throw DataLoader.failure(source, nextIndex, failure);
        }
        return pending != END;
    }

    @Override
    public Batch next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the epoch has no batch " + nextIndex);
        }
        Batch batch = (Batch) pending;
        pending = null;
        nextIndex++;
        return batch;
    }

    @Override
    public long nextBatchIndex() {
        return nextIndex;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        discard(pending);
        pending = null;
        drain();
        worker.interrupt();
        try {
            worker.join(JOIN_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (worker.isAlive()) {
            LOG.warn("The prefetch thread {} is still inside the dataset's get() {} ms after the loader was closed;"
                    + " the batch it is building will be freed when it finishes. A dataset should not block"
                    + " uninterruptibly for that long.", worker.getName(), JOIN_MILLIS);
        }
        drain();
    }

    private void drain() {
        Object item;
        while ((item = queue.poll()) != null) {
            discard(item);
        }
    }

    private static void discard(Object item) {
        if (item instanceof Batch) {
            ((Batch) item).close();
        }
    }
}
