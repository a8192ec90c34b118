package io.github.djllightning.examples.cli;

import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.Datasets;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.trainer.TrainerFn;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * MNIST as a data module: the training images split (seeded) into training and validation parts, and the test
 * images. Reads the files from {@code MNIST_DIR} (see {@link MnistDataset}).
 */
public class MnistDataModule extends LightningDataModule {

    /**
     * The hyperparameters, each a {@code --data.*} option of the command line.
     *
     * @param batchSize images per training batch
     * @param limit the first this many training and test images are used; 0 for all
     * @param valSize training images held out for validation
     * @param splitSeed the seed of the training/validation split
     */
    public record HParams(int batchSize, int limit, int valSize, long splitSeed) {

        /** Batches of 64, all images, 5,000 held out for validation, split seed 42. */
        public static HParams defaults() {
            return new HParams(64, 0, 5_000, 42);
        }
    }

    private final HParams hp;
    private MnistDataset train;
    private MnistDataset test;
    private RandomAccessDataset[] split;

    /**
     * Creates the data module.
     *
     * @param hp the hyperparameters
     */
    public MnistDataModule(HParams hp) {
        if (hp.batchSize() < 1 || hp.limit() < 0 || hp.valSize() < 0) {
            throw new IllegalArgumentException("batch_size must be at least 1, limit and val_size at least 0; got "
                    + hp);
        }
        this.hp = hp;
    }

    /** The hyperparameters. */
    public HParams hp() {
        return hp;
    }

    @Override
    public void setup(TrainerFn stage) {
        try {
            if (stage == TrainerFn.FIT || stage == TrainerFn.VALIDATE) {
                train = read(Usage.TRAIN);
                long trainSize = train.size() - hp.valSize();
                if (trainSize < 1) {
                    throw new IllegalArgumentException("val_size " + hp.valSize() + " leaves no training images of"
                            + " the " + train.size() + " read; lower val_size or raise limit");
                }
                split = Datasets.randomSplit(train, new long[] {trainSize, hp.valSize()}, hp.splitSeed());
            } else {
                test = read(Usage.TEST);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read MNIST: " + e.getMessage(), e);
        }
    }

    private MnistDataset read(Usage usage) throws IOException {
        MnistDataset.Builder builder = MnistDataset.builder().usage(usage);
        if (hp.limit() > 0) {
            builder.limit(hp.limit());
        }
        return builder.build();
    }

    @Override
    public void teardown(TrainerFn stage) {
        if (train != null) {
            train.close();
            train = null;
        }
        if (test != null) {
            test.close();
            test = null;
        }
    }

    @Override
    public DataLoader trainDataloader() {
        return DataLoader.of(split[0]).batchSize(hp.batchSize()).shuffle(true).build();
    }

    @Override
    public DataLoader valDataloader() {
        return hp.valSize() == 0 ? null : DataLoader.of(split[1]).batchSize(500).build();
    }

    @Override
    public DataLoader testDataloader() {
        return DataLoader.of(test).batchSize(500).build();
    }

    @Override
    public DataLoader predictDataloader() {
        return DataLoader.of(test).batchSize(500).build();
    }
}
