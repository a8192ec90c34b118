package io.github.djllightning.tuner;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import io.github.djllightning.trainer.TrainerStatus;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Tunes a module before training: the learning rate with a range test ({@link #lrFind}) and the largest batch size
 * that fits in memory ({@link #scaleBatchSize}). Lightning's {@code Tuner}.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder().maxEpochs(5).build();
 * LrFinderResult lr = new Tuner(trainer).lrFind(model, trainLoader);
 * System.out.println(lr.summary());        // the curve as text, the suggestion marked
 * trainer.fit(model, trainLoader);         // configureOptimizers reads the suggested rate
 * }</pre>
 *
 * <p><b>What a search changes, and what it does not.</b> A search trains: the range test takes up to {@code
 * numTraining} optimizer steps, each batch-size trial {@code stepsPerTrial} steps. It runs on a Trainer of its own,
 * configured from this one (hardware, seed, gradient accumulation and clipping, training batch limits, validation
 * schedule) without loggers, checkpoints, progress bar or model summary, and with only the tuner's callbacks: this
 * Trainer's counters, callbacks, loggers and optimizers are not touched. Afterwards the module is put back as it was
 * before the first step: its weights, the entries its {@code onSaveCheckpoint} adds (through {@code
 * onLoadCheckpoint}), the data module's state, and the state of the optimizers and schedulers {@code
 * configureOptimizers} handed to the search; a hidden folder {@code .lr_find_<uuid>} or {@code
 * .scale_batch_size_<uuid>} in {@code defaultRootDir} holds that snapshot during the search and is deleted after it.
 * What stays is what the search is for: the suggested learning rate (with {@code updateAttr}) and the batch size
 * found, set on the module or data module. The random numbers are not put back; with a seed, the next fit draws the
 * same numbers as without the search, since fits reseed every training batch.
 *
 * <p>The search is a fit of its own: the module's fit hooks ({@code setup}, {@code configureOptimizers}, {@code
 * onFitStart}, ..., {@code teardown}) run for it too, so they must be repeatable, as they must be for any second fit;
 * callbacks the module returns from {@code configureCallbacks} run in it too. A search is skipped under {@code
 * fastDevRun}.
 *
 * <p>Called from a hook of a running fit of the same module (as {@code LearningRateFinder} and {@code
 * BatchSizeFinder} do from {@code onFitStart}), the range test uses that fit's training loader and also sets the
 * suggested rate on the fit's optimizers.
 */
public final class Tuner {

    private final Trainer trainer;

    /**
     * Creates a tuner whose searches follow a Trainer's configuration.
     *
     * @param trainer the Trainer that will train the module
     */
    public Tuner(Trainer trainer) {
        this.trainer = Objects.requireNonNull(trainer, "trainer");
    }

    /**
     * Finds a learning rate with Lightning's defaults, on a training loader.
     *
     * @param module the module; see {@link LearningRateAttribute} for where the rate is set
     * @param trainLoader the training data
     * @return the result
     * @see #lrFind(LightningModule, DataLoader, DataLoader, LrFinderOptions)
     */
    public LrFinderResult lrFind(LightningModule module, DataLoader trainLoader) {
        return lrFind(module, trainLoader, null, LrFinderOptions.defaults());
    }

    /**
     * Finds a learning rate on a training loader.
     *
     * @param module the module
     * @param trainLoader the training data
     * @param options the settings
     * @return the result
     * @see #lrFind(LightningModule, DataLoader, DataLoader, LrFinderOptions)
     */
    public LrFinderResult lrFind(LightningModule module, DataLoader trainLoader, LrFinderOptions options) {
        return lrFind(module, trainLoader, null, options);
    }

    /**
     * Finds a learning rate: Lightning's learning-rate range test. The search trains {@code numTraining} optimizer
     * steps (across epochs when the loader is shorter) with a rate growing from {@code minLr} to {@code maxLr},
     * records the smoothed loss after each, stops early when it exceeds {@code earlyStopThreshold} times the best
     * one (or is no longer finite), undoes the training, and suggests the rate at which the loss falls fastest ({@link
     * LrFinderResult#suggestion()}). With {@code updateAttr} (the default) the suggestion is written to the module:
     * see {@link LearningRateAttribute} for where. Validation runs as this Trainer schedules it, on at most {@code
     * numTraining} batches; it does not change the result.
     *
     * @param module the module; {@code configureOptimizers} must return one optimizer
     * @param trainLoader the training data
     * @param valLoader the validation data, or null
     * @param options the settings
     * @return the learning rates, smoothed losses and suggestion; empty under fastDevRun
     * @throws MisconfigurationException when the rate cannot be set on the module (with {@code updateAttr}) or the
     *     module has several optimizers
     */
    public LrFinderResult lrFind(
            LightningModule module, DataLoader trainLoader, DataLoader valLoader, LrFinderOptions options) {
        checkIdle("lrFind");
        Objects.requireNonNull(trainLoader, "trainLoader");
        return LrSearch.run(trainer, module, null, t -> t.fit(module, trainLoader, valLoader), options);
    }

