package io.github.djllightning.module;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.trainer.TrainerFn;
import java.util.List;
import java.util.Map;

/**
 * The data of an experiment in one reusable class: how to download it, split it and load it. Lightning's {@code
 * LightningDataModule}. Give it to {@code Trainer.fit/validate/test/predict} instead of loaders.
 */
public abstract class LightningDataModule {

    /** Downloads or writes data once, before {@link #setup}; do not set state here. */
    public void prepareData() {}

    /** Builds the datasets the stage needs; called before the loaders are requested. */
    public void setup(TrainerFn stage) {}

    /** Releases what {@link #setup} created; called at the end of every stage. */
    public void teardown(TrainerFn stage) {}

    /**
     * The training loader.
     *
     * @return the loader, or null when this data module has none
     */
    public DataLoader trainDataloader() {
        return null;
    }

    /**
     * The validation loader.
     *
     * @return the loader, or null
     */
    public DataLoader valDataloader() {
        return null;
    }

    /**
     * The validation loaders; by default {@link #valDataloader()} alone.
     *
     * @return the loaders, empty when none
     */
    public List<DataLoader> valDataloaders() {
        return LightningModule.singletonOrEmpty(valDataloader());
    }

    /**
     * The test loader.
     *
     * @return the loader, or null
     */
    public DataLoader testDataloader() {
        return null;
    }

    /**
     * The test loaders; by default {@link #testDataloader()} alone.
     *
     * @return the loaders, empty when none
     */
    public List<DataLoader> testDataloaders() {
        return LightningModule.singletonOrEmpty(testDataloader());
    }

    /**
     * The prediction loader.
     *
     * @return the loader, or null
     */
    public DataLoader predictDataloader() {
        return null;
    }

    /**
     * The prediction loaders; by default {@link #predictDataloader()} alone.
     *
     * @return the loaders, empty when none
     */
    public List<DataLoader> predictDataloaders() {
        return LightningModule.singletonOrEmpty(predictDataloader());
    }

    /**
     * State to keep in checkpoints, plain values only.
     *
     * @return the state, empty by default
     */
    public Map<String, Object> stateDict() {
        return Map.of();
    }

    /** Restores the state of {@link #stateDict()}. */
    public void loadStateDict(Map<String, Object> state) {}
}
