package io.github.djllightning.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.trainer.Hook;
import io.github.djllightning.trainer.LightningOptimizer;
import io.github.djllightning.trainer.MisconfigurationException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One batch of automatic optimization: the closure (training step, zero-grad at the start of an accumulation
 * window, backward) run inside the module's {@code optimizerStep}, or alone while accumulating. Lightning's {@code
 * _AutomaticOptimization}.
 */
final class AutomaticOptimization {

    private static final Logger LOG = LoggerFactory.getLogger(AutomaticOptimization.class);

    private final TrainingEpochLoop epochLoop;
    private final OptimizerProgress progress = new OptimizerProgress();
    private boolean warnedNullLoss;

    AutomaticOptimization(TrainingEpochLoop epochLoop) {
        this.epochLoop = epochLoop;
    }

    OptimizerProgress progress() {
        return progress;
    }

    Map<String, Object> run(RunContext ctx, Batch batch, int batchIdx) {
        Optimizer optimizer = ctx.optimizers.get(0);
        LightningOptimizer wrapped = ctx.lightningOptimizers.get(0);
        Closure closure = new Closure(ctx, batch, batchIdx, optimizer);
        if (epochLoop.shouldAccumulate()) {
            closure.run();
        } else {
            progress.step().incrementReady();
            LightningModule module = ctx.module;
            int epoch = ctx.trainer.currentEpoch();
            ctx.hooks.module(Hook.OPTIMIZER_STEP, () -> module.optimizerStep(epoch, batchIdx, wrapped, closure));
            progress.step().incrementCompleted();
        }
        if (!closure.ran) {
            throw new MisconfigurationException(
                    ctx.module.getClass().getSimpleName() + ".optimizerStep did not run the closure it was given;"
                            + " call optimizer.step(closure) in it, so trainingStep and backward run.");
        }
        if (closure.loss == null) {
            return closure.extras.isEmpty() ? Collections.emptyMap() : closure.extras;
        }
        // the loss itself, not a detached copy: its graph is already released by backward, and a copy would cost a
        // native call on every step
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("loss", closure.loss);
        outputs.putAll(closure.extras);
        return outputs;
    }

    /** The training step and its backward pass, run once per batch. */
    private final class Closure implements Runnable {

        private final RunContext ctx;
        private final Batch batch;
        private final int batchIdx;
        private final Optimizer optimizer;
        private boolean ran;
        private NDArray loss;
        private Map<String, Object> extras = Collections.emptyMap();

        Closure(RunContext ctx, Batch batch, int batchIdx, Optimizer optimizer) {
            this.ctx = ctx;
            this.batch = batch;
            this.batchIdx = batchIdx;
            this.optimizer = optimizer;
        }

        @Override
        public void run() {
            if (ran) {
                throw new MisconfigurationException(
                        "The optimizer closure ran twice for batch " + batchIdx + "; optimizerStep must call"
                                + " optimizer.step(closure) once.");
            }
            ran = true;
            LightningModule module = ctx.module;
            Hooks hooks = ctx.hooks;
            ctx.openCollector();
            try {
                Object output = hooks.moduleValue(Hook.TRAINING_STEP, () -> Steps.trainingStep(ctx, batch, batchIdx));
                loss = parseOutput(output);
                int accumulate = ctx.trainer.accumulateGradBatches();
                if (loss != null && accumulate > 1) {
                    loss = loss.div(ctx.trainer.scalar(accumulate));
                }
                if (loss == null && !warnedNullLoss) {
                    warnedNullLoss = true;
                    LOG.warn("trainingStep returned null: backward is skipped for those batches. If this was on"
                            + " purpose, ignore this warning.");
                }
                if (batchIdx % accumulate == 0) {
                    progress.zeroGrad().incrementReady();
                    if (hooks.anyCallback(Hook.ON_BEFORE_ZERO_GRAD)) {
                        hooks.callbacks(
                                Hook.ON_BEFORE_ZERO_GRAD, c -> c.onBeforeZeroGrad(ctx.trainer, module, optimizer));
                    }
                    if (hooks.moduleCalls(Hook.ON_BEFORE_ZERO_GRAD)) {
                        hooks.module(Hook.ON_BEFORE_ZERO_GRAD, () -> module.onBeforeZeroGrad(optimizer));
                    }
                    progress.zeroGrad().incrementStarted();
                    int epoch = ctx.trainer.currentEpoch();
                    hooks.module(Hook.OPTIMIZER_ZERO_GRAD, () -> module.optimizerZeroGrad(epoch, batchIdx, optimizer));
                    ctx.gradientsZeroed();
                    progress.zeroGrad().incrementCompleted();
                }
                if (loss != null) {
                    NDArray value = loss;
                    if (ctx.beforeBackward(value)) {
                        hooks.module(Hook.BACKWARD, () -> module.backward(value));
                        if (hooks.anyCallback(Hook.ON_AFTER_BACKWARD)) {
                            hooks.callbacks(Hook.ON_AFTER_BACKWARD, c -> c.onAfterBackward(ctx.trainer, module));
                        }
                        if (hooks.moduleCalls(Hook.ON_AFTER_BACKWARD)) {
                            hooks.module(Hook.ON_AFTER_BACKWARD, module::onAfterBackward);
                        }
                    }
                }
            } finally {
                ctx.closeCollector();
            }
        }

        private NDArray parseOutput(Object output) {
            if (output == null) {
                return null;
            }
            NDArray value;
            if (output instanceof NDArray) {
                value = (NDArray) output;
            } else if (output instanceof Map) {
                Map<?, ?> map = (Map<?, ?>) output;
                Object candidate = map.get("loss");
                if (!(candidate instanceof NDArray)) {
                    throw new MisconfigurationException(
                            where() + " returned a Map whose \"loss\" entry is "
                                    + (candidate == null ? "missing" : "a " + candidate.getClass().getName())
                                    + " (keys: " + map.keySet() + "). With automatic optimization put the loss"
                                    + " NDArray under \"loss\".");
                }
                value = (NDArray) candidate;
                Map<String, Object> rest = new LinkedHashMap<>();
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    if (!"loss".equals(entry.getKey())) {
                        rest.put(String.valueOf(entry.getKey()), entry.getValue());
                    }
                }
                extras = rest;
            } else {
                throw new MisconfigurationException(
                        where() + " returned a " + output.getClass().getName() + "; return the loss NDArray, a Map"
                                + " with a \"loss\" entry, or null to skip the batch.");
            }
            if (value.size() != 1) {
                throw new MisconfigurationException(
                        where() + " returned a loss of shape " + value.getShape() + "; the loss must be a scalar"
                                + " (one element). Reduce it, e.g. with .mean().");
            }
            return value;
        }

        private String where() {
            return ctx.module.getClass().getSimpleName() + ".trainingStep (epoch " + ctx.trainer.currentEpoch()
                    + ", batch " + batchIdx + ")";
        }
    }
}
