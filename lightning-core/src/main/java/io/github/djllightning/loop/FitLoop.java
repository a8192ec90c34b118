package io.github.djllightning.loop;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.log.Logger;
import io.github.djllightning.log.MetricsConnector;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.SchedulerConfig;
import io.github.djllightning.trainer.BatchLimit;
import io.github.djllightning.trainer.Hook;
import io.github.djllightning.trainer.LightningOptimizer;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.RunningStage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The epochs of {@code fit}: decides when training stops, runs each epoch and its epoch-level hooks, logs the epoch
 * metrics. Lightning's {@code _FitLoop}.
 */
public final class FitLoop {

    /** A validation interval or batch count that never comes. */
    static final long INFINITE = Long.MAX_VALUE;

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(FitLoop.class);
    private static final String RUN_TRAINING_EPOCH = "run_training_epoch";

    private final Progress epochProgress = new Progress();
    private final TrainingEpochLoop epochLoop = new TrainingEpochLoop();
    private RunContext ctx;
    private DataLoader trainLoader;
    private long numTrainingBatches = -1;
    private long valCheckBatch = INFINITE;
    private boolean validationEnabled;
    private boolean trainDataResolved;
    private long resumeBatch = -1;
    /** When the last epoch ended on maxSteps with batches left: how many of its batches ran; else -1. */
    private long stoppedMidEpochAt = -1;
    private long restoredEpoch;
    private boolean restored;
    private List<?> restoredResults;
    private Map<String, Object> restoredPosition = Map.of();

    /** Creates a fit loop with zeroed progress. */
    public FitLoop() {}

    /** Progress over epochs: {@code current.completed} is Lightning's {@code current_epoch}. */
    public Progress epochProgress() {
        return epochProgress;
    }

    /** The loop of one epoch. */
    public TrainingEpochLoop epochLoop() {
        return epochLoop;
    }

    /** The training batches per epoch after limits, or -1 when the loader's length is unknown. */
    public long numTrainingBatches() {
        return numTrainingBatches;
    }

    /** Validation runs every this many training batches ({@link Long#MAX_VALUE}: only at the last batch). */
    public long valCheckBatch() {
        return valCheckBatch;
    }

    /** Whether validation can run in this fit: a loader, a validation step and a non-zero limit. */
    public boolean validationEnabled() {
        return validationEnabled;
    }

    /** The training loader of the current fit, or null. */
    public DataLoader trainLoader() {
        return trainLoader;
    }

    /**
     * The state of the fit loop for checkpoints. The epoch counters are stored as they are (Lightning's layout); the
     * epoch loop's counters are settled to the last finished batch (a batch whose optimizer step ran counts as done,
     * work that only began is rolled back), and {@code data_position} says where a resumed fit continues: in the same
     * epoch at the next batch ({@code mid_epoch}), or at the start of the next epoch when the epoch's batches all ran.
     *
     * @return the state as plain values
     */
    public Map<String, Object> stateDict() {
        ProgressCounter epochs = epochProgress.current();
        ProgressCounter batches = epochLoop.batchProgress().current();
        boolean inEpoch = epochs.started() > epochs.completed();
        long epoch = inEpoch ? epochs.started() - 1 : epochs.completed();
        long cursor = inEpoch ? batches.processed() : 0;
        boolean midEpoch = inEpoch && batchesLeft(cursor)
                && (epochs.processed() == epochs.completed() || epochLoop.maxStepsReached());
        if (!inEpoch && stoppedMidEpochAt >= 0) {
            // the epoch was closed because maxSteps was reached before its last batch: it goes on from there
            midEpoch = true;
            epoch = epochs.completed() - 1;
            cursor = stoppedMidEpochAt;
        }
        long settled = midEpoch ? stepBoundary(cursor) : cursor;
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("epoch_progress", epochProgress.stateDict());
        state.put("epoch_loop", epochLoop.settledStateDict(midEpoch, settled, cursor - settled));
        Map<String, Object> position = new LinkedHashMap<>();
        position.put("epoch", midEpoch || !inEpoch ? epoch : epoch + 1);
        position.put("batch", midEpoch ? settled : 0);
        position.put("mid_epoch", midEpoch);
        if (trainLoader != null) {
            position.put("shuffle", trainLoader.shuffle());
            position.put("seed", trainLoader.seed());
            position.put("num_batches", trainLoader.numBatches());
            position.put("dataset_size", trainLoader.datasetSize());
        }
        state.put("data_position", position);
        // the epoch's metric accumulators, so its epoch values match an uninterrupted run's; only when they hold
        // exactly the batches before the resume point (not a batch in flight or gradients rolled back)
        if (midEpoch && ctx != null && inEpoch && settled == cursor && batches.started() == batches.processed()) {
            state.put("results", ctx.metrics.trainingStateDict());
        }
        return state;
    }

