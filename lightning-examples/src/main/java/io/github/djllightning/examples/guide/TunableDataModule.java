package io.github.djllightning.examples.guide;

import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.tuner.HasBatchSize;

/**
 * The tuning page's data module: its training loader is built with the batch size that the batch-size finder sets
 * through {@link HasBatchSize}.
 */
// snippet:class
public class TunableDataModule extends LightningDataModule implements HasBatchSize {
    private final RandomAccessDataset train;
    private int batchSize = 32;

    /**
     * Creates the data module.
     *
     * @param train the training data
     */
    public TunableDataModule(RandomAccessDataset train) {
        this.train = train;
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    @Override
    public void setBatchSize(int value) {
        batchSize = value;
    }

    @Override
    public DataLoader trainDataloader() {
        return DataLoader.of(train).batchSize(batchSize).shuffle(true).build();   // a new loader for each trial
    }
}
// end-snippet:class
