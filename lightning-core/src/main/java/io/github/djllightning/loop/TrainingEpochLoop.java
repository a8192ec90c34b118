package io.github.djllightning.loop;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.log.Logger;
import io.github.djllightning.module.Batches;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.SchedulerConfig;
import io.github.djllightning.trainer.BatchLimit;
import io.github.djllightning.trainer.Hook;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.RunningStage;
import io.github.djllightning.util.EngineSetup;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One training epoch: fetch a batch, run the batch hooks, the optimization and the schedulers, validate when due.
 * Lightning's {@code _TrainingEpochLoop}.
 */
public final class TrainingEpochLoop {

    private static final String RUN_TRAINING_BATCH = "run_training_batch";
    /** The profiler action of fetching a training batch. */
    static final String FETCH_ACTION = "[TrainingEpochLoop].train_dataloader_next";

    private final BatchProgress batchProgress = new BatchProgress();
    private final Progress schedulerProgress = new Progress();
    private final AutomaticOptimization automatic = new AutomaticOptimization(this);
    private final ManualOptimization manual = new ManualOptimization();
    private final EvaluationLoop valLoop = new EvaluationLoop(RunningStage.VALIDATE, false);
    private long batchesThatStepped;
    /** Whether the batch in flight stepped the optimizer and is not yet counted in batchesThatStepped. */
    private boolean stepUncounted;
    /** Whether the batch that just ended stepped the optimizer. */
    private boolean stepCounted;
    private FitLoop fitLoop;
    private RunContext ctx;

    TrainingEpochLoop() {}

    /** Progress over this epoch's batches and over all training batches. */
    public BatchProgress batchProgress() {
        return batchProgress;
    }

    /** Progress of learning-rate scheduler steps. */
    public Progress schedulerProgress() {
        return schedulerProgress;
    }

    /** The optimizer progress of automatic optimization. */
    public OptimizerProgress optimizerProgress() {
        return automatic.progress();
    }

    /** The optimizer-step progress of manual optimization. */
    public Progress manualOptimizerStepProgress() {
        return manual.progress();
    }

    ManualOptimization manualOptimization() {
        return manual;
    }

    /** The validation loop run inside fit. */
    public EvaluationLoop valLoop() {
        return valLoop;
    }

    /** Optimizer-stepping batches so far: the x value of training metrics in the loggers. */
    public long batchesThatStepped() {
        return batchesThatStepped;
    }

    /** The number of optimizer steps: Lightning's {@code global_step}. */
    public long globalStep() {
        boolean manualMode = ctx != null && !ctx.module.isAutomaticOptimization();
        return manualMode
                ? manual.progress().total().completed()
                : automatic.progress().step().total().completed();
    }

    /** The index of the batch in flight within the epoch. */
    public int batchIdx() {
        return (int) batchProgress.current().ready() - 1;
    }