    /**
     * The batches of the epoch whose gradients reached an optimizer step: with gradient accumulation, the batches
     * after the last step only hold gradients, which a checkpoint does not keep, so a resumed run redoes them.
     */
    private long stepBoundary(long cursor) {
        int accumulate = ctx == null ? 1 : ctx.trainer.accumulateGradBatches();
        if (accumulate <= 1 || ctx.module == null || !ctx.module.isAutomaticOptimization()) {
            return cursor;
        }
        return cursor - cursor % accumulate;
    }

    private boolean batchesLeft(long cursor) {
        if (numTrainingBatches >= 0) {
            return cursor < numTrainingBatches;
        }
        BatchProgress batches = epochLoop.batchProgress();
        return cursor < batches.current().ready() || !batches.isLastBatch();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> counters(Map<String, Object> progress, String part) {
        return (Map<String, Object>) progress.get(part);
    }

    /** Sets all four counters of one part of a progress state dict. */
    static void settle(Map<String, Object> progress, String part, long value) {
        Map<String, Object> counters = counters(progress, part);
        for (String key : new String[] {"ready", "started", "processed", "completed"}) {
            if (counters.containsKey(key)) {
                counters.put(key, value);
            }
        }
    }

    /**
     * Restores the state of {@link #stateDict()} for a resumed fit: the counters, and where the data continues.
     *
     * @param state the saved state
     * @throws IllegalArgumentException naming the entry that is missing or malformed
     */
    public void loadStateDict(Map<String, Object> state) {
        Map<String, Object> epochState = section(state, "epoch_progress");
        Map<String, Object> position = section(state, "data_position");
        Object epoch = position.get("epoch");
        Object batch = position.get("batch");
        if (!(epoch instanceof Number) || !(batch instanceof Number) || ((Number) epoch).longValue() < 0
                || ((Number) batch).longValue() < 0) {
            throw new IllegalArgumentException("'data_position' needs non-negative 'epoch' and 'batch', found "
                    + position);
        }
        epochLoop.loadStateDict(section(state, "epoch_loop"));
        epochProgress.loadStateDict(epochState);
        boolean midEpoch = Boolean.TRUE.equals(position.get("mid_epoch"));
        restoredEpoch = ((Number) epoch).longValue();
        resumeBatch = midEpoch ? ((Number) batch).longValue() : -1;
        Object results = state.get("results");
        if (results != null && !(results instanceof List)) {
            throw new IllegalArgumentException("'results' must be a list, found " + results);
        }
        if (results != null) {
            MetricsConnector.checkTrainingStateDict((List<?>) results);
        }
        restoredResults = midEpoch ? (List<?>) results : null;
        restoredPosition = position;
        restored = true;
    }

    /** Says when the training data is not the data the checkpoint was written with (the resume is then not exact). */
    private void warnIfDataDiffers() {
        Map<String, Object> now = new LinkedHashMap<>();
        now.put("shuffle", trainLoader.shuffle());
        now.put("seed", trainLoader.seed());
        now.put("num_batches", trainLoader.numBatches());
        now.put("dataset_size", trainLoader.datasetSize());
        for (Map.Entry<String, Object> entry : now.entrySet()) {
            Object saved = restoredPosition.get(entry.getKey());
            if (saved != null && !String.valueOf(saved).equals(String.valueOf(entry.getValue()))) {
                LOG.warn("The training data differs from the checkpoint's ({} was {}, is {}): the resumed run will"
                        + " not see the batches the interrupted run would have seen. Pass the same DataLoader"
                        + " settings to resume exactly.", entry.getKey(), saved, entry.getValue());
            }
        }
    }

    /** The epochs a restored fit counts as done when it starts training (before that, the saved counters show). */
    public long restoredEpochs() {
        return restoredEpoch;
    }

    /**
     * Puts the epoch counters where the restored fit continues, as Lightning's restart does after the sanity check:
     * inside the saved epoch (started but not processed), or at the start of the next one.
     */
    private void settleRestoredEpochs() {
        if (!restored) {
            return;
        }
        restored = false;
        warnIfDataDiffers();
        long done = restoredEpoch;
        long totalOffset = epochProgress.total().completed() - epochProgress.current().completed();
        epochProgress.current().setAll(done);
        epochProgress.total().setAll(totalOffset + done);
        if (resumeBatch >= 0) {
            epochProgress.current().setReadyAndStarted(done + 1);
            epochProgress.total().setReadyAndStarted(totalOffset + done + 1);
        }
        if (restoredResults != null) {
            ctx.metrics.loadTrainingStateDict(restoredResults);
            restoredResults = null;
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> section(Map<String, Object> state, String key) {
        Object value = state.get(key);
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException("'" + key + "' is missing or not an object");
        }
        return (Map<String, Object>) value;
    }

    /** The batch of its epoch a restored fit continues at, or -1 when it starts at an epoch's beginning. */
    public long resumeBatch() {
        return resumeBatch;
    }

    /** Whether this fit resumes inside an epoch (no sanity check, no epoch-start hooks for that epoch). */
    public boolean resumesMidEpoch() {
        return resumeBatch >= 0;
    }

    /**
     * Prepares a fit: data, validation schedule and the optimizer step hooks. Runs after the setup hooks.
     *
     * @param context the run
     */
    public void attach(RunContext context) {
        this.ctx = context;
        epochLoop.attach(context, this);
        // each fit requests its data anew
        trainDataResolved = false;
        trainLoader = null;
        numTrainingBatches = -1;
        valCheckBatch = INFINITE;
        boolean hasValidationStep = Overrides.overrides(context.module, LightningModule.class, "validationStep",
                        ai.djl.training.dataset.Batch.class, int.class)
                || Overrides.overrides(context.module, LightningModule.class, "validationStep",
                        ai.djl.training.dataset.Batch.class, int.class, int.class);
        boolean hasValidationData = context.val.isDefined();
        if (hasValidationData && !hasValidationStep) {
            LOG.warn("There is validation data but {} has no validationStep: validation is skipped.",
                    context.module.getClass().getSimpleName());
        }
        validationEnabled = hasValidationData && hasValidationStep && !context.config.effectiveLimitVal().isZero();
    }

    /**
     * The hooks the optimizers fire around each step: {@code onBeforeOptimizerStep} and clipping, and the manual
     * step count.
     */
    public LightningOptimizer.StepHooks stepHooks() {
        return new LightningOptimizer.StepHooks() {
            @Override
            public void afterClosure(Optimizer optimizer) {
                LightningModule module = ctx.module;
                if (!module.isAutomaticOptimization()) {
                    epochLoop.manualOptimization().stepStarted();
                }
                if (ctx.hooks.anyCallback(Hook.ON_BEFORE_OPTIMIZER_STEP)) {
                    ctx.hooks.callbacks(Hook.ON_BEFORE_OPTIMIZER_STEP,
                            c -> c.onBeforeOptimizerStep(ctx.trainer, module, optimizer));
                }
                if (ctx.hooks.moduleCalls(Hook.ON_BEFORE_OPTIMIZER_STEP)) {
                    ctx.hooks.module(Hook.ON_BEFORE_OPTIMIZER_STEP, () -> module.onBeforeOptimizerStep(optimizer));
                }
                if (module.isAutomaticOptimization()) {
                    ctx.hooks.module(
                            Hook.CONFIGURE_GRADIENT_CLIPPING,
                            () -> module.configureGradientClipping(
                                    optimizer,
                                    ctx.config.optimization().gradientClipVal(),
                                    ctx.config.optimization().gradientClipAlgorithm()));
                }
            }

            @Override
            public boolean hasFreshGradients() {
                return ctx.hasFreshGradients();
            }

            @Override
            public void afterZeroGrad(Optimizer optimizer) {
                ctx.gradientsZeroed();
            }

            @Override
            public void afterStep(Optimizer optimizer) {
                if (!ctx.module.isAutomaticOptimization()) {
                    epochLoop.manualOptimization().stepCompleted();
                }
            }
        };
    }

    /**
     * Runs the epochs until a stop condition holds.
     *
     * @param context the run
     */
    public void run(RunContext context) {
        this.ctx = context;
        epochLoop.attach(context, this);
        setupData();
        if (skip()) {
            restored = false;
            resumeBatch = -1;
            restoredResults = null;
            return;
        }
        settleRestoredEpochs();
        onRunStart();
        while (!done()) {
            onAdvanceStart();
            advance();
            onAdvanceEnd();
            ctx.trainer.checkInterrupt();
        }
        onRunEnd();
    }

    /**
     * Requests the training loader (once per fit) and works out the number of training batches per epoch; also used
     * by {@code Trainer.estimatedSteppingBatches()} from {@code configureOptimizers}.
     *
     * @return the training batches per epoch after limits, -1 when unknown
     */
    public long resolveTrainingBatches() {
        if (trainDataResolved) {
            return numTrainingBatches;
        }
        trainDataResolved = true;
        BatchLimit limit = ctx.config.effectiveLimitTrain();
        if (limit.isZero()) {
            numTrainingBatches = 0;
            return 0;
        }
        List<DataLoader> loaders = ctx.train.loaders(ctx.hooks);
        if (loaders.isEmpty()) {
            throw new MisconfigurationException(
                    "No training data: pass a DataLoader to fit(module, trainLoader), give a LightningDataModule"
                            + " with trainDataloader(), or override trainDataloader() in "
                            + ctx.module.getClass().getSimpleName() + ".");
        }
        if (loaders.size() > 1) {
            throw new MisconfigurationException(
                    "fit takes one training loader, got " + loaders.size() + " from " + ctx.train.describe()
                            + ". Combine the datasets into one (or one DataLoader over an Iterable of batches).");
        }
        DataLoader loader = loaders.get(0);
        Long seed = ctx.trainer.runSeed();
        if (seed != null && loader.shuffle() && !loader.seedSet()) {
            loader = loader.newBuilder().seed(seed).build();
        }
        if (!ctx.config.batches().overfitBatches().isZero() && loader.shuffle()) {
            LOG.warn("overfitBatches is set: the training loader is used without shuffling.");
            loader = loader.withoutShuffle();
        }
        trainLoader = loader;
        numTrainingBatches = limit.resolve(loader.numBatches(), "limitTrainBatches");
        return numTrainingBatches;
    }

    private void setupData() {
        resolveTrainingBatches();
        if (numTrainingBatches == 0) {
            return;
        }
        BatchLimit interval = ctx.config.effectiveValCheckInterval();
        if (!interval.isFraction()) {
            valCheckBatch = interval.count();
            if (numTrainingBatches >= 0 && valCheckBatch > numTrainingBatches
                    && ctx.config.effectiveCheckValEveryNEpoch() != null) {
                throw new MisconfigurationException(
                        "valCheckInterval (" + valCheckBatch + ") must be less than or equal to the number of"
                                + " training batches (" + numTrainingBatches + "). Set limitValBatches(0) to switch"
                                + " validation off, or checkValEveryNEpoch(null) to validate every "
                                + valCheckBatch + " batches across epochs.");
            }
        } else if (numTrainingBatches < 0) {
            if (interval.share() != 1.0) {
                throw new MisconfigurationException(
                        "valCheckInterval=" + interval.share() + " needs a training loader with a known number of"
                                + " batches; use 1.0 or a whole number of batches.");
            }
            valCheckBatch = INFINITE;
        } else {
            valCheckBatch = Math.max(1, (long) (numTrainingBatches * interval.share()));
        }
        int logEvery = ctx.config.output().logEveryNSteps();
        if (!ctx.trainer.loggers().isEmpty() && numTrainingBatches >= 0 && numTrainingBatches < logEvery
                && ctx.config.fastDevRun() == 0) {
            LOG.warn(
                    "The number of training batches ({}) is smaller than the logging interval logEveryNSteps={}."
                            + " Set a lower value to see step metrics in the logs.",
                    numTrainingBatches,
                    logEvery);
        }
    }

    private boolean skip() {
        return done() || ctx.config.effectiveLimitTrain().isZero();
    }

    /** Lightning's {@code _FitLoop.done}: no batches, max steps, max epochs, or a stop request that may be honoured. */
    boolean done() {
        if (numTrainingBatches == 0) {
            LOG.info("fit stopped: no training batches.");
            return true;
        }
        long maxSteps = ctx.config.resolvedMaxSteps();
        if (maxSteps != -1 && epochLoop.globalStep() >= maxSteps) {
            LOG.info("fit stopped: maxSteps={} reached.", maxSteps);
            return true;
        }
        int maxEpochs = ctx.config.resolvedMaxEpochs();
        if (maxEpochs != -1 && epochProgress.current().processed() >= maxEpochs) {
            epochProgress.current().setCompleted(epochProgress.current().processed());
            LOG.info("fit stopped: maxEpochs={} reached.", maxEpochs);
            return true;
        }
        if (ctx.trainer.shouldStop() && canStopEarly()) {
            LOG.debug("fit stopped: a stop was requested.");
            return true;
        }
        return false;
    }

    /** Whether minEpochs and minSteps are met, so a stop request may be honoured. */
    public boolean canStopEarly() {
        int minEpochs = ctx.config.resolvedMinEpochs();
        long minSteps = ctx.config.resolvedMinSteps();
        boolean epochsMet = minEpochs == 0 || epochProgress.current().processed() >= minEpochs;
        boolean stepsMet = minSteps == 0 || epochLoop.globalStep() >= minSteps;
        return epochsMet && stepsMet;
    }

    private void onRunStart() {
        epochProgress.current().setCompleted(epochProgress.current().processed());
        LightningModule module = ctx.module;
        ctx.hooks.both(Hook.ON_TRAIN_START, c -> c.onTrainStart(ctx.trainer, module), module::onTrainStart);
    }

    private void onAdvanceStart() {
        LightningModule module = ctx.module;
        ctx.metrics.activateTraining();
        if (resumeBatch >= 0) {
            // the epoch started before the checkpoint; its start hooks ran then
            return;
        }
        epochProgress.incrementReady();
        ctx.hooks.both(Hook.ON_TRAIN_EPOCH_START, c -> c.onTrainEpochStart(ctx.trainer, module),
                module::onTrainEpochStart);
        epochProgress.incrementStarted();
    }

    private void advance() {
        int epoch = (int) epochProgress.current().processed();
        long start = Math.max(resumeBatch, 0);
        boolean resuming = resumeBatch >= 0;
        resumeBatch = -1;
        stoppedMidEpochAt = -1;
        ctx.hooks.start(RUN_TRAINING_EPOCH);
        try (BatchFetcher fetcher = new BatchFetcher(trainLoader.iterator(ctx.batchRoot, epoch, start),
                numTrainingBatches < 0 ? -1 : numTrainingBatches - start, ctx.hooks,
                TrainingEpochLoop.FETCH_ACTION)) {
            epochLoop.run(ctx, this, fetcher, resuming);
        } finally {
            ctx.hooks.stop(RUN_TRAINING_EPOCH);
        }
        long ran = epochLoop.batchProgress().current().processed();
        if (epochLoop.maxStepsReached() && batchesLeft(ran)) {
            stoppedMidEpochAt = ran;
        }
    }

    private void onAdvanceEnd() {
        LightningModule module = ctx.module;
        ctx.trainer.setStage(RunningStage.TRAIN);
        ctx.metrics.activateTraining();
        ctx.metrics.epochEndReached();
        epochProgress.incrementProcessed();
        ctx.hooks.callbacks(Hook.ON_TRAIN_EPOCH_END, false, c -> c.onTrainEpochEnd(ctx.trainer, module));
        ctx.hooks.module(Hook.ON_TRAIN_EPOCH_END, module::onTrainEpochEnd);
        ctx.hooks.callbacks(Hook.ON_TRAIN_EPOCH_END, true, c -> c.onTrainEpochEnd(ctx.trainer, module));
        ctx.metrics.onEpochEnd();
        if (epochLoop.numReadyBatchesReached()) {
            epochLoop.updateLrSchedulers(SchedulerConfig.Interval.EPOCH, true);
        }
        // the epoch's metrics share the x value of its last stepping batch
        ctx.metrics.logTrainEpochMetrics(epochLoop.batchesThatStepped() - 1, ctx.trainer.currentEpoch());
        epochProgress.incrementCompleted();
    }

    private void onRunEnd() {
        LightningModule module = ctx.module;
        ctx.hooks.both(Hook.ON_TRAIN_END, c -> c.onTrainEnd(ctx.trainer, module), module::onTrainEnd);
        for (Logger logger : ctx.trainer.loggers()) {
            logger.save();
        }
    }

    /**
     * Runs the sanity check: a few validation batches before training, whose metrics are discarded.
     *
     * @param context the run
     */
    public void runSanityCheck(RunContext context) {
        long steps = context.config.effectiveNumSanityValSteps();
        if (!validationEnabled || steps <= 0 || resumeBatch >= 0) {
            return;
        }
        RunningStage previous = context.trainer.stage();
        context.trainer.setStage(RunningStage.SANITY_CHECK);
        context.metrics.resetResults();
        context.metrics.resetMetrics();
        LightningModule module = context.module;
        context.hooks.callbacks(Hook.ON_SANITY_CHECK_START, c -> c.onSanityCheckStart(context.trainer, module));
        epochLoop.valLoop().run(context, true);
        context.hooks.callbacks(Hook.ON_SANITY_CHECK_END, c -> c.onSanityCheckEnd(context.trainer, module));
        context.metrics.resetResults();
        context.metrics.resetMetrics();
        epochLoop.valLoop().resetProgress();
        context.trainer.setStage(previous);
    }
}
