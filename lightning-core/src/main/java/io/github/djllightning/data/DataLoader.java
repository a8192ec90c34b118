package io.github.djllightning.data;

import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Objects;
import java.util.Optional;

/**
 * Feeds a dataset to training as batches, epoch after epoch, in a reproducible and resumable order: the counterpart
 * of PyTorch's {@code DataLoader}.
 *
 * <pre>{@code
 * DataLoader loader = DataLoader.of(dataset).batchSize(32).shuffle(true).seed(42).prefetch(2).build();
 * try (BatchIterator batches = loader.iterator(stepManager, epoch)) {
 *     while (batches.hasNext()) {
 *         try (Batch batch = batches.next()) {
 *             ...
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p><b>Order.</b> With {@code shuffle}, the order of epoch {@code e} is a uniformly random permutation that depends
 * only on {@code (seed, e)} ({@link #sampleOrder(int)}), so a resumed run sees the same batches as an uninterrupted
 * one, and {@link #iterator(NDManager, int, long)} can start mid-epoch without loading the skipped batches. Without
 * shuffle the order is sequential. Each batch of a dataset tells which samples it holds: {@link Batch#getIndices()} is
 * their slice of the order (a batch of ready-made batches keeps the indices it came with).
 *
 * <p><b>Memory.</b> Each batch lives in a fresh sub-manager of the manager passed to {@code iterator}, and the caller
 * closes it. Batches of a plain {@link ArrayDataset} or a {@link MnistDataset} (and of their splits from {@link
 * Datasets#randomSplit}) are slice views, or one native gather driven by a per-epoch index array, so nothing is
 * allocated from Java memory per batch and long runs do not pile up direct buffers awaiting garbage collection.
 * {@code ArrayDataset} subclasses and DJL's sub-datasets are batched through their own {@code getByRange} / {@code
 * getByIndices} (the latter wraps a small direct buffer per batch); other datasets sample by sample with {@code
 * get}, stacked.
 *
 * <p><b>Prefetch.</b> With {@code prefetch > 0} a daemon thread keeps that many batches ready; it runs with autograd
 * off, and its failures are rethrown by the consumer's {@code hasNext()} / {@code next()}.
 *
 * <p>A loader is immutable and may hand out any number of independent iterators. DJL dataset {@code Pipeline}s and
 * samplers set on the dataset are not used: the loader owns order and batching.
 */
public final class DataLoader {

    private final RandomAccessDataset dataset;
    private final Iterable<Batch> batches;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean seedSet;
    private final boolean dropLast;
    private final int prefetch;

    private DataLoader(Builder builder) {
        this.dataset = builder.dataset;
        this.batches = builder.batches;
        this.batchSize = builder.batchSize;
        this.shuffle = builder.shuffle;
        this.seed = builder.seed;
        this.seedSet = builder.seedSet;
        this.dropLast = builder.dropLast;
        this.prefetch = builder.prefetch;
    }

    /**
     * Starts configuring a loader over a dataset with random access.
     *
     * @param dataset the samples; an {@link ArrayDataset} (including DJL's sub-datasets of one) is batched by slicing
     *     or gathering, any other dataset sample by sample
     * @return a builder with batch size 1, no shuffle, seed 0, no dropping, no prefetch
     */
    public static Builder of(RandomAccessDataset dataset) {
        return new Builder(Objects.requireNonNull(dataset, "dataset"), null);
    }

    /**
     * Starts configuring a loader over ready-made batches.
     *
     * <p>A {@link Collection} is taken to hold its batches for every epoch: the loader hands out views of them in
     * fresh sub-managers, which the caller closes without affecting the stored batches. Any other iterable is taken
     * to create its batches as it goes (like DJL's {@code Dataset.getData}): they are passed through unchanged and
     * the caller closes them. Shuffling is not available for batches.
     *
     * @param batches the batches of one epoch, iterated again for every epoch
     * @return a builder with no shuffle and no prefetch
     */
    public static Builder of(Iterable<Batch> batches) {
        return new Builder(null, Objects.requireNonNull(batches, "batches"));
    }

    /**
     * Returns a builder holding this loader's settings, for deriving a variant.
     *
     * @return a new builder; building it gives an equal loader
     */
    public Builder newBuilder() {
        return new Builder(this);
    }

    /**
     * Returns the same loader in sequential order, for overfitting a fixed set of batches.
     *
     * @return this loader if it does not shuffle, else a copy that does not
     */
    public DataLoader withoutShuffle() {
        return shuffle ? newBuilder().shuffle(false).build() : this;
    }

