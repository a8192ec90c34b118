package io.github.djllightning.data;

import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.util.Progress;
import java.util.List;

/**
 * A view of some samples of a resident dataset that stays on {@link DataLoader}'s native gather path (DJL's own
 * sub-dataset views hide their index map, so batches of them need a Java index array each).
 *
 * <p>It behaves like the view DJL's {@code subDataset(List)} returns. It owns nothing: its arrays belong to the base
 * dataset and become invalid when that is closed.
 */
final class ResidentSubset extends ArrayDataset {

    private final ResidentView view;

    private ResidentSubset(ResidentView view) {
        super(MnistDataset.djlDefaults());
        this.view = view;
    }

    /**
     * Creates a view from indices into a resident dataset (a base or another view), validating them.
     *
     * @param parent the resident view of the dataset the indices refer to
     * @param localIndices indices into that dataset
     * @return a dataset whose sample {@code i} is the parent's sample {@code localIndices.get(i)}
     * @throws IndexOutOfBoundsException if an index is outside the parent
     */
    static ResidentSubset of(ResidentView parent, List<Long> localIndices) {
        long[] parentMap = parent.map();
        long parentSize = parent.size();
        long[] rows = new long[localIndices.size()];
        for (int i = 0; i < rows.length; i++) {
            Long index = localIndices.get(i);
            if (index == null || index < 0 || index >= parentSize) {
                throw new IndexOutOfBoundsException(
                        "subDataset index " + index + " at position " + i + " is outside [0, " + parentSize + ")");
            }
            rows[i] = parentMap == null ? index : parentMap[(int) (long) index];
        }
        return new ResidentSubset(parent.withMap(rows));
    }

    /** The resident arrays and this view's rows of them. */
    ResidentView residentView() {
        return view;
    }

    /** {@inheritDoc} */
    @Override
    protected long availableSize() {
        return view.map().length;
    }

    /** {@inheritDoc} */
    @Override
    public Record get(NDManager manager, long index) {
        return view.base().get(manager, view.map()[checkIndex(index)]);
    }

    /** {@inheritDoc} */
    @Override
    public Batch getByIndices(NDManager manager, long... indices) {
        long[] map = view.map();
        long[] rows = new long[indices.length];
        for (int i = 0; i < indices.length; i++) {
            rows[i] = map[checkIndex(indices[i])];
        }
        return view.base().getByIndices(manager, rows);
    }

    /** {@inheritDoc} */
    @Override
    public Batch getByRange(NDManager manager, long fromIndex, long toIndex) {
        long[] map = view.map();
        if (fromIndex < 0 || toIndex > map.length || fromIndex >= toIndex) {
            throw new IndexOutOfBoundsException(
                    "range [" + fromIndex + ", " + toIndex + ") is not a non-empty part of [0, " + map.length + ")");
        }
        int from = (int) fromIndex;
        int to = (int) toIndex;
        boolean contiguous = true;
        for (int i = from + 1; i < to && contiguous; i++) {
            contiguous = map[i] == map[i - 1] + 1;
        }
        if (contiguous) {
            return view.base().getByRange(manager, map[from], map[to - 1] + 1);
        }
        long[] rows = new long[to - from];
        System.arraycopy(map, from, rows, 0, rows.length);
        return view.base().getByIndices(manager, rows);
    }

    /** {@inheritDoc} */
    @Override
    protected RandomAccessDataset newSubDataset(int[] indices, int from, int to) {
        return of(view, MnistDataset.rangeList(indices, from, to));
    }

    /** {@inheritDoc} */
    @Override
    protected RandomAccessDataset newSubDataset(List<Long> subIndices) {
        return of(view, subIndices);
    }

    /** {@inheritDoc} */
    @Override
    public void prepare(Progress progress) {
        // the base loaded everything when it was built
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "subset of " + view.map().length + " samples of " + view.base();
    }

    private int checkIndex(long index) {
        long[] map = view.map();
        if (index < 0 || index >= map.length) {
            throw new IndexOutOfBoundsException("index " + index + " is outside [0, " + map.length + ")");
        }
        return (int) index;
    }
}
