package io.github.djllightning.loop;

import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.Batches;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.BatchLimit;
import io.github.djllightning.trainer.Hook;
import io.github.djllightning.trainer.RunningStage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Validation or test over one or several loaders, one after the other, with gradients off. Lightning's {@code
 * _EvaluationLoop}: used for the sanity check, for validation inside fit, and by {@code validate} and {@code test}.
 */
public final class EvaluationLoop {

    private final RunningStage stage;
    private final boolean verbose;
    private final BatchProgress batchProgress = new BatchProgress();
    private List<DataLoader> loaders;
    private long[] maxBatches;
    private boolean hasRun;

    /**
     * Creates a loop.
     *
     * @param stage {@link RunningStage#VALIDATE} or {@link RunningStage#TEST}
     * @param verbose whether to print the results table at the end
     */
    public EvaluationLoop(RunningStage stage, boolean verbose) {
        this.stage = stage;
        this.verbose = verbose;
    }

    /** Progress over the evaluation batches. */
    public BatchProgress batchProgress() {
        return batchProgress;
    }

    /** Whether a (non-sanity) run happened in this fit. */
    public boolean hasRun() {
        return hasRun;
    }

    /** The batches per loader after limits (-1: unknown), or null before the first run. */
    public List<Long> maxBatches() {
        if (maxBatches == null) {
            return null;
        }
        List<Long> out = new ArrayList<>();
        for (long n : maxBatches) {
            out.add(n);
        }
        return out;
    }

    /** Forgets the loaders, so the next run requests them again. */
    public void resetData() {
        loaders = null;
        maxBatches = null;
    }

    void resetProgress() {
        batchProgress.total().reset();
        batchProgress.current().reset();
    }

    private boolean testing() {
        return stage == RunningStage.TEST;
    }

    /**
     * Requests the loaders when not done yet and works out how many batches of each to use.
     *
     * @param ctx the run
     */
    public void setupData(RunContext ctx) {
        if (loaders != null) {
            return;
        }
        DataSource source = testing() ? ctx.test : ctx.val;
        BatchLimit limit = testing() ? ctx.config.effectiveLimitTest() : ctx.config.effectiveLimitVal();
        String flag = testing() ? "limitTestBatches" : "limitValBatches";
        loaders = limit.isZero() ? List.of() : source.loaders(ctx.hooks);
        maxBatches = new long[loaders.size()];
        for (int i = 0; i < loaders.size(); i++) {
            DataLoader loader = loaders.get(i);
            if (!ctx.config.batches().overfitBatches().isZero() && loader.shuffle()) {
                loader = loader.withoutShuffle();
                loaders = new ArrayList<>(loaders);
                loaders.set(i, loader);
            }
            maxBatches[i] = limit.resolve(loader.numBatches(), flag);
        }
    }