    /**
     * Whether the seed was chosen with {@link Builder#seed(long)}; otherwise a Trainer with a seed uses its own, so
     * the order follows the run's seed as in Lightning's {@code seed_everything}.
     *
     * @return whether the seed was set explicitly
     */
    public boolean seedSet() {
        return seedSet;
    }

    /**
     * Returns how many batches one epoch has.
     *
     * @return {@code ceil(size / batchSize)}, or {@code floor} with {@code dropLast}; the size of a collection of
     *     batches; {@code -1} for an iterable of batches whose length is unknown
     */
    public long numBatches() {
        if (dataset != null) {
            long size = dataset.size();
            return dropLast ? size / batchSize : (size + batchSize - 1) / batchSize;
        }
        return batches instanceof Collection ? ((Collection<?>) batches).size() : -1;
    }

    /**
     * Returns how many samples one epoch draws from.
     *
     * @return the dataset's size, or {@code -1} for a loader over batches
     */
    public long datasetSize() {
        return dataset != null ? dataset.size() : -1;
    }

    /**
     * Returns the number of samples per batch (the last batch of an epoch may be smaller unless {@code dropLast}).
     *
     * @return the batch size; for a loader over batches, the value given to the builder (informational)
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * Tells whether each epoch visits the samples in a fresh random order.
     *
     * @return whether the order is shuffled
     */
    public boolean shuffle() {
        return shuffle;
    }

    /**
     * Returns the seed that, with the epoch number, determines the shuffled order.
     *
     * @return the seed
     */
    public long seed() {
        return seed;
    }

    /**
     * Tells whether an incomplete last batch is left out.
     *
     * @return whether the last batch is dropped when smaller than the batch size
     */
    public boolean dropLast() {
        return dropLast;
    }

    /**
     * Returns how many batches a background thread keeps ready.
     *
     * @return the prefetch depth; 0 loads on the caller's thread
     */
    public int prefetch() {
        return prefetch;
    }

    /**
     * Returns the dataset this loader reads.
     *
     * @return the dataset, or empty for a loader over ready-made batches
     */
    public Optional<RandomAccessDataset> dataset() {
        return Optional.ofNullable(dataset);
    }

    /**
     * Returns the order in which epoch {@code epoch} visits the samples, for tests and for recording a resume point.
     *
     * @param epoch the epoch, from 0
     * @return sample indices, a permutation of {@code 0 .. size-1} that depends only on {@code (seed, epoch)} when
     *     shuffling, else ascending
     * @throws IllegalStateException for a loader over ready-made batches
     * @throws IllegalArgumentException if {@code epoch < 0}
     */
    public long[] sampleOrder(int epoch) {
        if (dataset == null) {
            throw new IllegalStateException("a DataLoader over ready-made batches has no sample order");
        }
        checkEpoch(epoch);
        int size = (int) dataset.size();
        return shuffle ? Shuffle.permutation(size, seed, Shuffle.EPOCH_STREAM, epoch) : Shuffle.identity(size);
    }

    /**
     * Starts an epoch.
     *
     * @param parent the manager under which each batch gets its own sub-manager
     * @param epoch the epoch, from 0; selects the shuffled order
     * @return the batches of the epoch; close it when done, also when stopping early
     */
    public BatchIterator iterator(NDManager parent, int epoch) {
        return iterator(parent, epoch, 0);
    }

    /**
     * Starts an epoch part-way, yielding exactly the batches an uninterrupted epoch would yield from {@code
     * startBatch} on; the skipped batches of a dataset are not loaded.
     *
     * @param parent the manager under which each batch gets its own sub-manager
     * @param epoch the epoch, from 0; selects the shuffled order
     * @param startBatch how many batches of the epoch to skip, from 0 to {@link #numBatches()}
     * @return the remaining batches of the epoch; close it when done, also when stopping early
     * @throws IllegalArgumentException if {@code epoch} or {@code startBatch} is out of range
     */
    public BatchIterator iterator(NDManager parent, int epoch, long startBatch) {
        Objects.requireNonNull(parent, "parent");
        checkEpoch(epoch);
        long total = numBatches();
        if (startBatch < 0 || (total >= 0 && startBatch > total)) {
            throw new IllegalArgumentException(
                    "startBatch must be in [0, "
                            + (total >= 0 ? Long.toString(total) : "numBatches")
                            + "], got "
                            + startBatch);
        }
        BatchSource source =
                dataset != null
                        ? new DatasetBatchSource(this, parent, epoch, startBatch)
                        : new IterableBatchSource(batches, parent, epoch, startBatch);
        if (prefetch == 0) {
            return new DirectBatchIterator(source, startBatch);
        }
        return new PrefetchBatchIterator(source, startBatch, prefetch, "dataloader-prefetch-epoch-" + epoch);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "DataLoader["
                + (dataset != null ? dataset : "batches " + batches.getClass().getSimpleName())
                + ", batchSize="
                + batchSize
                + ", shuffle="
                + shuffle
                + ", seed="
                + seed
                + ", dropLast="
                + dropLast
                + ", prefetch="
                + prefetch
                + ", numBatches="
                + numBatches()
                + "]";
    }

