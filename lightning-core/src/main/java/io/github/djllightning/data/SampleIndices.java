package io.github.djllightning.data;

import java.util.AbstractList;
import java.util.RandomAccess;

/**
 * The dataset indices of the samples in one batch, as DJL's {@link ai.djl.training.dataset.Batch#getIndices()}
 * reports them: a read-only view of a slice of the epoch's sample order, so a batch costs one small object and no copy.
 */
final class SampleIndices extends AbstractList<Long> implements RandomAccess {

    private final long[] order;
    private final long from;
    private final int size;

    /**
     * Creates the view.
     *
     * @param order the epoch's sample order, or null for the sequential order {@code 0, 1, 2, ...}
     * @param from the position of the batch's first sample in the order
     * @param to the position after the batch's last sample
     */
    SampleIndices(long[] order, long from, long to) {
        this.order = order;
        this.from = from;
        this.size = (int) (to - from);
    }

    @Override
    public Long get(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("index " + index + " out of a batch of " + size + " samples");
        }
        return order == null ? from + index : order[(int) (from + index)];
    }

    @Override
    public int size() {
        return size;
    }
}