    /**
     * Runs validation or test over all loaders.
     *
     * @param ctx the run
     * @param sanity whether this is the sanity check (few batches, nothing logged)
     * @return per loader, the metrics sent to the loggers (converted to numbers)
     */
    public List<Map<String, Double>> run(RunContext ctx, boolean sanity) {
        setupData(ctx);
        long[] limits = maxBatches.clone();
        if (sanity) {
            long steps = ctx.config.effectiveNumSanityValSteps();
            for (int i = 0; i < limits.length; i++) {
                limits[i] = limits[i] < 0 ? steps : Math.min(steps, limits[i]);
            }
        }
        long sum = 0;
        for (long n : limits) {
            sum += n < 0 ? 1 : n;
        }
        if (sum == 0) {
            return List.of();
        }
        batchProgress.resetOnRun();
        hasRun = false;
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return runLoaders(ctx, limits, sanity);
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    private List<Map<String, Double>> runLoaders(RunContext ctx, long[] limits, boolean sanity) {
        LightningModule module = ctx.module;
        Hooks hooks = ctx.hooks;
        ctx.metrics.activateEvaluation();
        boolean wasTraining = module.isTraining();
        hooks.module(testing() ? Hook.ON_TEST_MODEL_EVAL : Hook.ON_VALIDATION_MODEL_EVAL,
                testing() ? module::onTestModelEval : module::onValidationModelEval);
        if (testing()) {
            hooks.both(Hook.ON_TEST_START, c -> c.onTestStart(ctx.trainer, module), module::onTestStart);
            hooks.both(Hook.ON_TEST_EPOCH_START, c -> c.onTestEpochStart(ctx.trainer, module),
                    module::onTestEpochStart);
        } else {
            hooks.both(Hook.ON_VALIDATION_START, c -> c.onValidationStart(ctx.trainer, module),
                    module::onValidationStart);
            hooks.both(Hook.ON_VALIDATION_EPOCH_START, c -> c.onValidationEpochStart(ctx.trainer, module),
                    module::onValidationEpochStart);
        }
        boolean several = loaders.size() > 1;
        List<Map<String, Object>> loggedOutputs = new ArrayList<>();
        String fetchAction = "[EvaluationLoop]." + (testing() ? "test" : "val") + "_next";
        for (int i = 0; i < loaders.size(); i++) {
            Integer loaderIdx = several ? i : null;
            if (limits[i] != 0) {
                int epoch = (int) ctx.trainer.fitLoop().epochProgress().current().processed();
                try (BatchFetcher fetcher = new BatchFetcher(
                        loaders.get(i).iterator(ctx.batchRoot, epoch, 0), limits[i], hooks, fetchAction)) {
                    long seen = 0;
                    Batch batch;
                    while ((batch = fetcher.next()) != null) {
                        batchProgress.setLastBatch(fetcher.done());
                        evaluationStep(ctx, batch, (int) seen, i, loaderIdx, sanity);
                        seen++;
                        if (!fetcher.done()) {
                            // a stop requested during a long validation in fit does not wait for its end
                            ctx.trainer.checkInterrupt();
                        }
                    }
                }
            }
            ctx.metrics.epochEndReached();
            loggedOutputs.add(ctx.metrics.evalEpochMetrics(loaderIdx, sanity));
        }
        return onRunEnd(ctx, loggedOutputs, sanity, wasTraining);
    }

    private void evaluationStep(
            RunContext ctx, Batch fetched, int batchIdx, int dlIdx, Integer loaderIdx, boolean sanity) {
        LightningModule module = ctx.module;
        Hooks hooks = ctx.hooks;
        Batch batch = fetched;
        ctx.lendParameters(fetched.getManager());
        try {
            batch = Transfers.toDevice(hooks, module, batch, dlIdx);
            Batch current = batch;
            batchProgress.incrementReady();
            ctx.metrics.onBatchStart(Batches.size(batch), loaderIdx);
            Object output;
            if (testing()) {
                hooks.both(Hook.ON_TEST_BATCH_START,
                        c -> c.onTestBatchStart(ctx.trainer, module, current, batchIdx, dlIdx),
                        () -> module.onTestBatchStart(current, batchIdx, dlIdx));
                batchProgress.incrementStarted();
                output = hooks.moduleValue(Hook.TEST_STEP, () -> Steps.testStep(ctx, current, batchIdx, dlIdx));
                batchProgress.incrementProcessed();
                Object out = output;
                hooks.both(Hook.ON_TEST_BATCH_END,
                        c -> c.onTestBatchEnd(ctx.trainer, module, out, current, batchIdx, dlIdx),
                        () -> module.onTestBatchEnd(out, current, batchIdx, dlIdx));
            } else {
                hooks.both(Hook.ON_VALIDATION_BATCH_START,
                        c -> c.onValidationBatchStart(ctx.trainer, module, current, batchIdx, dlIdx),
                        () -> module.onValidationBatchStart(current, batchIdx, dlIdx));
                batchProgress.incrementStarted();
                output = hooks.moduleValue(
                        Hook.VALIDATION_STEP, () -> Steps.validationStep(ctx, current, batchIdx, dlIdx));
                batchProgress.incrementProcessed();
                Object out = output;
                hooks.both(Hook.ON_VALIDATION_BATCH_END,
                        c -> c.onValidationBatchEnd(ctx.trainer, module, out, current, batchIdx, dlIdx),
                        () -> module.onValidationBatchEnd(out, current, batchIdx, dlIdx));
            }
            ctx.metrics.onBatchEnd();
            batchProgress.incrementCompleted();
            if (!sanity) {
                hasRun = true;
                ctx.metrics.logEvalStepMetrics(loaderIdx, batchIdx);
            }
        } finally {
            ctx.returnParameters();
            batch.close();
            if (batch != fetched) {
                fetched.close();
            }
        }
    }

    private List<Map<String, Double>> onRunEnd(
            RunContext ctx, List<Map<String, Object>> loggedOutputs, boolean sanity, boolean wasTraining) {
        LightningModule module = ctx.module;
        Hooks hooks = ctx.hooks;
        ctx.metrics.epochEndReached();
        ctx.metrics.setDataloaderIdx(null);
        if (testing()) {
            hooks.both(Hook.ON_TEST_EPOCH_END, c -> c.onTestEpochEnd(ctx.trainer, module), module::onTestEpochEnd);
        } else {
            hooks.both(Hook.ON_VALIDATION_EPOCH_END, c -> c.onValidationEpochEnd(ctx.trainer, module),
                    module::onValidationEpochEnd);
        }
        ctx.metrics.onEpochEnd();
        Map<String, Object> epochEnd = ctx.metrics.evalEpochMetrics(null, sanity);
        Map<String, Object> all = new LinkedHashMap<>();
        for (Map<String, Object> outputs : loggedOutputs) {
            all.putAll(outputs);
            outputs.putAll(epochEnd);
        }
        all.putAll(epochEnd);
        if (!sanity) {
            ctx.metrics.logMetrics(
                    all, ctx.trainer.fitLoop().epochLoop().batchesThatStepped(), ctx.trainer.currentEpoch());
        }
        List<Map<String, Double>> results = new ArrayList<>();
        for (Map<String, Object> outputs : loggedOutputs) {
            results.add(ctx.metrics.toNumbers(outputs));
        }
        if (testing()) {
            hooks.both(Hook.ON_TEST_END, c -> c.onTestEnd(ctx.trainer, module), module::onTestEnd);
        } else {
            hooks.both(Hook.ON_VALIDATION_END, c -> c.onValidationEnd(ctx.trainer, module), module::onValidationEnd);
        }
        ctx.metrics.resetResults();
        restoreMode(ctx, wasTraining);
        if (verbose && !sanity) {
            ResultsTable.print(results, testing() ? "Test" : "Validate");
        }
        return results;
    }

    private void restoreMode(RunContext ctx, boolean wasTraining) {
        LightningModule module = ctx.module;
        String hook = testing() ? "onTestModelTrain" : "onValidationModelTrain";
        if (Overrides.overrides(module, LightningModule.class, hook)) {
            ctx.hooks.module(testing() ? Hook.ON_TEST_MODEL_TRAIN : Hook.ON_VALIDATION_MODEL_TRAIN,
                    testing() ? module::onTestModelTrain : module::onValidationModelTrain);
        } else if (wasTraining) {
            module.train();
        } else {
            module.eval();
        }
    }
}