    /**
     * Finds a learning rate on the data of a data module; its state is restored afterwards like the module's.
     *
     * @param module the module
     * @param datamodule the data module
     * @param options the settings
     * @return the result
     * @see #lrFind(LightningModule, DataLoader, DataLoader, LrFinderOptions)
     */
    public LrFinderResult lrFind(LightningModule module, LightningDataModule datamodule, LrFinderOptions options) {
        checkIdle("lrFind");
        Objects.requireNonNull(datamodule, "datamodule");
        return LrSearch.run(trainer, module, datamodule, t -> t.fit(module, datamodule), options);
    }

    /**
     * Finds a learning rate on the module's own loaders ({@code trainDataloader()}, {@code valDataloader()}); or,
     * called from a hook of this Trainer's running fit of the module, on that fit's training loader, also setting the
     * suggested rate on the fit's optimizers (with {@code updateAttr}).
     *
     * @param module the module
     * @param options the settings
     * @return the result
     * @see #lrFind(LightningModule, DataLoader, DataLoader, LrFinderOptions)
     */
    public LrFinderResult lrFind(LightningModule module, LrFinderOptions options) {
        Consumer<Trainer> fit;
        if (Search.runningFitOf(trainer, module)) {
            trainer.fitLoop().resolveTrainingBatches();
            DataLoader train = trainer.fitLoop().trainLoader();
            fit = t -> t.fit(module, train);
        } else {
            checkIdle("lrFind");
            fit = t -> t.fit(module);
        }
        return LrSearch.run(trainer, module, null, fit, options);
    }

    /**
     * Finds the largest batch size that fits, on the loader of the module's {@code trainDataloader()}.
     *
     * @param module the module; it or its hyperparameters hold the batch size (see {@link BatchSizeAttribute})
     * @param options the settings
     * @return the batch size found (also set on the module) and the trials
     * @see #scaleBatchSize(LightningModule, LightningDataModule, BatchSizeOptions)
     */
    public BatchSizeResult scaleBatchSize(LightningModule module, BatchSizeOptions options) {
        return scaleBatchSize(module, null, options);
    }

    /**
     * Finds the largest batch size that fits in memory: Lightning's batch-size scaling. Each trial sets a batch size,
     * asks the training loader hook for a new loader and trains {@code stepsPerTrial} optimizer steps with it; a trial
     * that runs out of memory (see {@link BatchSizeOptions} for what counts, and for the memory budget the CPU needs)
     * fails. Power mode doubles from {@code initVal} until a trial fails and returns the last size that worked;
     * binsearch mode then bisects between that size and the one that failed, and takes {@code margin} off the result.
     * The search also ends at {@code maxTrials} successful trials, at {@code maxVal}, or once the batch size covers
     * the whole dataset. The training is undone afterwards; the batch size found stays set.
     *
     * <p>Called from a hook of this Trainer's running fit of the module (as {@code BatchSizeFinder} does from {@code
     * onFitStart}), the data module's setup has run already; otherwise this method runs the data module's {@code
     * prepareData} and {@code setup(FIT)} before the search and its {@code teardown(FIT)} after it, as a fit would.
     *
     * @param module the module
     * @param datamodule the data module whose {@code trainDataloader()} gives the loader, or null for the module's
     * @param options the settings
     * @return the batch size found (also set where the batch size is kept) and the trials
     * @throws MisconfigurationException when the batch size is not found on the module or data module, the loader
     *     does not come from a loader hook, or batch size 1 already runs out of memory
     */
    public BatchSizeResult scaleBatchSize(
            LightningModule module, LightningDataModule datamodule, BatchSizeOptions options) {
        if (Search.runningFitOf(trainer, module)) {
            BatchSizeResult result = BatchSizeSearch.run(trainer, module, datamodule, options);
            trainer.fitLoop().resolveTrainingBatches();
            DataLoader used = trainer.fitLoop().trainLoader();
            if (used != null && used.batchSize() != result.batchSize()) {
                throw new MisconfigurationException("The batch-size finder set batch size " + result.batchSize()
                        + ", but the running fit trains with a loader of batch size " + used.batchSize() + ": the"
                        + " loader was passed to fit directly, or built before the search (for example by"
                        + " estimatedSteppingBatches() in configureOptimizers). Let trainDataloader() of the module or"
                        + " data module build it with the batch size the finder sets.");
            }
            return result;
        }
        checkIdle("scaleBatchSize");
        if (datamodule == null) {
            return BatchSizeSearch.run(trainer, module, null, options);
        }
        datamodule.prepareData();
        datamodule.setup(TrainerFn.FIT);
        BatchSizeResult result = BatchSizeSearch.run(trainer, module, datamodule, options);
        datamodule.teardown(TrainerFn.FIT);
        return result;
    }

    private void checkIdle(String what) {
        if (trainer.status() == TrainerStatus.RUNNING) {
            throw new IllegalStateException("Tuner." + what + " runs before or between runs of the Trainer, or from a"
                    + " hook of its running fit of the same module (with the module's own data); the Trainer is"
                    + " running " + trainer.fn() + " of " + trainer.lightningModule().getClass().getSimpleName()
                    + ".");
        }
    }

    /** The Trainer whose configuration the searches follow. */
    public Trainer trainer() {
        return trainer;
    }
}