    /** The state of the epoch loop for checkpoints. */
    public Map<String, Object> stateDict() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("batches_that_stepped", batchesThatStepped);
        state.put("batch_progress", batchProgress.stateDict());
        state.put("scheduler_progress", schedulerProgress.stateDict());
        state.put("automatic_optimization.optim_progress", automatic.progress().stateDict());
        state.put("manual_optimization.optim_step_progress", manual.progress().stateDict());
        state.put("val_loop.batch_progress", valLoop.batchProgress().stateDict());
        return state;
    }

    /**
     * The state settled to the last finished batch (see {@link FitLoop#stateDict()}).
     *
     * @param midEpoch whether the run resumes inside the epoch (else at the start of the next one)
     * @param cursor the batches of the epoch that count as done when resuming inside it
     * @param rolledBack batches after the cursor that ran but only accumulated gradients (they run again)
     */
    Map<String, Object> settledStateDict(boolean midEpoch, long cursor, long rolledBack) {
        Map<String, Object> state = stateDict();
        state.put("batches_that_stepped", batchesThatStepped + (stepUncounted && rolledBack == 0 ? 1 : 0));
        @SuppressWarnings("unchecked")
        Map<String, Object> batches = (Map<String, Object>) state.get("batch_progress");
        long current = batchProgress.current().processed();
        FitLoop.settle(batches, "total", batchProgress.total().processed() - current + (midEpoch ? cursor : current));
        FitLoop.settle(batches, "current", midEpoch ? cursor : 0);
        batches.put("is_last_batch", false);
        settleCompleted(state, "scheduler_progress");
        settleCompleted(state, "manual_optimization.optim_step_progress");
        // validation is never resumed part-way; its counters restart with the next validation run
        @SuppressWarnings("unchecked")
        Map<String, Object> validation = (Map<String, Object>) state.get("val_loop.batch_progress");
        FitLoop.settle(validation, "total", 0);
        FitLoop.settle(validation, "current", 0);
        validation.put("is_last_batch", false);
        @SuppressWarnings("unchecked")
        Map<String, Object> optim = (Map<String, Object>) state.get("automatic_optimization.optim_progress");
        settleCompleted(optim, "step");
        settleCompleted(optim, "zero_grad");
        if (rolledBack > 0) {
            // the rolled-back window zeroed the gradients at its first batch; that batch runs again
            @SuppressWarnings("unchecked")
            Map<String, Object> zeroGrad = (Map<String, Object>) optim.get("zero_grad");
            for (String part : new String[] {"total", "current"}) {
                FitLoop.settle(zeroGrad, part, (Long) FitLoop.counters(zeroGrad, part).get("completed") - 1);
            }
        }
        return state;
    }

    @SuppressWarnings("unchecked")
    private static void settleCompleted(Map<String, Object> state, String key) {
        Map<String, Object> progress = (Map<String, Object>) state.get(key);
        for (String part : new String[] {"total", "current"}) {
            FitLoop.settle(progress, part, (Long) FitLoop.counters(progress, part).get("completed"));
        }
    }

    /**
     * Restores {@link #settledStateDict}.
     *
     * @param state the saved state
     */
    void loadStateDict(Map<String, Object> state) {
        Object stepped = state.get("batches_that_stepped");
        if (!(stepped instanceof Number)) {
            throw new IllegalArgumentException("'epoch_loop.batches_that_stepped' is missing or not a number");
        }
        batchProgress.loadStateDict(FitLoop.section(state, "batch_progress"));
        schedulerProgress.loadStateDict(FitLoop.section(state, "scheduler_progress"));
        automatic.progress().loadStateDict(FitLoop.section(state, "automatic_optimization.optim_progress"));
        manual.progress().loadStateDict(FitLoop.section(state, "manual_optimization.optim_step_progress"));
        valLoop.batchProgress().loadStateDict(FitLoop.section(state, "val_loop.batch_progress"));
        batchesThatStepped = ((Number) stepped).longValue();
        stepUncounted = false;
    }

    void run(RunContext context, FitLoop fit, BatchFetcher fetcher, boolean resuming) {
        this.ctx = context;
        this.fitLoop = fit;
        if (!resuming) {
            reset();
        }
        while (!done()) {
            if (!advance(fetcher)) {
                break;
            }
            boolean stepped = stepCounted;
            onAdvanceEnd();
            // a stop waits for a batch that stepped the optimizer (no accumulated gradients to lose), and for the
            // epoch's end hooks when this was its last batch (the fit loop checks again after them)
            if (stepped && !done()) {
                ctx.trainer.checkInterrupt();
            }
        }
    }

    void attach(RunContext context, FitLoop fit) {
        this.ctx = context;
        this.fitLoop = fit;
    }

    private void reset() {
        batchProgress.resetOnRun();
        schedulerProgress.resetOnRun();
        automatic.progress().resetOnRun();
        valLoop.batchProgress().total().reset();
    }

    boolean done() {
        boolean trainingDone = maxStepsReached() || numReadyBatchesReached();
        if (trainingDone) {
            return true;
        }
        if (ctx.trainer.shouldStop()) {
            return fitLoop.canStopEarly();
        }
        return false;
    }

    boolean maxStepsReached() {
        long maxSteps = ctx.config.resolvedMaxSteps();
        return maxSteps != -1 && globalStep() >= maxSteps;
    }

    boolean numReadyBatchesReached() {
        long num = fitLoop.numTrainingBatches();
        return (num >= 0 && batchProgress.current().ready() == num) || batchProgress.isLastBatch();
    }

    /** Whether the batch in flight only accumulates gradients (no optimizer step). */
    boolean shouldAccumulate() {
        int accumulate = ctx.trainer.accumulateGradBatches();
        boolean accumulated = batchProgress.current().ready() % accumulate == 0;
        return !accumulated && !numReadyBatchesReached();
    }

    private boolean advance(BatchFetcher fetcher) {
        Batch fetched = fetcher.next();
        if (fetched == null) {
            return false;
        }
        Batch batch = fetched;
        Hooks hooks = ctx.hooks;
        LightningModule module = ctx.module;
        ctx.lendParameters(fetched.getManager());
        try {
            int batchIdx = (int) batchProgress.current().ready();
            batchProgress.setLastBatch(fetcher.done());
            Long seed = ctx.trainer.runSeed();
            if (seed != null) {
                // before the transfer hooks, which may draw random numbers (augmentation)
                EngineSetup.reseedForBatch(seed, batchProgress.total().ready() + 1);
            }
            batch = Transfers.toDevice(hooks, module, batch, 0);
            batchProgress.incrementReady();
            ctx.metrics.activateTraining();
            ctx.metrics.onBatchStart(Batches.size(batch), null);
            Batch current = batch;
            if (hooks.anyCallback(Hook.ON_TRAIN_BATCH_START)) {
                hooks.callbacks(
                        Hook.ON_TRAIN_BATCH_START, c -> c.onTrainBatchStart(ctx.trainer, module, current, batchIdx));
            }
            int response = hooks.moduleCalls(Hook.ON_TRAIN_BATCH_START)
                    ? hooks.moduleValue(Hook.ON_TRAIN_BATCH_START, () -> module.onTrainBatchStart(current, batchIdx))
                    : 0;
            if (response == LightningModule.END_EPOCH) {
                batchProgress.incrementProcessed();
                return false;
            }
            batchProgress.incrementStarted();
            Map<String, Object> outputs;
            hooks.start(RUN_TRAINING_BATCH);
            try {
                outputs = module.isAutomaticOptimization()
                        ? automatic.run(ctx, current, batchIdx)
                        : manual.run(ctx, current, batchIdx);
            } finally {
                hooks.stop(RUN_TRAINING_BATCH);
            }
            batchProgress.incrementProcessed();
            stepUncounted = !shouldAccumulate();
            updateLrSchedulers(SchedulerConfig.Interval.STEP, false);
            if (numReadyBatchesReached()) {
                updateLrSchedulers(SchedulerConfig.Interval.EPOCH, false);
            }
            Map<String, Object> out = outputs;
            if (hooks.anyCallback(Hook.ON_TRAIN_BATCH_END)) {
                hooks.callbacks(
                        Hook.ON_TRAIN_BATCH_END, c -> c.onTrainBatchEnd(ctx.trainer, module, out, current, batchIdx));
            }
            if (hooks.moduleCalls(Hook.ON_TRAIN_BATCH_END)) {
                hooks.module(Hook.ON_TRAIN_BATCH_END, () -> module.onTrainBatchEnd(out, current, batchIdx));
            }
            // a time limit reached here stops after this batch, and the stop makes its metrics go to the loggers
            ctx.trainer.afterTrainBatch();
            ctx.metrics.onBatchEnd();
            batchProgress.incrementCompleted();
            updateTrainStepMetrics();
            return true;
        } finally {
            ctx.returnParameters();
            batch.close();
            if (batch != fetched) {
                fetched.close();
            }
        }
    }

    private void updateTrainStepMetrics() {
        if (shouldAccumulate() && ctx.module.isAutomaticOptimization()) {
            return;
        }
        if (shouldUpdateLogs() || ctx.config.fastDevRun() > 0) {
            ctx.metrics.logTrainStepMetrics(batchesThatStepped, ctx.trainer.currentEpoch());
        }
    }

    /** Lightning's {@code should_update_logs}: every n-th stepping batch, or when stopping. */
    boolean shouldUpdateLogs() {
        int every = ctx.config.output().logEveryNSteps();
        if (every == 0) {
            return false;
        }
        return (batchesThatStepped + 1) % every == 0 || ctx.trainer.shouldStop();
    }

    private void onAdvanceEnd() {
        if (shouldCheckVal()) {
            ctx.trainer.setStage(RunningStage.VALIDATE);
            if (!shouldAccumulate()) {
                ctx.hooks.module(Hook.ON_VALIDATION_MODEL_ZERO_GRAD, ctx.module::onValidationModelZeroGrad);
            }
            valLoop.run(ctx, false);
            ctx.trainer.setStage(RunningStage.TRAIN);
            ctx.metrics.activateTraining();
        }
        updateLrSchedulers(SchedulerConfig.Interval.STEP, true);
        stepCounted = !shouldAccumulate();
        if (stepCounted) {
            batchesThatStepped++;
        }
        stepUncounted = false;
        if (ctx.trainer.shouldStop()) {
            for (Logger logger : ctx.trainer.loggers()) {
                logger.save();
            }
        }
    }

    /** Whether validation runs in this epoch at all. */
    boolean shouldCheckValEpoch() {
        if (!fitLoop.validationEnabled()) {
            return false;
        }
        Integer every = ctx.config.effectiveCheckValEveryNEpoch();
        return every == null || (ctx.trainer.currentEpoch() + 1) % every == 0;
    }

    private boolean shouldCheckVal() {
        if (!shouldCheckValEpoch()) {
            return false;
        }
        long valCheckBatch = fitLoop.valCheckBatch();
        boolean infinite = valCheckBatch == FitLoop.INFINITE;
        boolean lastBatch = batchProgress.isLastBatch();
        if (lastBatch && infinite) {
            return true;
        }
        if (ctx.trainer.shouldStop() && fitLoop.canStopEarly()) {
            return true;
        }
        boolean check = lastBatch;
        BatchLimit limitTrain = ctx.config.effectiveLimitTrain();
        if (!limitTrain.isFraction() && infinite) {
            check = (batchIdx() + 1) % limitTrain.count() == 0;
        } else if (!infinite) {
            long current = ctx.config.effectiveCheckValEveryNEpoch() == null
                    ? batchProgress.total().ready() - 1
                    : batchIdx();
            check = (current + 1) % valCheckBatch == 0;
        }
        return check;
    }

    /**
     * Steps the schedulers whose interval matches, Lightning's {@code _update_learning_rates}.
     *
     * @param interval step or epoch
     * @param plateau whether to step the plateau schedulers (true) or the others (false)
     */
    void updateLrSchedulers(SchedulerConfig.Interval interval, boolean plateau) {
        if (interval == SchedulerConfig.Interval.STEP && shouldAccumulate()) {
            return;
        }
        if (ctx.schedulers.isEmpty() || !ctx.module.isAutomaticOptimization()) {
            return;
        }
        for (SchedulerConfig config : ctx.schedulers) {
            if (plateau != config.reduceOnPlateau()) {
                continue;
            }
            long index = (interval == SchedulerConfig.Interval.STEP ? batchIdx() : ctx.trainer.currentEpoch()) + 1;
            if (config.interval() != interval || index % config.frequency() != 0) {
                continue;
            }
            Double metric = null;
            if (config.reduceOnPlateau()) {
                metric = ctx.trainer.callbackMetrics().get(config.monitor());
                if (metric == null) {
                    if (config.strict()) {
                        throw new MisconfigurationException(
                                "ReduceLROnPlateau monitors '" + config.monitor() + "', which is not available."
                                        + " Available metrics are: " + ctx.trainer.callbackMetrics().keySet()
                                        + ". Log it with log(\"" + config.monitor() + "\", ...) or fix the monitor"
                                        + " of the SchedulerConfig (or set strict(false) to skip).");
                    }
                    org.slf4j.LoggerFactory.getLogger(TrainingEpochLoop.class).warn(
                            "ReduceLROnPlateau monitors '{}', which is not available; strict is false, so the"
                                    + " learning rate is not updated.",
                            config.monitor());
                    continue;
                }
            }
            schedulerProgress.incrementReady();
            Double value = metric;
            ctx.hooks.module(Hook.LR_SCHEDULER_STEP, () -> ctx.module.lrSchedulerStep(config.scheduler(), value));
            schedulerProgress.incrementCompleted();
        }
    }

}
