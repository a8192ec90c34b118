package io.github.djllightning.data;

import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.RandomAccessDataset;

/**
 * A dataset whose samples are rows of resident arrays, seen as (base, rows): {@link DataLoader} then cuts each epoch's
 * full arrays out of the base as views once, and gathers every batch on the native side with a slice of a per-epoch
 * index array. Nothing is allocated from Java memory per batch, unlike {@link ArrayDataset#getByIndices}, which wraps
 * a new direct buffer around each batch's indices (memory that only the garbage collector returns).
 *
 * <p>Bases are datasets whose {@code getByRange} is known to return slice views of resident arrays: {@link
 * MnistDataset} and plain {@link ArrayDataset}s (the class itself, not subclasses, which may override it). Views of
 * a base ({@link ResidentSubset}, from {@code MnistDataset.subDataset} or {@link Datasets#randomSplit}) add a row map.
 */
final class ResidentView {

    private final ArrayDataset base;
    private final long[] map;

    /**
     * Describes some rows of a base.
     *
     * @param base the dataset holding the arrays; its sample {@code i} is row {@code i}
     * @param map the row of each sample of the described dataset, or {@code null} when sample {@code i} is row
     *     {@code i}
     */
    ResidentView(ArrayDataset base, long[] map) {
        this.base = base;
        this.map = map;
    }

    /**
     * Returns the resident view of a dataset, if it has one.
     *
     * @param dataset any dataset
     * @return the view, or {@code null} for datasets whose batching we must leave to their own methods
     */
    static ResidentView of(RandomAccessDataset dataset) {
        if (dataset instanceof ResidentSubset) {
            return ((ResidentSubset) dataset).residentView();
        }
        if (isBase(dataset)) {
            return new ResidentView((ArrayDataset) dataset, null);
        }
        return null;
    }

    /** Whether {@code getByRange} of this dataset is known to give views of resident arrays. */
    static boolean isBase(RandomAccessDataset dataset) {
        return dataset instanceof MnistDataset || dataset.getClass() == ArrayDataset.class;
    }

    /** The dataset holding the arrays. */
    ArrayDataset base() {
        return base;
    }

    /** Row of each sample, or {@code null} for the identity. */
    long[] map() {
        return map;
    }

    /** Number of samples of the described dataset. */
    long size() {
        return map != null ? map.length : base.size();
    }

    /** Returns the rows of the given samples, in their order. */
    long[] rows(long[] samples) {
        if (map == null) {
            return samples;
        }
        long[] rows = new long[samples.length];
        for (int i = 0; i < samples.length; i++) {
            rows[i] = map[(int) samples[i]];
        }
        return rows;
    }

    /** Returns the same base restricted to the given rows. */
    ResidentView withMap(long[] rows) {
        return new ResidentView(base, rows);
    }
}
