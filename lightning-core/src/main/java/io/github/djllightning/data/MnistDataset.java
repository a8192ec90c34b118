package io.github.djllightning.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.util.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The MNIST handwritten digits, read from the four uncompressed IDX files, resident in native memory for fast
 * batching.
 *
 * <p>Images are one {@code float32} array of shape {@code (N, 1, 28, 28)} scaled to {@code [0, 1]}; labels are one
 * {@code int64} array of shape {@code (N)}. Both belong to a base {@link NDManager} of the dataset's own, freed by
 * {@link #close()}; every sub-dataset (for example from {@link Datasets#randomSplit}) is a view of them and must not
 * be used after that. Any dataset in the same format (Fashion-MNIST, KMNIST) reads the same way.
 *
 * <pre>{@code
 * try (MnistDataset train = MnistDataset.builder().usage(Usage.TRAIN).build()) {
 *     DataLoader loader = DataLoader.of(train).batchSize(32).shuffle(true).build();
 *     ...
 * }
 * }</pre>
 *
 * <p>The files are found in {@link Builder#root(Path)}, else in {@link #defaultRoot()}; {@code
 * scripts/fetch-mnist.sh} downloads them.
 */
public final class MnistDataset extends ArrayDataset implements AutoCloseable {

    /** Name of the system property that points at the folder holding the IDX files. */
    public static final String DIR_PROPERTY = "mnist.dir";

    /** Name of the environment variable that points at the folder holding the IDX files. */
    public static final String DIR_ENV = "MNIST_DIR";

    private static final int ROWS = 28;
    private static final int COLS = 28;

    private final NDManager manager;
    private final Usage usage;
    private final Path root;

    private MnistDataset(Usage usage, Path root, NDManager manager, NDArray images, NDArray labels) {
        super(djlDefaults());
        this.usage = usage;
        this.root = root;
        this.manager = manager;
        this.data = new NDArray[] {images};
        this.labels = new NDArray[] {labels};
    }

    /**
     * Starts describing which MNIST split to load.
     *
     * @return a builder with usage {@link Usage#TRAIN}, the default root and no limit
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Finds the folder where MNIST is expected when no root is given.
     *
     * <p>In order: the system property {@value #DIR_PROPERTY}, the environment variable {@value #DIR_ENV}, then the
     * first {@code data/mnist} folder found in the working directory or any of its parents (so tests running in a
     * module folder find the repository's copy). If none exists, {@code data/mnist} relative to the working
     * directory, so the error message names the place the fetch script fills.
     *
     * @return the folder to read the IDX files from
     */
    public static Path defaultRoot() {
        String property = System.getProperty(DIR_PROPERTY);
        if (property != null && !property.isBlank()) {
            return Paths.get(property);
        }
        String env = System.getenv(DIR_ENV);
        if (env != null && !env.isBlank()) {
            return Paths.get(env);
        }
        Path relative = Paths.get("data", "mnist");
        for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(relative);
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        return relative;
    }

    /**
     * Returns which split this is.
     *
     * @return {@link Usage#TRAIN} (60,000 images) or {@link Usage#TEST} (10,000 images)
     */
    public Usage usage() {
        return usage;
    }

    /**
     * Returns the folder the files were read from.
     *
     * @return the root folder
     */
    public Path root() {
        return root;
    }

    /**
     * Returns the resident images, for feeding a model without a loader; owned by this dataset, do not close.
     *
     * @return a {@code float32} array of shape {@code (N, 1, 28, 28)} with values in {@code [0, 1]}
     */
    public NDArray images() {
        return data[0];
    }

    /**
     * Returns the resident labels; owned by this dataset, do not close.
     *
     * @return an {@code int64} array of shape {@code (N)} with values {@code 0..9}
     */
    public NDArray labels() {
        return labels[0];
    }

    /** {@inheritDoc} */
    @Override
    public void prepare(Progress progress) {
        // everything was loaded by the builder
    }

    /** {@inheritDoc} */
    @Override
    protected RandomAccessDataset newSubDataset(int[] indices, int from, int to) {
        return ResidentSubset.of(new ResidentView(this, null), rangeList(indices, from, to));
    }

    /** {@inheritDoc} */
    @Override
    protected RandomAccessDataset newSubDataset(List<Long> subIndices) {
        return ResidentSubset.of(new ResidentView(this, null), subIndices);
    }

    /** Frees the resident images and labels; this dataset and every view of it are unusable afterwards. */
    @Override
    public void close() {
        manager.close();
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "MnistDataset[" + usage + ", " + size() + " images from " + root + "]";
    }

    /**
     * DJL's base class insists on a sampler even though {@link DataLoader} never uses it; a sequential one keeps
     * DJL's own {@code getData} usable.
     */
    static DjlDefaults djlDefaults() {
        return new DjlDefaults().setSampling(32, false);
    }

    static List<Long> rangeList(int[] indices, int from, int to) {
        List<Long> list = new ArrayList<>(Math.max(0, to - from));
        for (int i = from; i < to; i++) {
            list.add((long) indices[i]);
        }
        return list;
    }

    private static MnistDataset load(Usage usage, Path root, long limit) throws IOException {
        String prefix = usage == Usage.TRAIN ? "train" : "t10k";
        Path imagesPath = root.resolve(prefix + "-images-idx3-ubyte");
        Path labelsPath = root.resolve(prefix + "-labels-idx1-ubyte");
        IdxFile imagesFile = IdxFile.open(imagesPath, IdxFile.IMAGES_MAGIC, missing(imagesPath));
        IdxFile labelsFile = IdxFile.open(labelsPath, IdxFile.LABELS_MAGIC, missing(labelsPath));
        int[] dims = imagesFile.dims();
        if (dims[1] != ROWS || dims[2] != COLS) {
            throw new IOException(
                    String.format(
                            "MNIST file %s holds %dx%d images, expected %dx%d",
                            imagesPath, dims[1], dims[2], ROWS, COLS));
        }
        if (imagesFile.count() != labelsFile.count()) {
            throw new IOException(
                    String.format(
                            "MNIST files disagree: %s holds %d images but %s holds %d labels",
                            imagesPath, imagesFile.count(), labelsPath, labelsFile.count()));
        }
        int n = (int) Math.min(limit, imagesFile.count());
        NDManager manager = NDManager.newBaseManager();
        manager.setName("mnist-" + prefix);
        try {
            NDArray images;
            try (NDArray raw = imagesFile.readUint8(manager, n, new Shape(n, 1, ROWS, COLS))) {
                images = raw.toType(DataType.FLOAT32, false).divi(255f);
            }
            NDArray labels;
            try (NDArray raw = labelsFile.readUint8(manager, n, new Shape(n))) {
                labels = raw.toType(DataType.INT64, false);
            }
            images.setName("images");
            labels.setName("labels");
            return new MnistDataset(usage, root, manager, images, labels);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static String missing(Path path) {
        return "MNIST file "
                + path
                + " not found. Run scripts/fetch-mnist.sh (or set -D"
                + DIR_PROPERTY
                + " / "
                + DIR_ENV
                + " to a folder with the IDX files)";
    }

    /** Satisfies DJL's dataset base class; carries no options of ours. */
    static final class DjlDefaults extends RandomAccessDataset.BaseBuilder<DjlDefaults> {

        /** {@inheritDoc} */
        @Override
        protected DjlDefaults self() {
            return this;
        }
    }

    /** Describes which MNIST split to load, from where and how much of it. */
    public static final class Builder {

        private Path root;
        private Usage usage = Usage.TRAIN;
        private long limit = Long.MAX_VALUE;

        private Builder() {}

        /**
         * Sets the folder holding the four IDX files.
         *
         * @param root the folder; by default {@link MnistDataset#defaultRoot()}
         * @return this builder
         */
        public Builder root(Path root) {
            this.root = Objects.requireNonNull(root, "root");
            return this;
        }

        /**
         * Chooses the split.
         *
         * @param usage {@link Usage#TRAIN} or {@link Usage#TEST}
         * @return this builder
         * @throws IllegalArgumentException for {@link Usage#VALIDATION}, which MNIST does not have
         */
        public Builder usage(Usage usage) {
            Objects.requireNonNull(usage, "usage");
            if (usage != Usage.TRAIN && usage != Usage.TEST) {
                throw new IllegalArgumentException(
                        "MNIST has only TRAIN and TEST splits, got "
                                + usage
                                + "; split a validation set off TRAIN with Datasets.randomSplit");
            }
            this.usage = usage;
            return this;
        }

        /**
         * Loads only the first {@code limit} samples of the split.
         *
         * @param limit how many samples at most, at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code limit < 1}
         */
        public Builder limit(long limit) {
            if (limit < 1) {
                throw new IllegalArgumentException("MNIST limit must be >= 1, got " + limit);
            }
            this.limit = limit;
            return this;
        }

        /**
         * Reads and validates the files and makes the arrays resident.
         *
         * @return the dataset; close it to free its native memory
         * @throws IOException if a file is missing, unreadable, not an IDX file of the right kind, or of the wrong
         *     length
         */
        public MnistDataset build() throws IOException {
            Path dir = root != null ? root : defaultRoot();
            return load(usage, dir, limit);
        }
    }
}