    /** Builds the exception the iterators throw for a batch that could not be loaded. */
    static DataLoaderException failure(BatchSource source, long batchIndex, Throwable cause) {
        return new DataLoaderException(
                "DataLoader could not load " + source.describe(batchIndex) + ": " + cause, cause);
    }

    private static void checkEpoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        }
    }

    /** Collects and validates a {@link DataLoader}'s settings; each setter rejects a bad value at once. */
    public static final class Builder {

        private final RandomAccessDataset dataset;
        private final Iterable<Batch> batches;
        private boolean prepared;
        private int batchSize = 1;
        private boolean shuffle;
        private long seed;
        private boolean seedSet;
        private boolean dropLast;
        private int prefetch;

        private Builder(RandomAccessDataset dataset, Iterable<Batch> batches) {
            this.dataset = dataset;
            this.batches = batches;
        }

        private Builder(DataLoader loader) {
            this(loader.dataset, loader.batches);
            this.prepared = true;
            this.batchSize = loader.batchSize;
            this.shuffle = loader.shuffle;
            this.seed = loader.seed;
            this.seedSet = loader.seedSet;
            this.dropLast = loader.dropLast;
            this.prefetch = loader.prefetch;
        }

        /**
         * Sets how many samples make a batch.
         *
         * @param batchSize at least 1; default 1
         * @return this builder
         * @throws IllegalArgumentException if {@code batchSize < 1}
         */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /**
         * Chooses whether every epoch visits the samples in a fresh random order.
         *
         * @param shuffle whether to shuffle; default false; not available for ready-made batches
         * @return this builder
         */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        /**
         * Sets the seed that, with the epoch number, determines the shuffled order.
         *
         * @param seed any value; default: the Trainer's seed when it has one, else 0
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = seed;
            this.seedSet = true;
            return this;
        }

        /**
         * Chooses whether to leave out the last batch of an epoch when it is incomplete.
         *
         * @param dropLast whether to drop it; default false; not available for ready-made batches
         * @return this builder
         */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /**
         * Sets how many batches a background thread keeps ready.
         *
         * @param prefetch 0 (default) to load on the caller's thread, or the queue depth
         * @return this builder
         * @throws IllegalArgumentException if {@code prefetch < 0}
         */
        public Builder prefetch(int prefetch) {
            if (prefetch < 0) {
                throw new IllegalArgumentException("prefetch must be >= 0 (0 = no background thread), got " + prefetch);
            }
            this.prefetch = prefetch;
            return this;
        }

        /**
         * Validates the combination and creates the loader; for a dataset, calls its {@code prepare()} once.
         *
         * @return the loader
         * @throws IllegalArgumentException if shuffle or dropLast is asked for ready-made batches, or the dataset
         *     is too large to index
         * @throws UncheckedIOException if preparing the dataset fails with an I/O error
         * @throws IllegalStateException if preparing the dataset fails otherwise
         */
        public DataLoader build() {
            if (batches != null && shuffle) {
                throw new IllegalArgumentException(
                        "shuffle is not supported for a DataLoader over ready-made batches (their order is fixed);"
                                + " build the loader from a RandomAccessDataset to shuffle");
            }
            if (batches != null && dropLast) {
                throw new IllegalArgumentException(
                        "dropLast is not supported for a DataLoader over ready-made batches (their sizes are fixed);"
                                + " build the loader from a RandomAccessDataset to drop the last batch");
            }
            if (dataset != null && !prepared) {
                prepare(dataset);
                prepared = true;
            }
            if (dataset != null && dataset.size() > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(
                        "DataLoader supports datasets of up to " + (Integer.MAX_VALUE - 8) + " samples, got "
                                + dataset.size());
            }
            return new DataLoader(this);
        }

        private static void prepare(RandomAccessDataset dataset) {
            try {
                dataset.prepare();
            } catch (IOException e) {
                throw new UncheckedIOException("DataLoader could not prepare " + dataset + ": " + e.getMessage(), e);
            } catch (TranslateException e) {
                throw new IllegalStateException("DataLoader could not prepare " + dataset + ": " + e.getMessage(), e);
            }
        }
    }
}
