package io.github.djllightning.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.trainer.Hook;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One batch of manual optimization: the training step runs with gradients recorded and steps the optimizers itself
 * (through {@code optimizers()} and {@code manualBackward}). Lightning's {@code _ManualOptimization}.
 */
final class ManualOptimization {

    private final Progress progress = new Progress();

    /** Optimizer steps taken by the module; {@code total.completed} is the global step. */
    Progress progress() {
        return progress;
    }

    void stepStarted() {
        progress.incrementReady();
    }

    void stepCompleted() {
        progress.incrementCompleted();
    }

    Map<String, Object> run(RunContext ctx, Batch batch, int batchIdx) {
        ctx.openCollector();
        Object output;
        try {
            output = ctx.hooks.moduleValue(Hook.TRAINING_STEP, () -> Steps.trainingStep(ctx, batch, batchIdx));
        } finally {
            ctx.closeCollector();
        }
        if (output == null) {
            return Collections.emptyMap();
        }
        if (output instanceof NDArray) {
            Map<String, Object> outputs = new LinkedHashMap<>();
            outputs.put("loss", ((NDArray) output).stopGradient());
            return outputs;
        }
        if (output instanceof Map) {
            Map<String, Object> outputs = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) output).entrySet()) {
                outputs.put(String.valueOf(entry.getKey()), entry.getValue());
            }
            return outputs;
        }
        Map<String, Object> outputs = new LinkedHashMap<>();
        outputs.put("output", output);
        return outputs;
    }
}
