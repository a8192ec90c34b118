package io.github.djllightning.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.dataset.Batch;
import ai.djl.translate.Batchifier;
import io.github.djllightning.util.StepManagers;
import java.util.Collection;
import java.util.Iterator;

/**
 * The batches of one epoch of a ready-made {@code Iterable<Batch>}.
 *
 * <p>A {@link Collection} holds its batches for every epoch, so the caller must not close them: each is handed out
 * as a fresh batch in a sub-manager of the caller's manager, holding views of the stored arrays (no copy). Any other
 * iterable is taken to produce new batches on each iteration (like DJL's {@code Dataset.getData}), so its batches are
 * passed through as they are and the caller closes them.
 */
final class IterableBatchSource implements BatchSource {

    private final Iterator<Batch> iterator;
    private final boolean stored;
    private final NDManager parent;
    private final int epoch;

    IterableBatchSource(Iterable<Batch> batches, NDManager parent, int epoch, long startBatch) {
        this.iterator = batches.iterator();
        this.stored = batches instanceof Collection;
        this.parent = parent;
        this.epoch = epoch;
        for (long i = 0; i < startBatch && iterator.hasNext(); i++) {
            Batch skipped = iterator.next();
            if (!stored) {
                // produced for this iteration and never handed out, so nobody else would free it
                skipped.close();
            }
        }
    }

    @Override
    public boolean hasNext() {
        return iterator.hasNext();
    }

    @Override
    public Batch next() {
        Batch batch = iterator.next();
        return stored ? viewOf(batch) : batch;
    }

    private Batch viewOf(Batch batch) {
        NDManager manager = StepManagers.newStepManager(parent);
        try {
            return new Batch(
                    manager,
                    views(manager, batch.getData()),
                    views(manager, batch.getLabels()),
                    batch.getSize(),
                    Batchifier.STACK,
                    Batchifier.STACK,
                    batch.getProgress(),
                    batch.getProgressTotal(),
                    batch.getIndices());
        } catch (RuntimeException | Error e) {
            manager.close();
            throw e;
        }
    }

    private static NDList views(NDManager manager, NDList arrays) {
        NDList views = new NDList(arrays == null ? 0 : arrays.size());
        if (arrays == null) {
            return views;
        }
        for (NDArray array : arrays) {
            NDArray view;
            if (array.getShape().isScalar()) {
                view = array.duplicate();
                view.attach(manager);
            } else {
                view = array.get(manager, new NDIndex().addAllDim());
            }
            view.setName(array.getName());
            views.add(view);
        }
        return views;
    }

    @Override
    public String describe(long batchIndex) {
        return "batch " + batchIndex + " of epoch " + epoch + " of the batch iterable";
    }

    @Override
    public void close() {
        // the iterable owns whatever it holds
    }
}
