package io.github.djllightning.examples.guide;

import io.github.djllightning.callbacks.BatchSizeFinder;
import io.github.djllightning.callbacks.LearningRateFinder;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.tuner.BatchSizeOptions;
import io.github.djllightning.tuner.BatchSizeResult;
import io.github.djllightning.tuner.LrFinderOptions;
import io.github.djllightning.tuner.LrFinderResult;
import io.github.djllightning.tuner.Tuner;

/** The samples of the tuning page: the learning-rate finder and the batch-size finder, by hand and as callbacks. */
public final class TuningGuide {

    private TuningGuide() {}

    /**
     * Finds a learning rate, prints the curve, then trains 5 epochs with the rate found.
     *
     * @param model the module; the finder sets its learning rate
     * @param trainLoader the training data
     * @return the finder's result
     */
    public static LrFinderResult findLearningRateThenFit(TunableClassifier model, DataLoader trainLoader) {
        // snippet:lr-find
        Trainer trainer = Trainer.builder().maxEpochs(5).build();
        LrFinderResult result = new Tuner(trainer).lrFind(model, trainLoader);
        System.out.println(result.summary());
        trainer.fit(model, trainLoader);   // trains with result.suggestion()
        // end-snippet:lr-find
        return result;
    }

    /**
     * Finds a learning rate with every setting spelled out.
     *
     * @param trainer the Trainer whose configuration the search follows
     * @param model the module
     * @param trainLoader the training data
     * @return the finder's result
     */
    public static LrFinderResult findLearningRateWithOptions(
            Trainer trainer, TunableClassifier model, DataLoader trainLoader) {
        // snippet:lr-options
        LrFinderOptions options = LrFinderOptions.builder()
                .minLr(1e-6).maxLr(1).numTraining(200).mode("exponential")
                .earlyStopThreshold(4.0)        // null: never stop early
                .updateAttr(true).attrName("")  // "": HasLearningRate, else the hparam "lr", else "learning_rate"
                .build();
        LrFinderResult result = new Tuner(trainer).lrFind(model, trainLoader, options);
        // end-snippet:lr-options
        return result;
    }

    /**
     * Finds the largest batch size within a 4 GiB memory budget, then trains with it.
     *
     * @param trainer the Trainer
     * @param model the module
     * @param datamodule the data module whose batch size is searched
     * @return the search's result
     */
    public static BatchSizeResult findBatchSizeThenFit(
            Trainer trainer, TunableClassifier model, TunableDataModule datamodule) {
        // snippet:batch-size
        BatchSizeResult found = new Tuner(trainer).scaleBatchSize(model, datamodule,
                BatchSizeOptions.builder().mode("binsearch").memoryBudgetBytes(4L << 30).build());
        trainer.fit(model, datamodule);   // datamodule.batchSize() == found.batchSize()
        // end-snippet:batch-size
        return found;
    }

    /**
     * Trains 5 epochs after both searches ran as callbacks at the start of the fit.
     *
     * @param model the module
     * @param datamodule the data module
     * @return the Trainer after the fit; its callbacks hold the finders and their results
     */
    public static Trainer fitWithFinders(TunableClassifier model, TunableDataModule datamodule) {
        // snippet:callbacks
        Trainer trainer = Trainer.builder()
                .maxEpochs(5)
                .callbacks(BatchSizeFinder.builder().memoryBudgetBytes(4L << 30).build(),
                        LearningRateFinder.builder().numTraining(100).build())
                .build();
        trainer.fit(model, datamodule);
        // end-snippet:callbacks
        return trainer;
    }
}
