package io.github.djllightning.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.BatchLimit;
import io.github.djllightning.trainer.Hook;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/** Prediction over one or several loaders, gradients off, keeping the predictions. Lightning's {@code _PredictionLoop}. */
public final class PredictionLoop {

    private final BatchProgress batchProgress = new BatchProgress();
    private List<Long> maxBatches = List.of();

    /** The batches per loader of the running or last prediction (after limits; -1: unknown). */
    public List<Long> maxBatches() {
        return maxBatches;
    }

    /** Progress over the prediction batches. */
    public BatchProgress batchProgress() {
        return batchProgress;
    }

    /**
     * Runs prediction.
     *
     * @param ctx the run
     * @param keep where kept predictions' arrays go, or null not to keep them
     * @return per loader, the predictions of each batch (empty lists when not kept)
     */
    public List<List<Object>> run(RunContext ctx, NDManager keep) {
        BatchLimit limit = ctx.config.effectiveLimitPredict();
        List<DataLoader> loaders = limit.isZero() ? List.of() : ctx.predict.loaders(ctx.hooks);
        long[] limits = new long[loaders.size()];
        List<Long> perLoader = new ArrayList<>();
        long sum = 0;
        for (int i = 0; i < loaders.size(); i++) {
            limits[i] = limit.resolve(loaders.get(i).numBatches(), "limitPredictBatches");
            perLoader.add(limits[i]);
            sum += limits[i] < 0 ? 1 : limits[i];
        }
        maxBatches = List.copyOf(perLoader);
        List<List<Object>> predictions = new ArrayList<>();
        if (sum == 0) {
            return predictions;
        }
        batchProgress.resetOnRun();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        LightningModule module = ctx.module;
        Hooks hooks = ctx.hooks;
        boolean wasTraining = module.isTraining();
        try {
            hooks.module(Hook.ON_PREDICT_MODEL_EVAL, module::onPredictModelEval);
            hooks.both(Hook.ON_PREDICT_START, c -> c.onPredictStart(ctx.trainer, module), module::onPredictStart);
            hooks.both(Hook.ON_PREDICT_EPOCH_START, c -> c.onPredictEpochStart(ctx.trainer, module),
                    module::onPredictEpochStart);
            for (int i = 0; i < loaders.size(); i++) {
                List<Object> kept = new ArrayList<>();
                predictions.add(kept);
                if (limits[i] == 0) {
                    continue;
                }
                try (BatchFetcher fetcher = new BatchFetcher(
                        loaders.get(i).iterator(ctx.batchRoot, 0, 0), limits[i], hooks,
                        "[PredictionLoop].predict_next")) {
                    int batchIdx = 0;
                    Batch batch;
                    while ((batch = fetcher.next()) != null) {
                        batchProgress.setLastBatch(fetcher.done());
                        predictStep(ctx, batch, batchIdx++, i, keep, kept);
                    }
                }
            }
            hooks.both(Hook.ON_PREDICT_EPOCH_END, c -> c.onPredictEpochEnd(ctx.trainer, module),
                    module::onPredictEpochEnd);
            hooks.both(Hook.ON_PREDICT_END, c -> c.onPredictEnd(ctx.trainer, module), module::onPredictEnd);
        } finally {
            JniUtils.setGradMode(gradMode);
            if (wasTraining) {
                module.train();
            } else {
                module.eval();
            }
        }
        return predictions;
    }

    private void predictStep(
            RunContext ctx, Batch fetched, int batchIdx, int dlIdx, NDManager keep, List<Object> kept) {
        LightningModule module = ctx.module;
        Hooks hooks = ctx.hooks;
        Batch batch = fetched;
        ctx.lendParameters(fetched.getManager());
        try {
            batch = Transfers.toDevice(hooks, module, batch, dlIdx);
            Batch current = batch;
            batchProgress.incrementReady();
            hooks.both(Hook.ON_PREDICT_BATCH_START,
                    c -> c.onPredictBatchStart(ctx.trainer, module, current, batchIdx, dlIdx),
                    () -> module.onPredictBatchStart(current, batchIdx, dlIdx));
            batchProgress.incrementStarted();
            Object output = hooks.moduleValue(
                    Hook.PREDICT_STEP, () -> Steps.predictStep(ctx, current, batchIdx, dlIdx));
            batchProgress.incrementProcessed();
            if (keep != null) {
                moveTo(output, keep);
                kept.add(output);
            }
            hooks.both(Hook.ON_PREDICT_BATCH_END,
                    c -> c.onPredictBatchEnd(ctx.trainer, module, output, current, batchIdx, dlIdx),
                    () -> module.onPredictBatchEnd(output, current, batchIdx, dlIdx));
            batchProgress.incrementCompleted();
        } finally {
            ctx.returnParameters();
            batch.close();
            if (batch != fetched) {
                fetched.close();
            }
        }
    }

    /** Moves every array in a prediction out of the batch's memory, so it outlives the step. */
    private static void moveTo(Object output, NDManager keep) {
        if (output instanceof NDArray) {
            ((NDArray) output).attach(keep);
        } else if (output instanceof NDList) {
            ((NDList) output).attach(keep);
        } else if (output instanceof Map) {
            for (Object value : ((Map<?, ?>) output).values()) {
                moveTo(value, keep);
            }
        } else if (output instanceof Collection) {
            for (Object value : (Collection<?>) output) {
                moveTo(value, keep);
            }
        }
    }
}
