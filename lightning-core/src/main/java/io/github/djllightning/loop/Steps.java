package io.github.djllightning.loop;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDList;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.trainer.LightningException;

/**
 * Runs the module's steps and turns engine failures (a bad shape reaching a layer, say) into errors that say which
 * step, epoch and batch failed and what the batch looked like.
 */
final class Steps {

    private Steps() {}

    static Object trainingStep(RunContext ctx, Batch batch, int batchIdx) {
        try {
            return ctx.module.trainingStep(batch, batchIdx);
        } catch (EngineException | IllegalArgumentException | IllegalStateException e) {
            throw failure(ctx, "trainingStep", batch, batchIdx, e);
        }
    }

    static Object validationStep(RunContext ctx, Batch batch, int batchIdx, int dataloaderIdx) {
        try {
            return ctx.module.validationStep(batch, batchIdx, dataloaderIdx);
        } catch (EngineException | IllegalArgumentException | IllegalStateException e) {
            throw failure(ctx, "validationStep", batch, batchIdx, e);
        }
    }

    static Object testStep(RunContext ctx, Batch batch, int batchIdx, int dataloaderIdx) {
        try {
            return ctx.module.testStep(batch, batchIdx, dataloaderIdx);
        } catch (EngineException | IllegalArgumentException | IllegalStateException e) {
            throw failure(ctx, "testStep", batch, batchIdx, e);
        }
    }

    static Object predictStep(RunContext ctx, Batch batch, int batchIdx, int dataloaderIdx) {
        try {
            return ctx.module.predictStep(batch, batchIdx, dataloaderIdx);
        } catch (EngineException | IllegalArgumentException | IllegalStateException e) {
            throw failure(ctx, "predictStep", batch, batchIdx, e);
        }
    }

    private static RuntimeException failure(
            RunContext ctx, String step, Batch batch, int batchIdx, RuntimeException e) {
        if (e instanceof LightningException) {
            return e;
        }
        return new LightningException(
                ctx.module.getClass().getSimpleName() + "." + step + " failed at epoch "
                        + ctx.trainer.currentEpoch() + ", batch " + batchIdx + " (batch data shapes "
                        + shapes(batch.getData()) + ", labels " + shapes(batch.getLabels()) + "): " + e.getMessage()
                        + (e instanceof EngineException
                                ? ". Check that the batch has the shape and type the layers expect."
                                : ""),
                e);
    }

    private static String shapes(NDList list) {
        return list == null ? "[]" : list.getShapes().length == 0 ? "[]" : java.util.Arrays.toString(list.getShapes());
    }
}
